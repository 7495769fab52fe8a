"""Results of the Seb suite: results.json, results.md and report.html (RD table, Seb − JPEG 2000 at equal bpp,
Fig. 4, the real radio beside it, Fig. 5, example reconstructions) and figures (``rd.png``, ``fig4_snr.png``,
``fig4_radio.png``, ``fig5_cbr_split.png``, ``examples.png``). Every number is derived from the ``seb_rd`` and
``seb_radio`` rows; the example strip's pictures come in from ``bench.seb.example_panels``."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

SEB = {"seb-low": "low", "seb": "mid", "seb-high": "high"}  # registry name → shipped weights (learned.seb.code)
CBR = 1 / 30
SNRS = (-2.0, 0.0, 2.0, 5.0, 8.0, 11.0, 14.0, 17.0, 20.0)
FIG5_SNR = 5.0
LOW_RATE = (0.1, 1.0)  # bpp range of the Seb − JPEG 2000 comparison (the KB's and Fig. 4's rates)
PARTS = ("sebs", "usage", "residual")
SCHEMES = ("seb", "jpeg2000", "webp", "avif", "jpeg")  # Fig. 4's schemes, in the example strip's order
EXAMPLE_SNR = FIG5_SNR  # the example strip shows each scheme's coding that Fig. 4 sends at this SNR


def ideal_bpp(snr_db: float, cbr: float = CBR) -> float:
    """The bits per pixel an ideal capacity-achieving code carries at ``snr_db`` over ``cbr``: 3·CBR·log2(1 + SNR),
    the inverse of eq. 11 (``phy.theory.capacity_snr_threshold``)."""
    from semtalk.phy.theory import awgn_capacity

    return float(3 * cbr * awgn_capacity(snr_db))


EXAMPLE_BPP = float(3 * CBR * np.log2(1 + 10 ** (EXAMPLE_SNR / 10)))  # ideal_bpp(EXAMPLE_SNR): 0.206 bpp


def family(codec: str) -> str:
    """Fig. 4's schemes: every Seb λ is one scheme (the sender picks the weights and step that fit)."""
    return "seb" if codec in SEB else codec


def rd_curves(rows: list[dict]) -> dict[str, dict[str, list[tuple[float, float, float]]]]:
    """dataset → codec → [(bpp, PSNR, MS-SSIM)] sorted by bpp, each a mean over the dataset's clips at one quality."""
    acc: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows:
        if r["status"] == "ok" and "bpp" in r:
            acc[r["dataset"]][r["codec"]][r["quality"]].append((r["bpp"], r["psnr"], r["ms_ssim"]))
    return {ds: {c: sorted(tuple(float(v) for v in np.mean(pts, 0)) for pts in qs.values()) for c, qs in cs.items()}
            for ds, cs in sorted(acc.items())}


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The upper envelope of (bpp, quality) points: best quality at or below each rate."""
    out: list[tuple[float, float]] = []
    for b, q in sorted(points):
        if not out or q > out[-1][1]:
            out.append((b, q))
    return out


def gain_over(rows: list[dict], base: str = "jpeg2000", metric: str = "psnr") -> dict[str, float | None]:
    """Per dataset: the mean of Seb's (all λ, envelope) ``metric`` minus ``base``'s at the same bpp, interpolated
    in log bpp, over Seb's points inside ``LOW_RATE`` and inside the base's range. None when none overlaps."""
    curves = rd_curves(rows)
    out: dict[str, float | None] = {}
    k = 1 if metric == "psnr" else 2
    for ds, codecs in curves.items():
        seb = _hull([(p[0], p[k]) for c, pts in codecs.items() if c in SEB for p in pts])
        ref = _hull([(p[0], p[k]) for p in codecs.get(base, [])])
        if len(ref) < 2:
            out[ds] = None
            continue
        lb, lq = np.log([b for b, _ in ref]), [q for _, q in ref]
        deltas = [q - float(np.interp(math.log(b), lb, lq)) for b, q in seb
                  if LOW_RATE[0] <= b <= LOW_RATE[1] and lb[0] <= math.log(b) <= lb[-1]]
        out[ds] = float(np.mean(deltas)) if deltas else None
    return out


def fig4(rows: list[dict]) -> dict[str, dict[float, tuple[float, float] | None]]:
    """scheme → SNR → (PSNR, MS-SSIM) means over clips of each clip's best coding within ``ideal_bpp(SNR)``; None
    where some clip has no coding that small (the scheme cannot send the set at that SNR)."""
    by: dict = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["status"] == "ok" and "bpp" in r:
            by[family(r["codec"])][r["clip"]].append(r)
    out: dict = {}
    for scheme, clips in sorted(by.items()):
        out[scheme] = {}
        for snr in SNRS:
            budget, best = ideal_bpp(snr), []
            for clip_rows in clips.values():
                fits = [r for r in clip_rows if r["bpp"] <= budget]
                best.append(max(fits, key=lambda r: r["psnr"]) if fits else None)
            ok = [b for b in best if b is not None]
            out[scheme][snr] = (None if len(ok) < len(best) else
                                (float(np.mean([b["psnr"] for b in ok])), float(np.mean([b["ms_ssim"] for b in ok]))))
    return out


def fig5(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Seb weights → part → the CBR it takes at ``FIG5_SNR`` through the ideal code (bits / (C · 3 · pixels)), for
    each clip's best coding within that SNR's budget at CBR = 1/30 (so the parts add up to at most 1/30); means over
    clips. Weights with no coding that fits some clip are left out."""
    cap, budget = math.log2(1 + 10 ** (FIG5_SNR / 10)), ideal_bpp(FIG5_SNR)
    by: dict = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["status"] == "ok" and r.get("codec") in SEB and "bits_sebs" in r:
            by[r["codec"]][r["clip"]].append(r)
    out = {}
    for codec, clips in by.items():
        best = [max((r for r in rs if r["bpp"] <= budget), key=lambda r: r["psnr"], default=None) for rs in
                clips.values()]
        if all(b is not None for b in best):
            out[codec] = {p: float(np.mean([b[f"bits_{p}"] / (cap * 3 * b["pixels"]) for b in best])) for p in PARTS}
            out[codec]["psnr"] = float(np.mean([b["psnr"] for b in best]))
    return out


def radio_points(rows: list[dict]) -> dict[str, dict[float, dict | None]]:
    """scheme → SNR → means over clips of the ``seb_radio`` points (PSNR, MS-SSIM, bpp, the share of pictures
    lost, the MCS); None where some clip's scheme sent nothing (no coding fits, or the SNR is below every MCS)."""
    by: dict = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["status"] == "ok" and r.get("method") == "seb_radio":
            for pt in r["radio"]:
                by[r["scheme"]][float(pt["snr"])].append(pt)
    out: dict = {}
    for scheme in sorted(by, key=lambda k: SCHEMES.index(k) if k in SCHEMES else len(SCHEMES)):
        out[scheme] = {}
        for snr, pts in sorted(by[scheme].items()):
            if not all(pt["sent"] for pt in pts):
                out[scheme][snr] = None
                continue
            out[scheme][snr] = {k: float(np.mean([pt[k] for pt in pts])) for k in ("psnr", "ms_ssim", "bpp")}
            out[scheme][snr] |= {"lost": sum(pt["lost"] for pt in pts), "pictures": sum(pt["pictures"] for pt in pts),
                                 "mcs": ", ".join(sorted({pt["mcs"] for pt in pts}))}
    return out


def example_rows(rows: list[dict], clip: str, budget: float = EXAMPLE_BPP) -> dict[str, dict]:
    """Per scheme, the ``seb_rd`` row of ``clip`` the example strip shows: its best PSNR within ``budget`` bpp
    (Fig. 4's pick), or its smallest coding when none fits."""
    by: dict = defaultdict(list)
    for r in rows:
        if r["status"] == "ok" and r.get("method") == "seb_rd" and r["clip"] == clip:
            by[family(r["codec"])].append(r)
    out = {}
    for scheme in [s for s in SCHEMES if s in by]:
        fits = [r for r in by[scheme] if r["bpp"] <= budget]
        out[scheme] = max(fits, key=lambda r: r["psnr"]) if fits else min(by[scheme], key=lambda r: r["bpp"])
    return out


def _fmt(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def markdown(rows: list[dict], grid=None) -> str:
    ok = [r for r in rows if r["status"] == "ok"]
    failed = [r for r in rows if r["status"] != "ok"]
    md = [f"# Seb against JPEG 2000, WebP, AVIF and JPEG on KB keyframe sets ({len(ok)} cells ok, "
          f"{len(failed)} failed)\n"]
    if grid is not None:
        md.append(f"Clips: {', '.join(grid.clips)} (10 keyframes of 256² each, the WebP-90 pictures of today's KB as "
                  "originals). PSNR over RGB, MS-SSIM on luma, means over the pictures and then over a dataset's "
                  "clips at each quality. Seb: one set with shared Sebs; bpp counts every byte.\n")
    md.append("## Rate–distortion\n")
    for ds, codecs in rd_curves(rows).items():
        md.append(f"### {ds}\n\n| codec | bpp | PSNR (dB) | MS-SSIM |\n|---|---|---|---|")
        for c, pts in codecs.items():
            md += [f"| {c} | {b:.3f} | {p:.2f} | {m:.4f} |" for b, p, m in pts]
        md.append("")
    gains, gains_ms = gain_over(rows), gain_over(rows, metric="ms_ssim")
    md.append(f"## Seb − JPEG 2000 at equal bpp ({LOW_RATE[0]:g}–{LOW_RATE[1]:g} bpp; goal ≥ +0.5 dB PSNR)\n")
    md.append("| dataset | ΔPSNR (dB) | ΔMS-SSIM |\n|---|---|---|")
    md += [f"| {ds} | {_fmt(g)} | {_fmt(gains_ms.get(ds), 4)} |" for ds, g in gains.items()]
    f4 = fig4(rows)
    md.append(f"\n## Fig. 4: AWGN, ideal capacity-achieving code, CBR = 1/{round(1 / CBR)}\n")
    md.append("PSNR (dB) / MS-SSIM of each scheme's best coding within 3·CBR·log2(1 + SNR) bpp; – : no coding of "
              "the set fits.\n")
    md.append("| SNR (dB) | bpp budget | " + " | ".join(f4) + " |\n|---|---|" + "---|" * len(f4))
    for snr in SNRS:
        cells = [("–" if f4[s][snr] is None else f"{f4[s][snr][0]:.2f} / {f4[s][snr][1]:.4f}") for s in f4]
        md.append(f"| {snr:g} | {ideal_bpp(snr):.3f} | " + " | ".join(cells) + " |")
    md += _radio_markdown(rows, f4)
    f5 = fig5(rows)
    md.append(f"\n## Fig. 5: CBR split at SNR {FIG5_SNR:g} dB, CBR = 1/{round(1 / CBR)} "
              "(each λ's best coding that fits)\n")
    md.append("| Seb weights | " + " | ".join(PARTS) + " | total | PSNR (dB) |\n|---|---|---|---|---|---|")
    for c, parts in f5.items():
        md.append(f"| {c} | " + " | ".join(f"{parts[p]:.5f}" for p in PARTS)
                  + f" | {sum(parts[p] for p in PARTS):.5f} | {parts['psnr']:.2f} |")
    md += [f"- failed: {r['method']} {r['clip']} {r['config']}: {r['error']}" for r in failed]
    return "\n".join(md) + "\n"


def _radio_markdown(rows: list[dict], f4: dict) -> list[str]:
    """The real-radio table: per SNR the MCS, and per scheme radio PSNR / MS-SSIM, bpp and pictures lost, with the
    ideal code's PSNR beside it."""
    rp = radio_points(rows)
    if not rp:
        return []
    points = [pt for r in rows if r["status"] == "ok" and r.get("method") == "seb_radio" for pt in r["radio"]]
    mcs_at = {float(pt["snr"]): pt["mcs"] or "none" for pt in points}
    margins = ", ".join(f"{m:g}" for m in sorted({pt["margin_db"] for pt in points}))
    md = [f"\n## Real radio at CBR = 1/{round(1 / CBR)}: CRC + 5G LDPC + QAM over AWGN, link adaptation\n",
          "Per SNR the fastest MCS whose measured 10 %-BLER point (125-byte blocks) is ≥ "
          f"{margins} dB below it, then each scheme's best coding whose packets fit the channel uses. A picture "
          "with a packet (or Seb's Sebs) lost is shown as the previous keyframe received, grey if none. Cells: radio "
          "PSNR (dB) / MS-SSIM, bpp, pictures lost; [ideal code's PSNR]; – : no coding fits.\n"]
    snrs = sorted({s for pts in rp.values() for s in pts})
    md.append("| SNR (dB) | MCS | " + " | ".join(rp) + " |\n|---|---|" + "---|" * len(rp))
    for snr in snrs:
        cells = []
        for scheme, pts in rp.items():
            v, ideal = pts.get(snr), f4.get(scheme, {}).get(snr)
            tail = f" [{ideal[0]:.2f}]" if ideal else " [–]"
            cells.append("–" + tail if v is None else
                         f"{v['psnr']:.2f} / {v['ms_ssim']:.4f}, {v['bpp']:.3f}, {v['lost']}/{v['pictures']}{tail}")
        md.append(f"| {snr:g} | {mcs_at[snr]} | " + " | ".join(cells) + " |")
    return md


def write_all(rows: list[dict], out: Path, grid=None, examples: list[tuple[str, np.ndarray]] | None = None
              ) -> dict[str, Path]:
    """results.json, results.md, figures/*.png and report.html (figures and the example strip inlined)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "md": out / "results.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(rows, indent=1, default=float))
    md = markdown(rows, grid)
    paths["md"].write_text(md)
    figures = make_figures(rows, out / "figures")
    if examples:
        figures["examples"] = example_strip(examples, out / "figures" / "examples.png")
    paths["html"].write_text(_html(md, figures, examples or []))
    return paths | figures


def _html(md: str, figures: dict[str, Path], examples: list[tuple[str, np.ndarray]]) -> str:
    import html

    from semtalk.bench.report_html import STYLE, figure_html, markdown_table_html

    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>semtalk Seb benchmark</title>"
             f"<style>{STYLE}</style></head><body>"]
    chunk: list[str] = []
    for line in [*md.splitlines(), "#"]:  # our headings as headings, the rest through the shared table renderer
        if line.startswith("#"):
            parts.append(markdown_table_html("\n".join(chunk)))
            chunk.clear()
            level, _, title = line.partition(" ")
            if title:
                parts.append(f"<h{len(level)}>{html.escape(title)}</h{len(level)}>")
        else:
            chunk.append(line)
    for name, path in figures.items():
        if name == "examples":
            captions = "; ".join(f"{i + 1}. {c}" for i, (c, _) in enumerate(examples))
            parts.append(f"<h2>Example reconstructions (Fig. 4's codings at {EXAMPLE_SNR:g} dB, "
                         f"≤ {EXAMPLE_BPP:.3f} bpp)</h2><p>{html.escape(captions)}</p>")
        parts.append(figure_html(path, name.replace("_", " "), width=None))
    return "\n".join([*parts, "</body></html>"])


def example_strip(panels: list[tuple[str, np.ndarray]], path: Path) -> Path:
    """One row of pictures, each with its caption (original first); the PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 3.1), squeeze=False)
    for ax, (caption, image) in zip(axes[0], panels, strict=True):
        ax.imshow(image)
        ax.set_title(caption.replace(": ", ":\n", 1), fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def make_figures(rows: list[dict], out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made = {}
    curves = rd_curves(rows)
    if curves:
        fig, axes = plt.subplots(2, len(curves), figsize=(5.5 * len(curves), 7.5), squeeze=False)
        for j, (ds, codecs) in enumerate(curves.items()):
            for c, pts in codecs.items():
                style = "o-" if c in SEB else "s--"
                for i in range(2):
                    axes[i][j].plot([p[0] for p in pts], [p[i + 1] for p in pts], style, label=c, markersize=3)
            for i, name in enumerate(("PSNR (dB)", "MS-SSIM")):
                axes[i][j].set(title=ds, xlabel="bpp", ylabel=name, xscale="log")
                axes[i][j].grid(alpha=0.3)
            axes[0][j].legend(fontsize=7)
        fig.tight_layout()
        made["rd"] = out / "rd.png"
        fig.savefig(made["rd"], dpi=110)
        plt.close(fig)
    f4 = fig4(rows)
    if f4:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for scheme, pts in f4.items():
            snrs = [s for s, v in pts.items() if v is not None]
            for i in range(2):
                axes[i].plot(snrs, [pts[s][i] for s in snrs], "o-" if scheme == "seb" else "s--", label=scheme)
        for i, name in enumerate(("PSNR (dB)", "MS-SSIM")):
            axes[i].set(xlabel="AWGN SNR (dB)", ylabel=name, title=f"ideal code, CBR = 1/{round(1 / CBR)}")
            axes[i].grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        made["fig4"] = out / "fig4_snr.png"
        fig.savefig(made["fig4"], dpi=110)
        plt.close(fig)
    rp = radio_points(rows)
    if rp:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for j, (scheme, pts) in enumerate(rp.items()):
            colour = f"C{j}"
            snrs = [s for s, v in pts.items() if v is not None]
            ideal = {s: v for s, v in f4.get(scheme, {}).items() if v is not None}
            for i, key in enumerate(("psnr", "ms_ssim")):
                axes[i].plot(snrs, [pts[s][key] for s in snrs], "o-", color=colour, label=f"{scheme} radio")
                axes[i].plot(list(ideal), [v[i] for v in ideal.values()], ":", color=colour, alpha=0.6,
                             label=f"{scheme} ideal")
        for i, name in enumerate(("PSNR (dB)", "MS-SSIM")):
            axes[i].set(xlabel="AWGN SNR (dB)", ylabel=name,
                        title=f"LDPC + QAM (solid) vs ideal code (dotted), CBR = 1/{round(1 / CBR)}")
            axes[i].grid(alpha=0.3)
        axes[0].legend(fontsize=7, ncol=2)
        fig.tight_layout()
        made["fig4_radio"] = out / "fig4_radio.png"
        fig.savefig(made["fig4_radio"], dpi=110)
        plt.close(fig)
    f5 = fig5(rows)
    if f5:
        fig, ax = plt.subplots(figsize=(6, 4))
        bottom = np.zeros(len(f5))
        for part in PARTS:
            vals = np.array([f5[c][part] for c in f5])
            ax.bar(list(f5), vals, bottom=bottom, label=part)
            bottom += vals
        ax.axhline(CBR, color="k", linestyle=":", label=f"CBR 1/{round(1 / CBR)}")
        ax.set(ylabel=f"CBR at {FIG5_SNR:g} dB", title="CBR split: Sebs, usage, residual")
        ax.legend()
        fig.tight_layout()
        made["fig5"] = out / "fig5_cbr_split.png"
        fig.savefig(made["fig5"], dpi=110)
        plt.close(fig)
    return made
