"""Wav2Vid's report sections: ``wav2vid`` (clips, data, lips), ``audio`` (carrier, rate, listening scores) and
``speech`` (AV offset of the received lips against the received audio)."""

from __future__ import annotations

import numpy as np

from semtalk.modes.base import Speech
from semtalk.modes.syncsc.mode import filled
from semtalk.modes.wav2vid.config import Wav2vidConfig
from semtalk.modes.wav2vid.ends import AUDIO, CLIPS, FPS, RATE, Wav2vidReceiver, Wav2vidSender
from semtalk.records import rounded


def speech_section(receiver: Wav2vidReceiver, original: np.ndarray, outputs, *, score: bool) -> dict:
    """``speech.av_offset_ms``: the lips shown against the audio played (positive: audio late); the same measure
    on the original clip for reference."""
    from semtalk.dsp.sync import av_offset_ms
    from semtalk.metrics import audio as am

    if not score or not outputs.out_mouth:
        return {"scored": False}
    played = receiver.speech_audio
    return {"scored": True,
            "av_offset_ms": rounded(am.or_none(av_offset_ms, filled(outputs.out_mouth), FPS, played, RATE), 1),
            "av_offset_ms_original": rounded(am.or_none(av_offset_ms, filled(outputs.sent_mouth), FPS, original,
                                                        RATE), 1)}


def sections(config: Wav2vidConfig, sender: Wav2vidSender, receiver: Wav2vidReceiver, link, outputs,
             original: np.ndarray | None, speech: Speech | None, *, score: bool) -> dict:
    frames = max(sender.frames, 1)
    seconds = frames / FPS
    sent_frames = sum(n for _, n in sender.sent_clips)
    clip_stream, audio_stream = link.stream(CLIPS), link.stream(AUDIO)
    wav2vid = {
        "clips_sent": len(sender.sent_clips),
        "clips": [list(c) for c in sender.sent_clips],
        "clips_reused": len(sender.reused),
        "reused": [list(r) for r in sender.reused],  # [frame, clip id]: a cached clip animated again, not sent
        "reuses_applied": len(receiver.reuses_applied),
        "clips_received": len(receiver.received_clips),
        "frames_sent": sent_frames,
        "frames_sent_fraction": round(sent_frames / frames, 4),
        "frames_generated": len(receiver.generated),
        "mouth_correlation": rounded(_mouth_correlation(receiver, outputs), 4) if score else None,
        "data_bytes": sender.clip_bytes + sender.control_bytes + sender.audio_bytes,
        "data_bytes_clips": sender.clip_bytes,
        "data_bytes_control": sender.control_bytes,  # the reuse records
        "data_bytes_audio": sender.audio_bytes,  # 0 with the ASC: its audio is analog symbols, not bytes
        "audio_analog_symbols": sender.audio_symbols,
        "rtp_bytes": clip_stream.bytes + audio_stream.bytes,
        "pose_threshold_deg": config.pose_threshold,
        "clip_frames": config.clip_frames, "clip_codec": config.clip_codec, "clip_kbps": config.clip_kbps,
        "clip_preset": config.preset, "clip_cache": config.clip_cache, "reuse_fraction": config.reuse_fraction,
        "latency_ms": round(1000 * receiver.latency, 1),
    }
    radio = link.radio()
    if radio is not None:
        clips = link.radio([CLIPS])
        audio = link.radio([AUDIO]) if config.audio_carrier == "opus" else link.analog_counts(AUDIO)
        wav2vid["channel_symbols"] = {"clips": clips.channel_uses if clips else 0,
                                      "audio": audio.channel_uses if audio else 0}
        wav2vid["channel_symbols"]["total"] = sum(wav2vid["channel_symbols"].values())
    return {"wav2vid": wav2vid, "audio": _audio(config, sender, receiver, link, original, speech, seconds, score)}


def _audio(config: Wav2vidConfig, sender: Wav2vidSender, receiver: Wav2vidReceiver, link, original, speech,
           seconds: float, score: bool) -> dict:
    from semtalk.metrics import audio as am

    stream = link.stream(AUDIO)
    out = {"mode": "transmitted", "carrier": config.audio_carrier,
           "note": "the whole audio is sent (Opus + LDPC + QAM, or the ASC's analog symbols) and played as received",
           "kbps": round(8 * sender.audio_bytes / seconds / 1000, 3) if config.audio_carrier == "opus" else None,
           "spans": sender.audio_spans, "span_ms": round(1000 * sender.coder.span / RATE, 1),
           "packets_sent": stream.packets, "packets_lost": stream.lost,
           "late_spans": receiver.late_slots}  # arrived after their play-out: decoded as lost
    if config.audio_carrier == "asc":
        counts = link.analog_counts(AUDIO)
        out["symbols_per_s"] = round(counts.symbols / seconds, 1) if counts else 0.0
    if original is None or speech is None:
        return {**out, "pesq_wb": None, "stoi": None}
    return {**out, "pesq_wb": rounded(am.or_none(am.pesq_wb, original, speech.audio, RATE)) if score else None,
            "stoi": rounded(am.or_none(am.stoi, original, speech.audio, RATE)) if score else None,
            "silent": not bool(np.any(speech.audio))}


def _mouth_correlation(receiver: Wav2vidReceiver, outputs) -> float | None:
    """Pearson correlation of the output's mouth opening with the original's (landmarks on both), over the
    generated frames that are scored (after the enrollment); None without enough of them."""
    if not outputs.out_mouth:
        return None
    out, sent = np.asarray(outputs.out_mouth, float), np.asarray(outputs.sent_mouth, float)
    idx = np.array([k for k in receiver.generated if k >= outputs.enroll_frames and k < out.size], dtype=int)
    if idx.size < 10:
        return None
    a, b = out[idx], sent[idx]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])
