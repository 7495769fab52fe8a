"""Results of the radio suite: results.json (one row per cell), results.md (metric × SNR tables), figures
and one self-contained report.html.

Every table and curve is a mean over clips at each (method, channel, SNR); a method is labelled by what it is
and by the bandwidth it was given (``x264 @ 8k`` = rate-matched to 8 000 complex symbols/s). The measured
channel uses per second of every method are in their own table, so equal bandwidth can be checked, not assumed.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from semtalk.bench.report_html import STYLE, figure_html, markdown_table_html

LOG_FLOOR = 1e-6  # below what radio_phy's 2·10⁵ bits can measure
Curves = dict[str, dict[str, dict[float, float]]]  # channel → label → snr → mean


def label(row: dict) -> str:
    """What a row is, for tables and legends: the system and, for a codec, the bandwidth it was given."""
    if row["method"] == "semtalk_radio":
        return "semtalk"
    if row["method"] == "radio_phy":
        return f"{row['modulation']} LDPC {row['ldpc_rate']:g}"
    if row["method"] == "jpeg_radio":
        return f"JPEG + {row['modulation']} (CBR {row['cbr']:.4g})"
    return f"{row['codec']} @ {row['bandwidth'] / 1000:g}k"


def curves(rows: list[dict], metric: str, methods: tuple[str, ...]) -> Curves:
    """channel → label → snr → mean of ``metric`` over the rows (clips) that have it."""
    acc: dict[str, dict[str, dict[float, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows:
        value = r.get(metric)
        if r["status"] == "ok" and r["method"] in methods and value is not None and math.isfinite(value):
            acc[r["channel"]][label(r)][r["snr"]].append(float(value))
    return {ch: {lab: {s: sum(v) / len(v) for s, v in sorted(pts.items())} for lab, pts in sorted(labs.items(),
                                                                                                    key=_semtalk_first)}
            for ch, labs in sorted(acc.items())}


def _semtalk_first(item: tuple[str, Any]) -> tuple[bool, str]:
    return (not item[0].startswith("semtalk"), item[0])


VIDEO = ("semtalk_radio", "codec_radio_video")
SPEECH = ("semtalk_radio", "codec_radio_speech")
TABLES: list[tuple[str, str, tuple[str, ...], int]] = [  # title, metric, methods, digits
    ("Video SSIM vs SNR (held-out frames)", "ssim", VIDEO, 3),
    ("Video PSNR (dB) vs SNR", "psnr", VIDEO, 2),
    ("Video MS-SSIM vs SNR", "ms_ssim", VIDEO, 3),
    ("Video VMAF vs SNR", "vmaf", VIDEO, 1),
    ("Packet loss after LDPC + CRC vs SNR (all of a method's packets)", "packet_loss",
     (*VIDEO, "codec_radio_speech", "jpeg_radio"), 3),
    ("Channel uses per second (complex symbols/s, pilots included)", "channel_uses_per_s",
     (*VIDEO, "codec_radio_speech"), 0),
    ("Speech PESQ-WB vs SNR", "pesq_wb", SPEECH, 2),
    ("Speech re-ASR WER vs SNR", "resynth_wer", SPEECH, 3),
    ("Single frames: JPEG + 16-QAM SSIM vs SNR (M3E-VSC's baseline)", "ssim", ("jpeg_radio",), 3),
    ("PHY: BER before decoding vs SNR", "ber_uncoded", ("radio_phy",), 5),
    ("PHY: closed-form uncoded BER (Gray BPSK/QPSK)", "theory_ber_uncoded", ("radio_phy",), 5),
    ("PHY: BER after LDPC decoding vs SNR", "ber_coded", ("radio_phy",), 5),
    ("PHY: block error rate (BLER) vs SNR", "bler", ("radio_phy",), 4),
]


def tables(rows: list[dict]) -> dict[str, str]:
    """Markdown tables keyed by title: one block per channel, a row per method, a column per SNR."""
    out = {}
    for title, metric, methods, digits in TABLES:
        data = curves(rows, metric, methods)
        if not data:
            continue
        blocks = []
        for channel, labs in data.items():
            snrs = sorted({s for pts in labs.values() for s in pts})
            head = f"| {channel} | " + " | ".join(f"{s:g} dB" for s in snrs) + " |"
            lines = [head, "|---" * (len(snrs) + 1) + "|"]
            lines += ["| " + lab + " | " + " | ".join(_fmt(pts.get(s), digits) for s in snrs) + " |"
                      for lab, pts in labs.items()]
            blocks.append("\n".join(lines))
        out[title] = "\n\n".join(blocks)
    return out


def _fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def write_all(rows: list[dict], out: Path, grid=None) -> dict[str, Path]:
    """results.json, results.md, figures/*.png and report.html in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    clean = [{k: _plain(v) for k, v in r.items()} for r in rows]
    paths = {"json": out / "results.json", "md": out / "results.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(clean, indent=1))
    sections = tables(clean)
    failed = [r for r in clean if r["status"] != "ok"]
    md = [f"# semtalk over the radio ({len(clean) - len(failed)} cells ok, {len(failed)} failed)\n"]
    if grid is not None:
        md.append(f"Clips: {', '.join(grid.clips)}. Radio: {grid.modulation} + 5G LDPC {grid.ldpc_rate:g}, perfect "
                  f"CSI, Rayleigh fades held {grid.coherence} symbols; codecs rate-matched to "
                  f"{', '.join(f'{b:g}' for b in grid.bandwidths)} symbols/s (speech "
                  f"{', '.join(f'{b:g}' for b in grid.speech_bandwidths)}).\n")
    md += [f"## {title}\n\n{body}\n" for title, body in sections.items()]
    md += [f"- failed: {r['method']} {r['clip']} {r['config']}: {r['error']}" for r in failed]
    paths["md"].write_text("\n".join(md) + "\n")
    figures = make_figures(clean, out / "figures")
    paths["html"].write_text(_html(clean, sections, figures))
    return paths


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def make_figures(rows: list[dict], out: Path) -> dict[str, Path]:
    """Quality, speech and PHY curves against SNR, a panel per channel; name → PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    panels = [("quality_vs_snr", [("ssim", VIDEO, "SSIM"), ("psnr", VIDEO, "PSNR (dB)")],
               "Video over the radio: semtalk vs codec + LDPC + QAM"),
              ("speech_vs_snr", [("pesq_wb", SPEECH, "PESQ-WB"), ("resynth_wer", SPEECH, "re-ASR WER")],
               "Speech over the radio"),
              ("jpeg_vs_snr", [("ssim", ("jpeg_radio",), "SSIM")], "Single frames: JPEG + 16-QAM"),
              ("ber_bler", [("ber_uncoded", ("radio_phy",), "BER before decoding"),
                            ("ber_coded", ("radio_phy",), "BER after decoding"),
                            ("bler", ("radio_phy",), "BLER")], "The radio: measured (solid) and closed form (dotted)")]
    for name, metrics, title in panels:
        data = [(curves(rows, m, methods), ylabel, m) for m, methods, ylabel in metrics]
        channels = sorted({ch for d, _, _ in data for ch in d})
        if not channels:
            continue
        fig, axes = plt.subplots(len(data), len(channels), figsize=(5.5 * len(channels), 3.8 * len(data)),
                                 squeeze=False, sharex=True)
        for i, (d, ylabel, metric) in enumerate(data):
            log = metric.startswith("ber") or metric == "bler"
            for j, channel in enumerate(channels):
                ax = axes[i][j]
                for lab, pts in d.get(channel, {}).items():
                    xs = [s for s, v in pts.items() if v > 0 or not log]  # a measured 0 has no place on a log axis
                    bold = lab.startswith("semtalk") or name == "ber_bler"
                    ax.plot(xs, [pts[s] for s in xs], "o-" if bold else "s--", label=lab, markersize=4,
                            linewidth=2.2 if lab.startswith("semtalk") else 1.2)
                if metric == "ber_uncoded":
                    theory = curves(rows, "theory_ber_uncoded", ("radio_phy",)).get(channel, {})
                    for lab, pts in theory.items():
                        ax.plot(list(pts), list(pts.values()), "k:", label=f"theory ({lab})")
                if log:
                    ax.set_yscale("log")
                    ax.set_ylim(LOG_FLOOR, 1.0)
                ax.set_title(channel)
                ax.set_xlabel("Es/N0 (dB)")
                ax.set_ylabel(ylabel)
                ax.grid(alpha=0.3)
            axes[i][0].legend(fontsize=7)
        fig.suptitle(title)
        fig.tight_layout()
        made[name] = out / f"{name}.png"
        fig.savefig(made[name], dpi=110)
        plt.close(fig)
    return made


def _html(rows: list[dict], sections: dict[str, str], figures: dict[str, Path]) -> str:
    failed = [r for r in rows if r["status"] != "ok"]
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>semtalk radio benchmark</title>"
             f"<style>{STYLE}</style></head><body>",
             "<h1>semtalk over the radio (AWGN, Rayleigh)</h1>",
             f"<p>{len(rows) - len(failed)} cells ok, {len(failed)} failed; seeds {sorted({r['seed'] for r in rows})}."
             " Schema and method: docs/radio.md.</p>"]
    parts += [figure_html(path, name.replace("_", " "), width=None) for name, path in figures.items()]
    parts += [f"<h2>{html.escape(title)}</h2>{markdown_table_html(md)}" for title, md in sections.items()]
    if failed:
        parts.append("<h2>Failed cells</h2><ul>" + "".join(
            f"<li>{html.escape(r['method'])} {html.escape(r['clip'])} {html.escape(r['config'] or '')}: "
            f"{html.escape(r['error'] or '')}</li>" for r in failed) + "</ul>")
    return "\n".join([*parts, "</body></html>"])
