"""Speech benchmark: the issue-3 acceptance numbers on the LRS2 and GRID clips, by one command.

``semtalk bench --suite speech --data ../shared/data --out out/bench_speech`` runs every clip through the
whole call at p = 0 (with its reference transcript; GRID clips with a KB domain LM written from the
published GRID grammar, which prompts and corrects the sender's ASR), scores the sent word onsets against
the hand timings where the corpus has them (GRID swwp2s, LRS2 00016 and 00019), then replays each clip's sent
words through the text stream alone at p ∈ {0, 0.3, 0.6} over ``SEEDS`` channel seeds, with and without
RS and TextPC. The text sweep needs no ASR or synthesis per seed, so 20 seeds per clip take seconds.
Three HDTF excerpts (``LONG_FORM``) also run the whole call, reported apart from the acceptance set.

Each call's output and original speech are also heard by the plain listener (Whisper tiny, no prompt)
after each of ``LEAD_INS`` of silence, and the bench reports the mean (:func:`steady_wer`): one decode
flips words on a 15 ms shift of its input (HDTF EdMarkey's output read 0 and 0.24), so it is one draw
of the listener, and a 3-point change in one decode's pooled WER can be noise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from semtalk.bench.runner import BenchOptions
from semtalk.call.run import RunConfig, run
from semtalk.errors import SemtalkError
from semtalk.modes.syncsc.speech import RATE
from semtalk.records import Word

CLIPS = ["lrs2_00004.mp4", "lrs2_00016.mp4", "lrs2_00019.mp4", "grid_bbaf2n.mpg", "grid_brbk7n.mpg",
         "grid_lbax4n.mpg", "grid_lbbc2a.mpg", "grid_id2_vcd_swwp2s.mpg"]
# 8 s of fluent talk each, no transcripts: outside the acceptance set (so outside the means, the
# "all" pool and the text sweep) but what users' own clips look like; excerpts cut mid-sentence
LONG_FORM = ["hdtf_RD_Radio34_000.mp4", "hdtf_WDA_EdMarkey0_000.mp4", "hdtf_WDA_KatieHill_000.mp4"]
LONG_FORM_CORPORA = {name.split("_", 1)[0] for name in LONG_FORM}
LOSSES = [0.0, 0.3, 0.6]
SEEDS = 20
LEAD_INS = (0.0, 0.015, 0.03, 0.045, 0.06)  # s of silence before the speech, one decode each (steady_wer)
KEYS = ["words_sent", "text_bps", "timing_bps", "prosody_bps", "asr_wer", "received_wer", "resynth_wer",
        "resynth_wer_plain", "resynth_wer_original", "resynth_wer_adapted", "mcd_db", "pesq_wb", "stoi",
        "speaker_similarity_unadapted", "speaker_similarity_adapted", "speaker_heldout",
        "av_offset_ms", "av_offset_ms_original", "lip_shift_ms"]
STEADY = ["resynth_wer_steady", "resynth_wer_original_steady"]  # steady_wer of the output / the original


def steady_wer(text: str, audio: np.ndarray, rate: int, transcribe: Callable[[np.ndarray, int], Sequence[Word]],
               lead_ins: Sequence[float] = LEAD_INS) -> float:
    """WER of ``text`` against what ``transcribe`` hears in ``audio``, the mean over decodes of the audio
    put after each of ``lead_ins`` seconds of silence."""
    from semtalk.metrics.text import wer

    audio = np.asarray(audio, np.float32)
    heard = [transcribe(np.concatenate([np.zeros(round(s * rate), np.float32), audio]), rate) for s in lead_ins]
    return float(np.mean([wer(text, " ".join(w.text for w in words)) for words in heard]))


def run_suite(data: Path, out: Path, options: BenchOptions) -> dict:
    """Whole calls at p = 0 (``CLIPS``, then ``LONG_FORM``), then the text-loss sweep on ``CLIPS``; writes
    results.json and results.md into ``out``."""
    quick, seed = options.quick, options.seed
    clips = [data / "faces_av" / name for name in (CLIPS[:1] + CLIPS[3:4] if quick else CLIPS + LONG_FORM)]
    missing = [c for c in clips if not c.is_file()]
    if missing:
        raise SemtalkError(f"benchmark clips not found: {', '.join(map(str, missing))} (pass --data ../shared/data)")
    from semtalk.bench.text import grid_sentences
    from semtalk.media.reader import read_audio
    from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer

    out.mkdir(parents=True, exist_ok=True)
    grid_text = out / "grid_domain.txt"  # the GRID KBs' domain LM text, from the published grammar
    grid_text.write_text("\n".join(grid_sentences()) + "\n")
    listener = SpeechRecognizer(AsrConfig(align=False))
    rows, sent = [], []
    for clip in clips:
        transcript = clip.with_suffix(".txt")
        cfg = RunConfig(seed=seed, vmaf=False, progress=False,
                        transcript=str(transcript) if transcript.is_file() else None,
                        lm_text=str(grid_text) if clip.stem.startswith("grid") else None)
        report = run(clip, out / clip.stem, cfg)
        s = report["speech"]
        words = [Word(t, a, b) for t, a, b in s["sent_words"]]
        ref = reference_timings(clip)
        steady = {}
        if s["sent_text"]:
            heard = [read_audio(out / clip.stem / "received.wav", RATE), read_audio(clip, RATE)]
            steady = {k: round(steady_wer(s["sent_text"], a, RATE, listener.transcribe), 4)
                      for k, a in zip(STEADY, heard, strict=True)}
        rows.append({"clip": clip.stem, **{k: s.get(k) for k in KEYS}, **steady, "rtf": s["rtf"],
                     **(onset_error_ms(words, ref) if ref else {})})
        if clip.name in CLIPS:
            sent.append((s["sent_text"], words))
        print(f"  {clip.stem}: text+timing {s['text_bps'] + s['timing_bps']:.1f} bps, "
              f"re-ASR WER {s['resynth_wer']}, AV offset {s['av_offset_ms']} ms", flush=True)
    names = [c.stem for c in clips if c.name in CLIPS]
    sweep = text_sweep(names, sent, range(seed, seed + (5 if quick else SEEDS)))
    result = {"calls": rows, "text_loss": sweep}
    (out / "results.json").write_text(json.dumps(result, indent=2))
    (out / "results.md").write_text(markdown(result))
    return result


def reference_timings(clip: Path) -> list[tuple[str, float]] | None:
    """(word, onset s) from the corpus's hand timings: GRID ``.align`` (in 1/25000 s, ``sil`` dropped) or
    LRS2 ``.orig.txt`` (its WORD START END table); None when the clip has neither."""
    align, orig = clip.with_suffix(".align"), clip.with_suffix(".orig.txt")
    if align.is_file():
        rows = [line.split() for line in align.read_text().splitlines()]
        return [(r[2].lower(), int(r[0]) / 25000) for r in rows if len(r) == 3 and r[2] != "sil"]
    if orig.is_file():
        lines = orig.read_text().splitlines()
        head = next((i for i, line in enumerate(lines) if line.startswith("WORD START")), None)
        if head is not None:
            return [(r[0].lower(), float(r[1])) for r in (line.split() for line in lines[head + 1:]) if len(r) >= 3]
    return None


def onset_error_ms(words: list[Word], ref: list[tuple[str, float]]) -> dict:
    """Sent word onsets minus the hand-marked ones, over the words both sequences share in order (difflib
    matching on normalised text): the timing error that becomes AV offset at the receiver."""
    import difflib

    from semtalk.text.normalize import normalize

    sent, marked = [normalize(w.text) for w in words], [normalize(t) for t, _ in ref]
    errs = [1000.0 * (words[m.a + k].start - ref[m.b + k][1])
            for m in difflib.SequenceMatcher(None, sent, marked, autojunk=False).get_matching_blocks()
            for k in range(m.size)]
    if not errs:
        return {"onset_error_ms": None, "onset_abs_error_ms": None, "onsets_matched": 0}
    return {"onset_error_ms": sum(errs) / len(errs), "onset_abs_error_ms": sum(map(abs, errs)) / len(errs),
            "onsets_matched": len(errs)}


def text_sweep(names: list[str], sent: list[tuple[str, list[Word]]], seeds: range) -> list[dict]:
    """The text-loss sweep per corpus (the clip name's prefix) and TextPC language model, plus the pool.

    ``lm`` "generic" is the pocketsphinx LM alone; "kb" adds the knowledge base's domain LM where the
    corpus has a domain text: for GRID, ``bench.text.grid_sentences`` (written from the published
    grammar, not from the transcripts); LRS2 is open-domain, so its "kb" rows are its generic ones.
    Rows carry ``corpus`` (lrs2, grid, all) and ``lm``; "all" pools the clips, each weighing the same.
    """
    from semtalk.bench.text import grid_sentences, text_loss_sweep
    from semtalk.kb.language import DomainLM
    from semtalk.text.concealment import TextConcealer
    from semtalk.text.lm import NGramPredictor

    generic = TextConcealer(NGramPredictor())
    domains = {"grid": TextConcealer(NGramPredictor(domain=DomainLM.train(grid_sentences())))}
    rows = []
    for corpus in sorted({n.split("_", 1)[0] for n in names}):
        clips = [s for n, s in zip(names, sent, strict=True) if n.split("_", 1)[0] == corpus]
        swept = {lm: text_loss_sweep(clips, LOSSES, ["rs", "none"], seeds, concealer)
                 for lm, concealer in (("generic", generic), ("kb", domains.get(corpus))) if concealer is not None}
        rows += [{"corpus": corpus, "lm": lm, **r} for lm in ("generic", "kb") for r in swept.get(lm, swept["generic"])]
    keys = ("lm", "loss", "fec", "concealment")
    for key in sorted({tuple(r[k] for k in keys) for r in rows}, key=str):
        part = [r for r in rows if r["corpus"] != "all" and tuple(r[k] for k in keys) == key]
        runs = sum(r["runs"] for r in part)
        rows.append({"corpus": "all", **dict(zip(keys, key, strict=True)), "runs": runs,
                     **{m: sum(r[m] * r["runs"] for r in part) / runs for m in ("wer", "bleu")}})
    return rows


def markdown(result: dict) -> str:
    """Per-clip call numbers, their means, and received-text WER/BLEU versus loss."""
    cols = ["text_bps", "timing_bps", "prosody_bps", "asr_wer", "resynth_wer", "resynth_wer_plain",
            "resynth_wer_original", *STEADY, "resynth_wer_adapted", "mcd_db",
            "speaker_similarity_unadapted", "speaker_similarity_adapted", "av_offset_ms", "av_offset_ms_original",
            "lip_shift_ms", "onset_error_ms", "onset_abs_error_ms"]
    lines = ["| clip | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for r in result["calls"]:
        lines.append(f"| {r['clip']} | " + " | ".join(_f(r.get(c)) for c in cols) + " |")
    accepted = [r for r in result["calls"] if _corpus(r) not in LONG_FORM_CORPORA]
    means = [_mean([r.get(c) for r in accepted]) for c in cols]
    lines.append("| **mean (LRS2 + GRID)** | " + " | ".join(_f(m) for m in means) + " |")
    long_form = sorted({_corpus(r) for r in result["calls"]} & LONG_FORM_CORPORA)
    corpora = [*sorted({_corpus(r) for r in accepted}), "all", *long_form]
    lines += ["", "Re-ASR WER pooled over the sent words (errors / words, so a 6-word GRID sentence weighs 6 "
              "words, not one clip); `original`: the same listener on the input speech. `all` pools LRS2 "
              "and GRID, the acceptance set; HDTF (long-form excerpts, no transcripts) is shown apart. "
              f"`steady`: the plain listener's mean over {len(LEAD_INS)} decodes, each after a lead-in of "
              f"{', '.join(f'{1000 * s:g}' for s in LEAD_INS)} ms of silence.", "",
              "| corpus | re-ASR WER | original | re-ASR WER, steady | original, steady |", "|---|---|---|---|---|"]
    for corpus in corpora:
        part = accepted if corpus == "all" else [r for r in result["calls"] if _corpus(r) == corpus]
        keys = ["resynth_wer", "resynth_wer_original", *STEADY]
        lines.append(f"| {corpus} | " + " | ".join(_f(pooled_wer(part, k)) for k in keys) + " |")
    stages = sorted({k for r in result["calls"] for k in r["rtf"]})
    lines += ["", "| real-time factor (mean) | " + " | ".join(stages) + " |", "|---" * (len(stages) + 1) + "|",
              "| all clips | " + " | ".join(_f(_mean([r["rtf"].get(k) for r in result["calls"]])) for k in stages)
              + " |"]
    lines += ["", "Received text vs sent (WER / BLEU); TextPC with the generic LM, or with the KB's domain LM "
              "(GRID: trained on the published GRID grammar; LRS2 has none, so its KB rows equal its generic ones).",
              "", "| corpus | received text | " + " | ".join(f"p={p}" for p in LOSSES) + " |",
              "|---" * (len(LOSSES) + 2) + "|"]
    loss = result["text_loss"]
    for corpus in sorted({r["corpus"] for r in loss}, key=lambda c: (c == "all", c)):
        for fec, conceal, lm in [(f, c, m) for f in ("rs", "none") for c, m in ((False, "generic"), (True, "generic"),
                                                                                 (True, "kb"))]:
            cells = [_cell(loss, corpus, lm, p, fec, conceal, lambda r: f"{r['wer']:.3f} / {r['bleu']:.3f}")
                     for p in LOSSES]
            label = ("RS 1/2" if fec == "rs" else "no FEC") + (f" + TextPC ({lm} LM)" if conceal else "")
            lines.append(f"| {corpus} | {label} | " + " | ".join(cells) + " |")
        for lm in ("generic", "kb"):
            gains = [_gain(loss, corpus, lm, p) for p in LOSSES]
            lines.append(f"| {corpus} | **TextPC BLEU gain over RS 1/2 ({lm} LM)** | " + " | ".join(gains) + " |")
    return "\n".join(lines) + "\n"


def _corpus(row: dict) -> str:
    return row["clip"].split("_", 1)[0]


def pooled_wer(rows: list[dict], key: str) -> float | None:
    """Corpus WER of per-clip WERs ``key``: their errors summed over the clips' sent words."""
    part = [(r[key], r["words_sent"]) for r in rows if r.get(key) is not None and r.get("words_sent")]
    words = sum(n for _, n in part)
    return sum(w * n for w, n in part) / words if words else None


def _row(rows: list[dict], corpus: str, lm: str, loss: float, fec: str, conceal: bool) -> dict | None:
    return next((r for r in rows if (r["corpus"], r["lm"], r["loss"], r["fec"], r["concealment"])
                 == (corpus, lm, loss, fec, conceal)), None)


def _cell(rows: list[dict], corpus: str, lm: str, loss: float, fec: str, conceal: bool, fmt) -> str:
    row = _row(rows, corpus, lm, loss, fec, conceal)
    return "–" if row is None else fmt(row)


def _gain(rows: list[dict], corpus: str, lm: str, loss: float) -> str:
    """BLEU of RS 1/2 + TextPC minus RS 1/2 alone: the issue's acceptance number at p = 0.6."""
    with_pc, alone = _row(rows, corpus, lm, loss, "rs", True), _row(rows, corpus, lm, loss, "rs", False)
    return "–" if with_pc is None or alone is None else f"{with_pc['bleu'] - alone['bleu']:+.3f}"


def _mean(values: list) -> float | None:
    vals = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(vals) / len(vals) if vals else None


def _f(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
