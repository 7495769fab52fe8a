"""Speech benchmark: the issue-3 acceptance numbers on the LRS2 and GRID clips, by one command.

``semtalk bench --suite speech --data ../shared/data --out out/bench_speech`` runs every clip through the
whole call at p = 0 (with its reference transcript), then replays each clip's sent words through the text
stream alone at p ∈ {0, 0.3, 0.6} over ``SEEDS`` channel seeds, with and without RS and TextPC. The text
sweep needs no ASR or synthesis per seed, so 20 seeds per clip take seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

from semtalk.errors import SemtalkError
from semtalk.pipelines.syncsc import RunConfig, run
from semtalk.records import Word

CLIPS = ["lrs2_00004.mp4", "lrs2_00016.mp4", "lrs2_00019.mp4", "grid_bbaf2n.mpg", "grid_brbk7n.mpg",
         "grid_lbax4n.mpg", "grid_lbbc2a.mpg", "grid_id2_vcd_swwp2s.mpg"]
LOSSES = [0.0, 0.3, 0.6]
SEEDS = 20
KEYS = ["words_sent", "text_bps", "timing_bps", "prosody_bps", "asr_wer", "received_wer", "resynth_wer",
        "resynth_wer_adapted", "mcd_db", "pesq_wb", "stoi", "speaker_similarity_unadapted",
        "speaker_similarity_adapted", "speaker_heldout", "av_offset_ms", "av_offset_ms_original"]


def run_suite(data: Path, out: Path, quick: bool = False, seed: int = 0) -> dict:
    """Whole calls at p = 0, then the text-loss sweep; writes results.json and results.md into ``out``."""
    from semtalk.bench.text import text_loss_sweep
    from semtalk.fec.text_concealment import NGramPredictor, TextConcealer

    clips = [data / "faces_av" / name for name in (CLIPS[:1] + CLIPS[3:4] if quick else CLIPS)]
    missing = [c for c in clips if not c.is_file()]
    if missing:
        raise SemtalkError(f"benchmark clips not found: {', '.join(map(str, missing))} (pass --data ../shared/data)")
    rows, sent = [], []
    for clip in clips:
        cfg = RunConfig(seed=seed, vmaf=False, progress=False, transcript=str(clip.with_suffix(".txt")))
        report = run(clip, out / clip.stem, cfg)
        s = report["speech"]
        rows.append({"clip": clip.stem, **{k: s.get(k) for k in KEYS}, "rtf": s["rtf"]})
        sent.append((s["sent_text"], [Word(t, a, b) for t, a, b in s["sent_words"]]))
        print(f"  {clip.stem}: text+timing {s['text_bps'] + s['timing_bps']:.1f} bps, "
              f"re-ASR WER {s['resynth_wer']}, AV offset {s['av_offset_ms']} ms", flush=True)
    sweep = text_loss_sweep(sent, LOSSES, ["rs", "none"], range(seed, seed + (5 if quick else SEEDS)),
                            TextConcealer(NGramPredictor()))
    result = {"calls": rows, "text_loss": sweep}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2))
    (out / "results.md").write_text(markdown(result))
    return result


def markdown(result: dict) -> str:
    """Per-clip call numbers, their means, and received-text WER/BLEU versus loss."""
    cols = ["text_bps", "timing_bps", "prosody_bps", "asr_wer", "resynth_wer", "resynth_wer_adapted", "mcd_db",
            "speaker_similarity_unadapted", "speaker_similarity_adapted", "av_offset_ms", "av_offset_ms_original"]
    lines = ["| clip | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for r in result["calls"]:
        lines.append(f"| {r['clip']} | " + " | ".join(_f(r[c]) for c in cols) + " |")
    means = [_mean([r[c] for r in result["calls"]]) for c in cols]
    lines.append("| **mean** | " + " | ".join(_f(m) for m in means) + " |")
    stages = sorted({k for r in result["calls"] for k in r["rtf"]})
    lines += ["", "| real-time factor (mean) | " + " | ".join(stages) + " |", "|---" * (len(stages) + 1) + "|",
              "| all clips | " + " | ".join(_f(_mean([r["rtf"].get(k) for r in result["calls"]])) for k in stages)
              + " |"]
    lines += ["", "| received text vs sent (WER / BLEU) | " + " | ".join(f"p={p}" for p in LOSSES) + " |",
              "|---" * (len(LOSSES) + 1) + "|"]
    for fec in ("rs", "none"):
        for conceal in (False, True):
            cells = [next((f"{r['wer']:.3f} / {r['bleu']:.3f}" for r in result["text_loss"]
                           if r["loss"] == p and r["fec"] == fec and r["concealment"] == conceal), "–")
                     for p in LOSSES]
            label = ("RS 1/2" if fec == "rs" else "no FEC") + (" + TextPC" if conceal else "")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _mean(values: list) -> float | None:
    vals = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(vals) / len(vals) if vals else None


def _f(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
