"""Bench cells of the classic-codec baselines (``semtalk.bench.codecs``): SyncSC Table I, Fig. 8, Tables II–III.

- ``codec_video_method`` at p = 0 (Table I): a rate-matched point in the call configuration (one I-frame,
  then P-frames), scored on the held-out crops with PSNR/SSIM/MS-SSIM/VMAF; at the cross-check rate it
  also measures ffmpeg's own psnr/ssim filters on the same frames (``codecs.crosscheck``).
- ``codec_video_method`` in a loss cell (Fig. 8): the point re-matched with an I-frame every
  ``LOSS_GOP`` frames, each GOP RS-protected (zfec, 32-byte symbols) and sent through the seeded
  channel; the receiver freezes on the last good frame (``decode_video(keep=...)``).
- ``codec_speech_method`` (Tables II–III): Opus/AAC encode + decode, scored with the metrics the
  semtalk speech path reports; the re-ASR reference is the transcript, else the clip's cached ASR.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from semtalk.atomic import atomic_bytes
from semtalk.bench.clips import crops_path, save_thumb, thumb_index
from semtalk.bench.runner import BenchEnv, Task

CROSSCHECK_KBPS = 20.0  # the one ladder rate per codec whose numbers are re-measured by ffmpeg's filters


def codec_video_method(task: Task, env: BenchEnv) -> dict:
    """One codec at one rate: a Table I cell at p = 0 (``table == "rate_quality"``), else a Fig. 8 cell."""
    from semtalk.bench.crops import FaceCrops

    p = task.params
    crops = FaceCrops.load(crops_path(env, task.clip))
    if p["table"] == "loss":
        return _loss_cell(task, env, crops)
    from semtalk.bench.codecs import crosscheck, decode_video, video_metrics

    point = rate_point(env, task.clip, crops, p["codec"], p["target_kbps"])
    ref, dist = list(crops.heldout), decode_video(point.encoded)[crops.heldout_start:]
    q = video_metrics(ref, dist, vmaf=p["score_vmaf"], fps=crops.fps)
    row = {**_rate_columns(point, crops), "channel_kbps": point.kbps, "psnr": q["psnr"], "ssim": q["ssim"],
           "ms_ssim": q["ms_ssim"], "vmaf": q["vmaf"], "details": _details(point)}
    if p["target_kbps"] == CROSSCHECK_KBPS:
        x = crosscheck(ref, dist, fps=crops.fps)
        row.update(ssim_block=x["ssim_block"], ffmpeg_psnr=x["ffmpeg_psnr"], ffmpeg_ssim=x["ffmpeg_ssim"])
    row["thumb"] = save_thumb(dist[thumb_index(len(dist))],
                              env.clip_dir(task.clip) / "thumbs" / f"{p['codec']}_{p['target_kbps']:g}.png")
    return row


def _loss_cell(task: Task, env: BenchEnv, crops) -> dict:
    """RS-protected GOPs over the channel; PSNR/SSIM on every ``stride``-th held-out frame."""
    from semtalk.bench.codecs import LOSS_GOP, decode_video, protect_and_lose
    from semtalk.bench.loss_cells import channel_burst, score_frames

    p = task.params
    point = rate_point(env, task.clip, crops, p["codec"], p["target_kbps"], gop=LOSS_GOP)
    burst = channel_burst(p["loss"], p["burst"])
    outcome = protect_and_lose(point.encoded, code_rate=p["code_rate"], loss=p["loss"], burst=burst,
                               seed=task.seed)
    shown = decode_video(point.encoded, keep=outcome.keep)
    scored = range(crops.heldout_start, len(crops.frames), p["stride"])
    q = score_frames(crops.frames, {i: shown[i] for i in scored})
    details = {"gop": LOSS_GOP, "channel_burst": burst, "blocks": outcome.blocks,
               "blocks_failed": outcome.blocks_failed, "split_gops": outcome.split_gops,
               "packets_sent": outcome.packets_sent, "packets_lost": outcome.packets_lost,
               "knob_kbps": point.knob_kbps, "encodes": point.encodes, "scored_frames": len(scored)}
    return {**_rate_columns(point, crops), "channel_kbps": outcome.sent_kbps, **q,
            "packet_loss": outcome.packet_loss,
            "concealed_frames": int((~outcome.decodable[crops.heldout_start:]).sum()),
            "details": json.dumps(details, sort_keys=True)}


def _rate_columns(point, crops) -> dict:
    return {"codec": point.codec, "kbps": point.kbps, "floor": point.floor, "frames": len(crops.frames),
            "heldout_start": crops.heldout_start, "bpp": point.encoded.bpp,
            "bpp_with_ref": point.encoded.bpp,  # the I-frame is inside the stream: nothing is paid apart
            "ref_bytes": 0}


def _details(point) -> str:
    return json.dumps({"knob_kbps": point.knob_kbps, "encodes": point.encodes,
                       "frame_types": point.encoded.frame_types[:1]}, sort_keys=True)


def rate_point(env: BenchEnv, clip: str, crops, codec: str, kbps: float, gop: int | None = None):
    """Rate-match once per (clip, codec, target, GOP); a re-run or another cell reuses the cached point."""
    from semtalk.bench.codecs import rate_match

    name = f"{codec}_{kbps:g}" + ("" if gop is None else f"_gop{gop}")
    path = env.clip_dir(clip) / "encoded" / f"{name}.pkl"
    if path.is_file():
        with path.open("rb") as f:
            return pickle.load(f)
    point = rate_match(list(crops.frames), codec, kbps, crops.fps, gop=gop)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_bytes(path, pickle.dumps(point))
    return point


def codec_speech_method(task: Task, env: BenchEnv) -> dict:
    """Opus/AAC at a bitrate, scored with the metrics semtalk's speech path reports (Tables II–III).

    Sync (Table IV): the decoded audio is time-aligned with the input to the sample and the video is
    untouched, so a codec's output keeps the input's AV offset by construction (the report says so).
    """
    from semtalk.bench.codecs import encode_audio
    from semtalk.bench.text_cells import ASR_RATE, clip_audio, clip_reference, transcribe
    from semtalk.metrics import audio as am
    from semtalk.metrics.text import wer

    p = task.params
    audio = clip_audio(env, task.clip)
    coded = encode_audio(audio, ASR_RATE, p["codec"], p["target_kbps"])
    out = np.asarray(coded.samples, dtype=np.float32)
    heard = " ".join(w.text for w in transcribe(out))
    return {"codec": p["codec"], "kbps": coded.kbps, "speech_kbps": coded.kbps,
            "pesq_wb": am.pesq_wb(audio, out, ASR_RATE), "stoi": am.stoi(audio, out, ASR_RATE),
            "mcd_db": am.mcd_db(audio, out, ASR_RATE),
            "speaker_similarity": am.speaker_similarity(audio, out, ASR_RATE),
            "resynth_wer": wer(clip_reference(env, task.clip), heard),
            "details": json.dumps({"reference": "transcript" if _has_transcript(env, task.clip) else "asr"})}


def _has_transcript(env: BenchEnv, clip: str) -> bool:
    return Path(env.clip_path(clip)).with_suffix(".txt").is_file()
