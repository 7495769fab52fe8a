"""The Txt2Vid-like baseline of the Wav2Vid suite: send only the words, and animate a face from their speech.

Txt2Vid sends text and one reference of the speaker; the receiver speaks the text (TTS) and drives a talking head
with that speech. semtalk already has the first half: its SyncSC call sends the sender's ASR words over the radio
and speaks the received ones (``received.wav``), so this cell reuses that call at the same SNR instead of
re-implementing ASR and TTS. The second half is Wav2Vid's own generator (``generators.talking_head``) given the
clip's first ``clip_frames`` frames after enrollment, coded as a Wav2Vid clip (the mode's defaults), as its
reference.

Every frame shown is generated; they are scored against the original crops on the held-out frames like every call,
with the mouth opening's correlation to the original's, and the speech against the original audio (PESQ-WB:
another voice, so expect it low) and by re-ASR (WER).
"""

from __future__ import annotations

import json
from itertools import islice

import numpy as np

from semtalk.bench.runner import BenchEnv, Task
from semtalk.bench.wav2vid import (
    call,
    encode_clip,
    heard_wer,
    held_out,
    pesq_or_floor,
    received_audio,
    syncsc_config,
)

RATE = 16000
MIN_MOUTH_FRAMES = 10  # fewer frames with a mouth on both sides: no correlation


def reference_frames(crops, clip_frames: int | None = None):
    """The receiver's reference: the first ``clip_frames`` crops after enrollment coded as a Wav2Vid clip; the
    decoded frames and the ``EncodedVideo``."""
    from semtalk.modes.wav2vid.config import Wav2vidConfig

    n = clip_frames or Wav2vidConfig.clip_frames
    start = crops.heldout_start
    encoded, decoded = encode_clip(crops.frames[start:start + n])
    return decoded, encoded


def generate(kb, reference: list[np.ndarray], audio: np.ndarray, frames: int, seed: int) -> list[np.ndarray]:
    """``frames`` frames of the talking head driven by ``audio`` (the last one held if it yields fewer)."""
    from semtalk.generators.talking_head import TalkingHead

    out = list(islice(TalkingHead(kb, seed=seed).generate(reference, audio, rate=RATE), frames))
    if not out:
        raise ValueError("the talking head generated no frame")
    return out + [out[-1]] * (frames - len(out))


def mouth_correlation(original: list[np.ndarray], shown: list[np.ndarray]) -> float | None:
    """Pearson correlation of the mouth opening (landmarks on both crops) of the shown frames with the original's;
    None without ``MIN_MOUTH_FRAMES`` frames with a face on both sides or with a constant curve."""
    from semtalk.semantics.face.landmarks import FaceLandmarker
    from semtalk.semantics.face.mesh import mouth_opening

    landmarker = FaceLandmarker()
    try:
        def curve(frames: list[np.ndarray]) -> np.ndarray:
            return np.array([np.nan if (p := landmarker(f)) is None else mouth_opening(p) for f in frames])

        a, b = curve(original), curve(shown)
    finally:
        landmarker.close()
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < MIN_MOUTH_FRAMES or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _loss(packets: dict) -> float | None:
    """The words' packet loss after the radio (before RS recovered any)."""
    return packets["lost"] / packets["sent"] if packets.get("sent") else None


def txt2vid_method(task: Task, env: BenchEnv) -> dict:
    """The received words' TTS speech animating the talking head; video, mouth, speech scores and its bytes."""
    from semtalk.bench.clips import kb_path
    from semtalk.bench.codecs import video_metrics
    from semtalk.bench.text_cells import clip_audio
    from semtalk.kb.knowledge_base import read_kb
    from semtalk.metrics import audio as am

    p = task.params
    report, folder = call(env, task.clip, syncsc_config(env, task.clip, p, task.seed), fresh=False)
    crops = held_out(env, task.clip)
    n = len(crops.frames)
    speech = received_audio(folder, round(n / crops.fps * RATE))
    kb, _ = read_kb(kb_path(env, task.clip))
    reference, encoded = reference_frames(crops)
    reference_bytes = encoded.total_bytes
    shown = generate(kb, reference, speech, n, task.seed)[crops.heldout_start:]
    q = video_metrics(list(crops.heldout), shown, vmaf=p["score_vmaf"], fps=crops.fps)
    original = clip_audio(env, task.clip)[:speech.size]
    wer_value, heard = heard_wer(env, task.clip, speech)
    silent = not speech.any()
    pesq, floored = pesq_or_floor(None if silent else am.or_none(am.pesq_wb, original, speech, RATE), silent)
    s = report.get("speech") or {}
    seconds = report["duration_s"]
    words_bytes = (s.get("text_bps") or 0.0) * seconds / 8
    return {"table": "curve", "system": "txt2vid", **{k: q[k] for k in ("psnr", "ssim", "ms_ssim")},
            "vmaf": q["vmaf"] if np.isfinite(q["vmaf"]) else None,
            "pesq_wb": pesq, "pesq_floor": floored,
            "stoi": None if silent else am.or_none(am.stoi, original, speech, RATE), "wer": wer_value,
            "mouth_correlation": mouth_correlation(list(crops.heldout), shown),
            "received_wer": s.get("received_wer"), "words_sent": s.get("words_sent"),
            "words_received": s.get("words_received"), "words_bytes": words_bytes,
            "reference_bytes": reference_bytes, "data_bytes": words_bytes + reference_bytes,
            "packet_loss": _loss(s.get("packets") or {}), "seconds": seconds,
            "details": json.dumps({"heard": heard, "received_text": s.get("received_text"),
                                   "reference_frames": len(reference)}, sort_keys=True)}
