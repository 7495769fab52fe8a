"""Results of the Wav2Vid suite: results.json (one row per cell), results.md (Table II and metric × SNR tables),
figures and one self-contained report.html.

Curves are means over clips at each (system, SNR). PESQ-WB of a silent output (the cliff of a digital carrier) is
undefined, None in the call's report: the cells give it as the floor 1.0 (``bench.wav2vid.PESQ_FLOOR``) with
``pesq_floor`` set, and the tables mark it ``*``.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from semtalk.bench.report_html import STYLE, figure_html, markdown_table_html

ORDER = ("wav2vid_opus", "wav2vid_asc", "txt2vid", "syncsc")
Curves = dict[str, dict[float, tuple[float, bool]]]  # label → snr → (mean, some clip was floored)


def label(row: dict) -> str:
    """A curve row's system, with what carried it."""
    system = row.get("system", row["method"])
    if system == "wav2vid_opus":
        return f"Wav2Vid, Opus {row.get('audio_kbps') or 8:g} kbps + {row['modulation']} LDPC {row['ldpc_rate']:g}"
    if system == "wav2vid_asc":
        return "Wav2Vid, ASC (analog)"
    if system == "txt2vid":
        return f"Txt2Vid-like (words at {row['modulation']} LDPC {row['ldpc_rate']:g})"
    if system == "syncsc":
        return f"SyncSC (semtalk, {row['modulation']} LDPC {row['ldpc_rate']:g})"
    return system


def _order(row: dict) -> int:
    system = row.get("system", "")
    return ORDER.index(system) if system in ORDER else len(ORDER)


def curves(rows: list[dict], metric: str) -> Curves:
    """label → snr → (mean of ``metric`` over the clips that have it, whether a PESQ floor is in the mean)."""
    acc: dict[str, dict[float, list[tuple[float, bool]]]] = defaultdict(lambda: defaultdict(list))
    ranks: dict[str, int] = {}
    for r in rows:
        value = r.get(metric)
        if r["status"] != "ok" or r.get("table") != "curve" or value is None or not math.isfinite(value):
            continue
        lab = label(r)
        ranks[lab] = _order(r)
        acc[lab][r["snr"]].append((float(value), bool(metric == "pesq_wb" and r.get("pesq_floor"))))
    return {lab: {s: (sum(v for v, _ in pts) / len(pts), any(f for _, f in pts)) for s, pts in sorted(by.items())}
            for lab, by in sorted(acc.items(), key=lambda item: (ranks[item[0]], item[0]))}


CURVE_TABLES: list[tuple[str, str, int]] = [  # title, metric, digits
    ("Fig. 5: PESQ-WB of the received audio vs SNR (* : a silent output scored as the floor 1.0)", "pesq_wb", 2),
    ("STOI of the received audio vs SNR", "stoi", 3),
    ("Re-ASR WER of the received audio vs SNR", "wer", 3),
    ("Fig. 6: video PSNR (dB) vs SNR (held-out frames)", "psnr", 2),
    ("Fig. 6: video SSIM vs SNR", "ssim", 3),
    ("Fig. 7: video MS-SSIM vs SNR", "ms_ssim", 3),
    ("Fig. 7: video VMAF vs SNR", "vmaf", 1),
    ("Mouth-opening correlation with the original (generated frames)", "mouth_correlation", 3),
    ("Audio channel uses per second (complex symbols/s as the call counts them: Opus with its RTP headers, CRC and "
     "LDPC; ASC its analog symbols)", "audio_symbols_per_s", 0),
    ("Packet loss after LDPC + CRC (whole call; Txt2Vid: its words)", "packet_loss", 3),
    ("Audio packet loss (Wav2Vid's audio stream; an ASC packet is never lost, only noisy)", "audio_packet_loss", 3),
    ("Share of frames sent as clips (Wav2Vid)", "frames_sent_fraction", 3),
]


def curve_tables(rows: list[dict]) -> dict[str, str]:
    """Markdown tables keyed by title: a row per system, a column per SNR."""
    out = {}
    for title, metric, digits in CURVE_TABLES:
        data = curves(rows, metric)
        if not data:
            continue
        snrs = sorted({s for pts in data.values() for s in pts})
        lines = ["| system | " + " | ".join(f"{s:g} dB" for s in snrs) + " |", "|---" * (len(snrs) + 1) + "|"]
        lines += ["| " + lab + " | " + " | ".join(_cell(pts.get(s), digits) for s in snrs) + " |"
                  for lab, pts in data.items()]
        out[title] = "\n".join(lines)
    return out


def _cell(point: tuple[float, bool] | None, digits: int) -> str:
    if point is None:
        return "–"
    value, floored = point
    return f"{value:.{digits}f}" + ("*" if floored else "")


# -- Table II ------------------------------------------------------------------------------------------------

TABLE2_SYSTEMS = (("h264_aac", "H.264 + AAC (matched)"), ("syncsc", "SyncSC (semtalk)"),
                  ("txt2vid", "Txt2Vid-like"), ("wav2vid", "Wav2Vid"))


def reduction(ours: float, base: float) -> float | None:
    """How much less ``ours`` is than ``base``, in per cent (None without a base)."""
    return 100 * (1 - ours / base) if base else None


def table2(rows: list[dict]) -> tuple[str, dict]:
    """Table II as markdown (bytes and symbols per clip and pooled over clips, Wav2Vid's reduction vs H.264 + AAC),
    the matched qualities per clip, and the pooled numbers."""
    data = sorted((r for r in rows if r["status"] == "ok" and r.get("table") == "data"), key=lambda r: r["clip"])
    if not data:
        return "", {}
    names = [n for n, _ in TABLE2_SYSTEMS]
    head = ("| clip | s | " + " | ".join(f"{t} bytes" for _, t in TABLE2_SYSTEMS) + " | Wav2Vid vs H.264 + AAC |"
            + " " + " | ".join(f"{t} symbols" for _, t in TABLE2_SYSTEMS) + " | symbols: Wav2Vid vs H.264 + AAC |")
    lines = [head, "|---" * (2 * len(names) + 4) + "|"]
    for r in data:
        lines.append(f"| {r['clip']} | {r['seconds']:.1f} | " + " | ".join(f"{r[f'{n}_bytes']:,.0f}" for n in names)
                     + f" | {_pct(reduction(r['wav2vid_bytes'], r['h264_aac_bytes']))} | "
                     + " | ".join(f"{r[f'{n}_symbols']:,}" for n in names)
                     + f" | {_pct(reduction(r['wav2vid_symbols'], r['h264_aac_symbols']))} |")
    pooled = {f"{n}_{k}": sum(r[f"{n}_{k}"] for r in data) for n in names for k in ("bytes", "symbols")}
    pooled["reduction_pct"] = reduction(pooled["wav2vid_bytes"], pooled["h264_aac_bytes"])
    pooled["reduction_symbols_pct"] = reduction(pooled["wav2vid_symbols"], pooled["h264_aac_symbols"])
    pooled["mean_clip_reduction_pct"] = sum(reduction(r["wav2vid_bytes"], r["h264_aac_bytes"]) or 0.0
                                            for r in data) / len(data)
    pooled["clips"] = len(data)
    lines.append(f"| all {len(data)} clips | {sum(r['seconds'] for r in data):.1f} | "
                 + " | ".join(f"{pooled[f'{n}_bytes']:,.0f}" for n in names)
                 + f" | {_pct(pooled['reduction_pct'])} | "
                 + " | ".join(f"{pooled[f'{n}_symbols']:,}" for n in names)
                 + f" | {_pct(pooled['reduction_symbols_pct'])} |")
    quality = ["| clip | Wav2Vid clips SSIM (frames they cover) | H.264 SSIM there | H.264 kbps | H.264 SSIM held-out "
               "| Wav2Vid SSIM held-out | Opus PESQ-WB | AAC PESQ-WB | AAC kbps | clips sent | frames as clips |",
               "|---" * 11 + "|"]
    for r in data:
        h264 = f"{r['ssim_h264']:.4f}" + ("" if r["h264_reached"] else " (not reached)")
        aac = f"{r['pesq_aac']:.2f}" + (" (AAC floor)" if r["aac_floor"] else "" if r["aac_reached"] else
                                        " (not reached)")
        quality.append(f"| {r['clip']} | {r['ssim_wav2vid_clips']:.4f} ({r['matched_frames']} {r['match_basis']}) | "
                       f"{h264} | {r['h264_kbps']:.1f} | {r['ssim_h264_heldout']:.4f} | "
                       f"{_num(r.get('ssim_wav2vid_heldout'), 4)} | {r['pesq_opus']:.2f} | {aac} | "
                       f"{r['aac_kbps']:.1f} | "
                       f"{r['wav2vid_clips_sent']} | {r['wav2vid_frames_sent_fraction']:.3f} |")
    split = ["| clip | Wav2Vid clips | Wav2Vid audio | SyncSC face | SyncSC words | Txt2Vid words | Txt2Vid reference "
             "| H.264 | AAC | Wav2Vid on air (call) | SyncSC on air (call) | KB (not counted) |", "|---" * 12 + "|"]
    for r in data:
        split.append(f"| {r['clip']} | {r['wav2vid_bytes_clips']:,} | {r['wav2vid_bytes_audio']:,} | "
                     f"{r['syncsc_face_bytes']:,.0f} | {r['syncsc_words_bytes']:,.0f} | "
                     f"{r['txt2vid_words_bytes']:,.0f} | "
                     f"{r['txt2vid_reference_bytes']:,} | {r['h264_bytes']:,} | {r['aac_bytes']:,} | "
                     f"{_num(r.get('wav2vid_symbols_on_air'), 0)} | {_num(r.get('syncsc_symbols_on_air'), 0)} | "
                     f"{_num(r.get('kb_bytes'), 0)} |")
    md = "\n".join([*lines, "", "Matched quality:", "", *quality, "", "Bytes by part (symbols on air: the calls' own "
                    "count, with RTP headers, their packet FEC and their modulation):", "", *split])
    return md, pooled


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} % less" if value >= 0 else f"{-value:.1f} % more"


def _num(value: Any, digits: int) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if digits else f"{value:,.0f}"


# -- files ---------------------------------------------------------------------------------------------------

NOTES = [
    "FID is not reported: it needs the Inception-v3 weights, which this offline machine does not have (no number "
    "is made up in its place).",
    "PESQ-WB of a silent output (a digital carrier past its cliff) is undefined; it is shown as the floor 1.0 and "
    "marked *.",
    "Txt2Vid's PESQ-WB compares another voice (TTS) with the original: low by construction; its WER is the measure "
    "of its speech. SyncSC speaks the same received words (the same received.wav), so its audio rows repeat "
    "Txt2Vid's and the figure leaves them out.",
    "Table II symbols: each system's packets through CRC + 5G LDPC 1/2 + QPSK, no RTP or packet FEC; the knowledge "
    "base shared before the call is not counted.",
    "Table II's quality match is on the frames Wav2Vid sends as clips (the brief's definition); on the held-out "
    "frames, where Wav2Vid mostly shows generated frames, the matched H.264 is far better (both SSIMs are listed).",
    "Wav2Vid's two carriers send the same clips over the same digital link, so their video rows coincide; only "
    "the audio differs.",
]


def write_all(rows: list[dict], out: Path, description: str = "") -> dict[str, Path]:
    """results.json, results.md, figures/*.png and report.html in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    clean = [{k: _plain(v) for k, v in r.items()} for r in rows]
    paths = {"json": out / "results.json", "md": out / "results.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(clean, indent=1))
    table, pooled = table2(clean)
    sections = {}
    if table:
        sections["Table II: data for the whole clip (bytes, channel symbols)"] = table
    sections.update(curve_tables(clean))
    failed = [r for r in clean if r["status"] != "ok"]
    md = [f"# Wav2Vid against its baselines ({len(clean) - len(failed)} cells ok, {len(failed)} failed)\n"]
    if description:
        md.append(description + "\n")
    if pooled:
        md.append(f"**Wav2Vid vs H.264 + AAC at matched quality, pooled over {pooled['clips']} clips: "
                  f"{_pct(pooled['reduction_pct'])} data, {_pct(pooled['reduction_symbols_pct'])} channel symbols** "
                  f"(mean of the clips: {_pct(pooled['mean_clip_reduction_pct'])}; the issue asks ≥ 80 %, the paper "
                  "reports 83 %).\n")
    md += [f"## {title}\n\n{body}\n" for title, body in sections.items()]
    md += ["## Notes\n", *[f"- {n}" for n in NOTES], ""]
    md += [f"- failed: {r['method']} {r['clip']} {r['config']}: {r['error']}" for r in failed]
    paths["md"].write_text("\n".join(md) + "\n")
    figures = make_figures(clean, out / "figures")
    paths["html"].write_text(_html(clean, sections, figures, description))
    return paths


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


FIGURE_METRICS = (("pesq_wb", "PESQ-WB"), ("wer", "re-ASR WER"), ("psnr", "PSNR (dB)"), ("ssim", "SSIM"),
                  ("ms_ssim", "MS-SSIM"), ("vmaf", "VMAF"))
AUDIO_METRICS = ("pesq_wb", "stoi", "wer")  # SyncSC's speech is Txt2Vid's: drawn once


def make_figures(rows: list[dict], out: Path) -> dict[str, Path]:
    """Quality against SNR (Figs. 5–7, a panel per metric) and Table II's bytes per system; name → PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    panels = [(m, title, curves([r for r in rows if m not in AUDIO_METRICS or r.get("system") != "syncsc"], m))
              for m, title in FIGURE_METRICS]
    panels = [p for p in panels if p[2]]
    if panels:
        cols = 3
        fig, axes = plt.subplots(math.ceil(len(panels) / cols), cols, figsize=(15, 4 * math.ceil(len(panels) / cols)),
                                 squeeze=False)
        for ax, (_, title, data) in zip(axes.flat, panels, strict=False):
            for lab, pts in data.items():
                xs = list(pts)
                ax.plot(xs, [pts[s][0] for s in xs], "o-" if lab.startswith("Wav2Vid") else "s--", label=lab,
                        markersize=4)
                floored = [s for s in xs if pts[s][1]]
                if floored:
                    ax.plot(floored, [pts[s][0] for s in floored], "kx", markersize=8)
            ax.set_xlabel("Es/N0 (dB), Rayleigh")
            ax.set_ylabel(title)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(panels):]:
            ax.axis("off")
        handles = {lab: h for ax in axes.flat for h, lab in zip(*ax.get_legend_handles_labels(), strict=True)}
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=len(handles), fontsize=8)
        fig.suptitle("Quality against SNR (means over clips; x: a silent output at the PESQ floor; Wav2Vid's two "
                     "carriers share the clips, so their video curves coincide)")
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        made["quality_vs_snr"] = out / "quality_vs_snr.png"
        fig.savefig(made["quality_vs_snr"], dpi=100)
        plt.close(fig)
    data = sorted((r for r in rows if r["status"] == "ok" and r.get("table") == "data"), key=lambda r: r["clip"])
    if data:
        fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(data) + 2), 4))
        width = 0.8 / len(TABLE2_SYSTEMS)
        for j, (name, title) in enumerate(TABLE2_SYSTEMS):
            ax.bar([i + j * width for i in range(len(data))], [r[f"{name}_bytes"] for r in data], width, label=title)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(data))], [Path(r["clip"]).stem for r in data],
                      fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("bytes for the whole clip")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7)
        ax.set_title("Table II: data for the whole clip")
        fig.tight_layout()
        made["table2_bytes"] = out / "table2_bytes.png"
        fig.savefig(made["table2_bytes"], dpi=100)
        plt.close(fig)
    return made


def _html(rows: list[dict], sections: dict[str, str], figures: dict[str, Path], description: str) -> str:
    failed = [r for r in rows if r["status"] != "ok"]
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>semtalk Wav2Vid benchmark</title>"
             f"<style>{STYLE}</style></head><body>", "<h1>Wav2Vid against its baselines</h1>",
             f"<p>{len(rows) - len(failed)} cells ok, {len(failed)} failed; seeds {sorted({r['seed'] for r in rows})}. "
             f"{html.escape(description)} Method: docs/wav2vid.md.</p>"]
    parts += [figure_html(path, name.replace("_", " "), width=None) for name, path in figures.items()]
    parts += [f"<h2>{html.escape(title)}</h2>{markdown_table_html(md)}" for title, md in sections.items()]
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in NOTES) + "</ul>")
    if failed:
        parts.append("<h2>Failed cells</h2><ul>" + "".join(
            f"<li>{html.escape(r['method'])} {html.escape(r['clip'])} {html.escape(r['config'] or '')}: "
            f"{html.escape(r['error'] or '')}</li>" for r in failed) + "</ul>")
    return "\n".join([*parts, "</body></html>"])
