"""Results of the SyncSC suite: results.csv/json (one documented row per cell), tables like the paper's.

The schema is ``COLUMNS`` (name, type, meaning); docs/benchmark.md repeats it and a test checks the two
agree. Tables follow SyncSC's layout: Table I (video rate–quality), Fig. 8 (quality vs loss, as a
table), Tables II–III (speech), Fig. 9 (text), Table IV (AV sync), Table V (complexity).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from semtalk.bench.curves import loss_curves
from semtalk.bench.curves import mean_of as _mean


@dataclass(frozen=True)
class Column:
    name: str
    type: type
    doc: str
    timing: bool = False  # wall-clock measurements: differ run to run, everything else must not


COLUMNS = [
    Column("key", str, "hash of the task (method, clip, condition, seed) and the code version: the cache key"),
    Column("table", str, "which comparison the row belongs to: rate_quality, loss, speech, text, complexity"),
    Column("method", str, "registered bench method: semtalk, semtalk_loss, codec_video, codec_speech, text_rate, "
                          "text_loss, complexity"),
    Column("clip", str, "input file name under DATA/faces_av"),
    Column("codec", str, "x264, x265, svtav1, aom, opus, aac, semtalk, or a text coding (utf8, 5bit, ...)"),
    Column("target_kbps", float, "requested bitrate of a rate-matched codec point (kbps)"),
    Column("loss", float, "channel packet-loss probability p"),
    Column("burst", float, "mean loss burst length in packets: 1 = Bernoulli, > 1 = Gilbert–Elliott"),
    Column("fec", str, "FEC over the channel: rs (Reed–Solomon GF(2^8)), pacsc, none"),
    Column("code_rate", float, "FEC code rate k/n (1 = no FEC)"),
    Column("conceal", bool, "text over loss: RS + TextPC concealment (true) or RS alone (false)"),
    Column("stride", int, "loss cells: every stride-th held-out frame is rendered/decoded and scored"),
    Column("speech", bool, "semtalk cell ran the speech path"),
    Column("vmaf", float, "VMAF (libvmaf, 0–100) on the held-out crops; null where not computed (p > 0)"),
    Column("max_seconds", float, "complexity probe: seconds of the clip processed"),
    Column("kbps", float, "actual source bitrate (kbps): codec bitstream / semtalk coefficient stream / audio"),
    Column("kbps_rtp", float, "semtalk: with RTP headers (kbps)"),
    Column("channel_kbps", float, "bitrate on the channel including FEC parity (kbps)"),
    Column("refresh_kbps", float, "semtalk with --refresh-kbps: the KB refreshes' part of kbps"),
    Column("refreshes", int, "semtalk with --refresh-kbps: the keyframes sent as refreshes"),
    Column("floor", bool, "codec could not get down to target_kbps: this is its lowest reachable rate"),
    Column("frames", int, "video frames in the clip (25 fps)"),
    Column("heldout_start", int, "first scored frame (frames before it built the KB)"),
    Column("bpp", float, "bits per pixel of the stream alone (256×256 crop, all frames)"),
    Column("bpp_with_ref", float, "bits per pixel counting the reference/KB once per call (codecs: = bpp)"),
    Column("ref_bytes", int, "bytes sent once per call before the stream (semtalk KB; codecs 0)"),
    Column("psnr", float, "mean luma PSNR (dB) over held-out frames, identical frames capped at 100"),
    Column("ssim", float, "mean luma SSIM over held-out frames"),
    Column("ms_ssim", float, "mean luma MS-SSIM over held-out frames"),
    Column("ssim_block", float, "cross-check rate: our SSIM in ffmpeg's convention (8×8 boxes every 4 px)"),
    Column("ffmpeg_psnr", float, "cross-check rate: ffmpeg psnr filter, mean of per-frame luma PSNR (dB)"),
    Column("ffmpeg_ssim", float, "cross-check rate: ffmpeg ssim filter, luma (8×8 box SSIM)"),
    Column("code_error", float, "semtalk loss: mean abs. error of played vs sent coefficients (quantiser steps)"),
    Column("packet_loss", float, "measured fraction of packets lost on the channel"),
    Column("concealed_frames", int, "frames the receiver concealed (semtalk) or froze (codec, undecodable GOP)"),
    Column("speech_kbps", float, "speech bitrate (kbps): codec, or semtalk text + timing + prosody"),
    Column("text_bps", float, "semtalk text payload (bit/s); text_rate rows: the coding's bit/s"),
    Column("timing_bps", float, "semtalk word timing payload (bit/s)"),
    Column("prosody_bps", float, "semtalk prosody payload (bit/s)"),
    Column("asr_wer", float, "WER of the sender's ASR against the transcript"),
    Column("received_wer", float, "WER of the received (concealed) words against the sent words"),
    Column("resynth_wer", float, "re-ASR WER of the output speech against the transcript/sent words"),
    Column("bleu", float, "sentence BLEU of received text against sent text (0–1)"),
    Column("semantic_similarity", float, "cosine similarity of sentence embeddings (all-MiniLM-L6-v2)"),
    Column("concealed_words", int, "words predicted by text concealment"),
    Column("mcd_db", float, "mel-cepstral distortion (dB) of output vs input speech, on the band both carry"),
    Column("pesq_wb", float, "PESQ wide-band MOS-LQO"),
    Column("stoi", float, "short-time objective intelligibility"),
    Column("speaker_similarity", float, "cosine similarity of speaker embeddings (Resemblyzer)"),
    Column("av_offset_ms", float,
           "audio–video offset of the output (ms, + = audio late; empty when no peak within ±200 ms)"),
    Column("av_offset_ms_original", float, "the same measurement on the input clip"),
    Column("ms_per_frame", float, "compute time per video frame, all stages (ms)", timing=True),
    Column("rtf", float, "real-time factor: compute seconds per media second", timing=True),
    Column("peak_rss_mb", float, "peak resident memory of a fresh process running one call (MiB)", timing=True),
    Column("thumb", str, "PNG thumbnail of the middle held-out frame (p = 0 cells)"),
    Column("details", str, "JSON: per-stage ms, channel/rate-point statistics", timing=True),
    Column("seed", int, "seed of every random draw in the cell"),
    Column("config", str, "JSON of the cell's condition"),
    Column("code_version", str, "semtalk version + git SHA prefix (part of the key)"),
    Column("git_sha", str, "full git SHA of the code that produced the row"),
    Column("status", str, "ok or error"),
    Column("error", str, "exception of a failed cell (failed cells are not cached)"),
    Column("wall_s", float, "wall time of the cell (s)", timing=True),
    Column("cpu_s", float, "CPU time of the cell, its subprocesses included (s)", timing=True),
]
NAMES = [c.name for c in COLUMNS]
TIMING = {c.name for c in COLUMNS if c.timing}


def normalise(row: dict) -> dict:
    """Exactly the schema's columns, in order; missing → None, NaN → None, numpy scalars → Python."""
    out = {}
    for col in COLUMNS:
        value = row.get(col.name)
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[col.name] = value
    return out


def write_all(rows: list[dict], out: Path) -> dict[str, Path]:
    """results.csv, results.json, results.md, figures/*.png and report.html in ``out``."""
    from semtalk.bench.figures import make_figures
    from semtalk.bench.report_html import render_html

    out.mkdir(parents=True, exist_ok=True)
    rows = [normalise(r) for r in rows]
    paths = {"csv": out / "results.csv", "json": out / "results.json", "md": out / "results.md",
             "html": out / "report.html"}
    with paths["csv"].open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=NAMES)
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    paths["json"].write_text(json.dumps(rows, indent=1))
    sections = tables(rows)
    paths["md"].write_text("\n".join(f"## {title}\n\n{body}" for title, body in sections.items()))
    figures = make_figures(rows, out / "figures")
    paths["html"].write_text(render_html(rows, sections, figures))
    return paths


def tables(rows: list[dict]) -> dict[str, str]:
    """Markdown tables keyed by their paper caption."""
    ok = [r for r in rows if r["status"] == "ok"]
    return {
        "Table I: video rate–quality (held-out 256×256 face crops, p = 0)": _rate_quality(ok),
        "Cross-check: codec numbers against ffmpeg's own psnr/ssim filters": _crosscheck(ok),
        "Fig. 8: quality vs packet loss (SSIM, mean over clips)": _loss(ok),
        "Fig. 8 (PacSC sweep): semtalk coefficient error vs packet loss (quantiser steps, mean over clips)":
            _loss(ok, "code_error"),
        "Tables II–III: speech": _speech(ok),
        "Fig. 9: text bitrate and text over loss": _text(ok),
        "Table IV: audio–video sync": _sync(ok),
        "Table V: complexity on this machine": _complexity(ok),
        "Face stream rate–distortion (held-out crops, p = 0; issue 24)": face_rate_table(ok),
        "KB refresh: quality against the refresh budget (held-out crops, p = 0; issue 24)": face_refresh_table(ok),
    }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], body: list[list[Any]]) -> str:
    if not body:
        return "_no rows (method not available or not run)_\n"
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c if isinstance(c, str) else _fmt(c) for c in r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _rate_quality(rows: list[dict]) -> str:
    rq = sorted((r for r in rows if r["table"] == "rate_quality"),
                key=lambda r: (r["clip"], r["codec"] != "semtalk", r["codec"], r["target_kbps"] or 0))
    body = [[r["clip"], r["codec"], _fmt(r["target_kbps"], 1),
             _fmt(r["kbps"], 2) + (" (floor)" if r["floor"] else ""), _fmt(r["bpp"], 5), _fmt(r["bpp_with_ref"], 5),
             _fmt(r["psnr"], 2), _fmt(r["ssim"], 4), _fmt(r["ms_ssim"], 4), _fmt(r["vmaf"], 1)] for r in rq]
    return _table(["clip", "method", "target kbps", "actual kbps", "bpp (no ref)", "bpp (with KB/ref)", "PSNR dB",
                   "SSIM", "MS-SSIM", "VMAF"], body)


def face_rate_table(rows: list[dict]) -> str:
    """The face stream's rate–distortion (issue 24): held-out SSIM and VMAF against the achieved coefficient rate
    for each ``--video-kbps`` target, per clip and as the mean over clips."""
    fr = [r for r in rows if r["table"] == "face_rate"]
    targets = sorted({r["target_kbps"] for r in fr})
    body = [[r["clip"], _fmt(r["target_kbps"], 1), _fmt(r["kbps"], 3), _fmt(r["ssim"], 4), _fmt(r["vmaf"], 1)]
            for r in sorted(fr, key=lambda r: (r["clip"], r["target_kbps"]))]
    for t in targets:
        at = [r for r in fr if r["target_kbps"] == t]
        body.append(["mean", _fmt(t, 1), *[_fmt(_mean([r[k] for r in at]), d)
                                           for k, d in (("kbps", 3), ("ssim", 4), ("vmaf", 1))]])
    return _table(["clip", "target kbps", "actual kbps", "SSIM", "VMAF"], body)


def face_refresh_table(rows: list[dict]) -> str:
    """The KB refresh's trade-off (issue 24, item 4): held-out SSIM and VMAF against the whole stream's rate
    (coefficients at 1.6 kbps plus the refreshes) for each ``--refresh-kbps`` budget, per clip and as the mean; the
    budget-0 rows are the face-rate table's 1.6-kbps cells."""
    fr = [r for r in rows if r["table"] == "face_refresh"]
    base = [{**r, "target_kbps": 0.0, "refresh_kbps": 0.0, "refreshes": 0} for r in rows
            if r["table"] == "face_rate" and r["target_kbps"] == 1.6 and fr]
    fr = base + fr
    body = [[r["clip"], _fmt(r["target_kbps"], 1), r["refreshes"], _fmt(r["refresh_kbps"], 2), _fmt(r["kbps"], 2),
             _fmt(r["ssim"], 4), _fmt(r["vmaf"], 1)] for r in sorted(fr, key=lambda r: (r["clip"], r["target_kbps"]))]
    for t in sorted({r["target_kbps"] for r in fr}):
        at = [r for r in fr if r["target_kbps"] == t]
        body.append(["mean", _fmt(t, 1), "", *[_fmt(_mean([r[k] for r in at]), d)
                                               for k, d in (("refresh_kbps", 2), ("kbps", 2), ("ssim", 4),
                                                            ("vmaf", 1))]])
    return _table(["clip", "budget kbps", "refreshes", "refresh kbps", "stream kbps", "SSIM", "VMAF"], body)


def _crosscheck(rows: list[dict]) -> str:
    body = [[r["clip"], r["codec"], _fmt(r["kbps"], 2), _fmt(r["psnr"], 3), _fmt(r["ffmpeg_psnr"], 3),
             _fmt(abs(r["psnr"] - r["ffmpeg_psnr"]), 4), _fmt(r["ssim"], 4), _fmt(r["ssim_block"], 4),
             _fmt(r["ffmpeg_ssim"], 4), _fmt(abs(r["ssim_block"] - r["ffmpeg_ssim"]), 5)]
            for r in sorted(rows, key=lambda r: (r["clip"], r["codec"]))
            if r["table"] == "rate_quality" and r["ffmpeg_psnr"] is not None and r["ffmpeg_ssim"] is not None]
    note = ("\nPSNR: ours vs ffmpeg's psnr filter (mean of per-frame luma PSNR), must agree within 0.1 dB. SSIM: our "
            "headline SSIM is Gaussian (Wang et al. 2004, 11×11, σ 1.5); ffmpeg's ssim filter uses 8×8 boxes every "
            "4 px, a different convention (up to 0.046 apart on these clips), so the check compares our block SSIM "
            "(same convention) with ffmpeg's, which must agree within 0.01; both conventions are listed.\n")
    return _table(["clip", "codec", "kbps", "PSNR ours", "PSNR ffmpeg", "|Δ| dB", "SSIM Gaussian (ours)",
                   "SSIM 8×8 (ours)", "SSIM ffmpeg", "|Δ| block"], body) + note


def _loss(rows: list[dict], metric: str = "ssim") -> str:
    curves = loss_curves(rows, metric)
    ps = sorted({p for pts in curves.values() for p in pts})
    body = [[label, "Bernoulli" if burst == 1.0 else f"bursty (L={burst:g})", *[pts.get(p) for p in ps]]
            for (label, burst), pts in curves.items()]
    note = ("\nAn undecodable codec GOP (I-frame every 25 frames in the loss cells) freezes on the last good frame; "
            "semtalk conceals lost coefficient frames. Both are scored on every 2nd held-out frame. Bursty: "
            "Gilbert–Elliott with mean burst max(L, p/(1−p)) packets.\n") if metric == "ssim" else ""
    return _table(["method", "channel", *[f"p={p:g}" for p in ps]], body) + note


def _speech(rows: list[dict]) -> str:
    sp = [r for r in rows if r["table"] == "speech" or (r["method"] == "semtalk" and r["table"] == "rate_quality"
                                                         and r["speech_kbps"] is not None)]
    by: dict[str, list[dict]] = {}
    for r in sp:
        name = "semtalk (text+timing+prosody)" if r["method"] == "semtalk" else f"{r['codec']} {r['target_kbps']:g}"
        by.setdefault(name, []).append(r)
    cols = ["speech_kbps", "pesq_wb", "stoi", "mcd_db", "resynth_wer", "speaker_similarity"]
    body = [[name, *[_mean([r[c] for r in rs]) for c in cols]] for name, rs in sorted(by.items())]
    return _table(["method (mean over clips)", "kbps", "PESQ-WB", "STOI", "MCD dB", "re-ASR WER",
                   "speaker sim."], body)


def _text(rows: list[dict]) -> str:
    rate = {}
    for r in rows:
        if r["method"] == "text_rate":
            rate.setdefault(r["codec"], []).append(r["text_bps"])
    a = _table(["text coding", "bit/s (mean over clips)"], [[k, _mean(v)] for k, v in sorted(rate.items())])
    tl: dict[tuple, dict] = {}
    text = [r for r in rows if r["method"] == "text_loss"]
    bursts = sorted({r["burst"] for r in text if r["loss"] > 0.0}) or [1.0]
    for r in text:
        for burst in bursts if r["loss"] == 0.0 else [r["burst"]]:
            key = ("RS 1/2 + concealment" if r["conceal"] else "RS 1/2 alone", burst)
            tl.setdefault(key, {}).setdefault(r["loss"], []).append((r["bleu"], r["semantic_similarity"]))
    ps = sorted({p for v in tl.values() for p in v})
    body = [[f"{name} ({'Bernoulli' if b == 1.0 else 'bursty'})",
             *[_fmt(_mean([x[0] for x in pts.get(p, [])]), 3) + " / " + _fmt(_mean([x[1] for x in pts.get(p, [])]), 3)
               for p in ps]] for (name, b), pts in sorted(tl.items())]
    return a + "\n" + _table(["BLEU / similarity", *[f"p={p:g}" for p in ps]], body)


def _sync(rows: list[dict]) -> str:
    body = [[r["clip"], r["codec"], r["av_offset_ms_original"], r["av_offset_ms"]] for r in rows
            if r["table"] == "rate_quality" and r["av_offset_ms"] is not None]
    original = {r["clip"]: r["av_offset_ms_original"] for r in rows if r["av_offset_ms_original"] is not None}
    codecs = sorted({f"{r['codec']} {r['target_kbps']:g}" for r in rows if r["method"] == "codec_speech"})
    body += [[clip, f"{', '.join(codecs)} (by construction)", off, off] for clip, off in sorted(original.items())
             if codecs]
    note = ("\nCodec outputs keep the input's timing by construction: the decoded audio is trimmed/padded to the "
            "input's exact samples (encoder delay removed) and the video frames are decoded one per input frame, so "
            "their offset is the input's own.\n")
    return _table(["clip", "method", "AV offset of input (ms)", "AV offset of output (ms)"], body) + note


def _complexity(rows: list[dict]) -> str:
    body = []
    for r in rows:
        if r["method"] != "complexity":
            continue
        ms = json.loads(r["details"] or "{}").get("ms_per_frame", {})
        body.append([r["clip"], _fmt(r["ref_bytes"]), _fmt(r["peak_rss_mb"], 0), _fmt(r["ms_per_frame"], 1),
                     _fmt(r["rtf"], 2), ", ".join(f"{k} {v:.1f}" for k, v in ms.items())])
    return _table(["clip", "KB bytes", "peak memory MiB", "ms/frame", "RTF", "ms/frame per module"], body)
