"""The M3E suite's results: results.json, results.md (Figs. 4, 5, 6, 8 as tables, the retransmission check and the
fills between keyframes) and figures/fig{4,5,6,8}.png; every number is a mean over the clips (calls) or sentences
(text) of a cell, or (fills) one clip's frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from semtalk.bench.curves import mean_of

FIGURES = {  # name → (tables, metric, y label)
    "fig4_bits_per_gop": (("call", "h265"), "bits_per_gop", "bits per GOP"),
    "fig5_text_similarity": (("text",), "similarity", "semantic similarity (eq. 9)"),
    "fig6_frame_psnr": (("call", "h265", "image"), "psnr", "PSNR (dB)"),
    "fig8_timbre": (("call",), "speaker_similarity", "timbre (speaker similarity)"),
}
LABELS = {"m3e": "M3E-VSC", "h265_qpsk": "H.265 + LDPC 3/4 + QPSK", "h265_16qam": "H.265 + LDPC 3/4 + 16-QAM",
          "jpeg": "JPEG + LDPC 3/4 + 16-QAM", "learned": "learned text coder",
          "learned_check": "learned + check (ξ_min)",
          "learned_matched": "learned at Huffman's channel uses",
          "learned_matched_check": "learned at Huffman's uses + check", "huffman": "Huffman + LDPC 1/2 + QPSK",
          "5bit": "5-bit + LDPC 1/2 + QPSK", "brotli": "Brotli + LDPC 1/2 + QPSK",
          "huffman_16qam34": "Huffman + LDPC 3/4 + 16-QAM", "5bit_16qam34": "5-bit + LDPC 3/4 + 16-QAM",
          "brotli_16qam34": "Brotli + LDPC 3/4 + 16-QAM"}


def _system(r: dict) -> str:
    return r.get("system") or ("jpeg" if r["method"] == "jpeg_radio" else r["method"])


def curves(rows: list[dict], tables: tuple[str, ...], metric: str) -> dict[tuple[str, str], dict[float, float]]:
    """(channel, system) → {SNR: mean of ``metric``} over the ok rows of ``tables``."""
    acc: dict[tuple[str, str], dict[float, list]] = {}
    for r in rows:
        if r.get("status") == "ok" and r.get("table") in tables and r.get(metric) is not None:
            acc.setdefault((r["channel"], _system(r)), {}).setdefault(r["snr"], []).append(r[metric])
    return {k: {s: mean_of(v) for s, v in sorted(pts.items())} for k, pts in sorted(acc.items())}


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def curve_table(data: dict[tuple[str, str], dict[float, float]], digits: int) -> str:
    snrs = sorted({s for pts in data.values() for s in pts})
    lines = ["| channel | system | " + " | ".join(f"{s:g} dB" for s in snrs) + " |",
             "|---|---|" + "---|" * len(snrs)]
    lines += [f"| {ch} | {LABELS.get(sy, sy)} | " + " | ".join(_fmt(pts.get(s), digits) for s in snrs) + " |"
              for (ch, sy), pts in data.items()]
    return "\n".join(lines)


def retransmission_table(rows: list[dict]) -> str:
    """Per channel and SNR, the check's effect on the learned coder: the fraction of sentences at or above ξ_min
    (true eq. 9) without and with it, the check's recall and false alarms, resends, feedback bits, extra channel
    uses and the delay it adds (50 ms one way)."""
    lines = ["| channel | system | SNR | ≥ ξ_min first | ≥ ξ_min after | similarity first → after | recall | "
             "false alarms | resends | feedback bits | extra channel uses | added delay (ms) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted((r for r in rows if r.get("status") == "ok" and r.get("table") == "text"
                     and str(r.get("system", "")).endswith("_check")),
                    key=lambda r: (r["channel"], r["system"], r["snr"])):
        lines.append(f"| {r['channel']} | {LABELS.get(r['system'], r['system'])} | {r['snr']:g} | "
                     f"{_fmt(r['above_xi_first'])} | {_fmt(r['above_xi'])} | {_fmt(r['similarity_first'])} → "
                     f"{_fmt(r['similarity'])} | {_fmt(r['check_recall'])} | {_fmt(r['check_false_alarms'])} | "
                     f"{r['resends']} | {r['feedback_bits']} | {_fmt(r['extra_channel_uses'], 2)} | "
                     f"{_fmt(r['added_delay_ms_mean'], 0)} |")
    return "\n".join(lines)


def fill_table(rows: list[dict]) -> str:
    """Per clip and fill (``bench.m3e_fill``), then the mean over the clips: in-between and all-frame PSNR / SSIM,
    keyframes (mean GOP), the keyframes' kbps and the fill's extra kbps; empty without fill rows."""
    from semtalk.bench.m3e_fill import FILLS

    ok = [r for r in rows if r.get("status") == "ok" and r.get("table") == "fill"
          and r.get("psnr_between") is not None]
    if not ok:
        return ""
    cols = ("psnr_between", "ssim_between", "psnr", "ssim", "keyframes", "gop_frames_mean", "keyframe_kbps",
            "extra_kbps")
    order = {f: i for i, f in enumerate(FILLS)}
    ok.sort(key=lambda r: (r["clip"], order.get(r["system"], len(FILLS)), r["system"]))
    systems = sorted({r["system"] for r in ok}, key=lambda s: (order.get(s, len(FILLS)), s))
    means = [{"clip": "mean", "system": s, **{c: mean_of([r[c] for r in ok if r["system"] == s]) for c in cols}}
             for s in systems] if len({r["clip"] for r in ok}) > 1 else []
    lines = ["| clip | fill | PSNR between (dB) | SSIM between | PSNR all (dB) | SSIM all | keyframes (GOP) | "
             "keyframe kbps | extra kbps |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {Path(r['clip']).stem} | {r['system']} | {r['psnr_between']:.2f} | {r['ssim_between']:.4f} | "
              f"{r['psnr']:.2f} | {r['ssim']:.4f} | {r['keyframes']:.4g} ({r['gop_frames_mean']:.1f}) | "
              f"{r['keyframe_kbps']:.1f} | {r['extra_kbps']:.2f} |" for r in ok + means]
    return "\n".join(lines)


def write_all(rows: list[dict], out: Path, description: str = "") -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "md": out / "results.md"}
    paths["json"].write_text(json.dumps(rows, indent=1))
    failed = [r for r in rows if r.get("status") != "ok"]
    md = [f"# M3E-VSC against its baselines ({len(rows) - len(failed)} cells ok, {len(failed)} failed)\n",
          description + "\n" if description else ""]
    for name, (tables, metric, label) in FIGURES.items():
        data = curves(rows, tables, metric)
        if data:
            md.append(f"## {name.split('_')[0].capitalize().replace('fig', 'Fig. ')}: {label} against SNR\n\n"
                      f"{curve_table(data, 0 if metric == 'bits_per_gop' else 3)}\n")
    md.append(f"## The receiver's check and retransmissions\n\n{retransmission_table(rows)}\n")
    fills = fill_table(rows)
    if fills:
        md.append("## Between keyframes: what each fill contributes (issue 22, item 5)\n\nThe call's keyframes "
                  "on a clean channel; PSNR / SSIM on luma against the sender's crops, over the frames strictly "
                  "between keyframes and over every held-out frame; extra kbps: the face coefficients, SyncSC's "
                  f"stream.\n\n{fills}\n")
    calls = curves(rows, ("call",), "channel_uses")
    if calls:
        md.append(f"## Channel uses of a whole call\n\n{curve_table(calls, 0)}\n")
    md += [f"- failed: {r['method']} {r['clip']} {r['config']}: {r['error']}" for r in failed]
    paths["md"].write_text("\n".join(md) + "\n")
    paths.update(make_figures(rows, out / "figures"))
    return paths


def make_figures(rows: list[dict], out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    for name, (tables, metric, label) in FIGURES.items():
        data = curves(rows, tables, metric)
        channels = sorted({ch for ch, _ in data})
        if not channels:
            continue
        fig, axes = plt.subplots(1, len(channels), figsize=(5.5 * len(channels), 4), squeeze=False)
        for ax, ch in zip(axes[0], channels, strict=True):
            for (c, system), pts in data.items():
                if c == ch:
                    ax.plot(list(pts), list(pts.values()), "o-" if system.startswith(("m3e", "learned")) else "s--",
                            label=LABELS.get(system, system), markersize=4)
            ax.set_xlabel(f"Es/N0 (dB), {ch}")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        made[name] = out / f"{name}.png"
        fig.savefig(made[name], dpi=100)
        plt.close(fig)
    return made
