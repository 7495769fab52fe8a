"""Classic speech codecs as the baselines of SyncSC Tables II–III: Opus and AAC through PyAV.

The decoded signal must line up sample for sample with the input, or PESQ/STOI/MCD would score the
codec's delay rather than its distortion. Both codecs prepend priming samples (Opus: pre-skip,
AAC: 1024 samples of encoder delay); muxing the packets into their usual container (Ogg, mp4)
records that delay and PyAV's demuxer/decoder skips it on the way back. The result is then
resampled to the input rate (the Opus decoder always outputs 48 kHz) and trimmed or padded with
silence to the input's exact length. Bitrate is counted on codec packets, without container overhead.

Opus: libopus, VoIP application, constant bitrate (so the kbps asked is the kbps sent), 20 ms frames.
AAC: FFmpeg's native encoder (LC profile); it cannot go below its own floor per channel and rate,
which the measured ``kbps`` then shows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from semtalk.media.reader import require_av

AUDIO_CODECS = ("opus", "aac")
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


@dataclass(frozen=True)
class CodedAudio:
    """Decoded audio, time-aligned with the input and of its exact length, and the rate it cost."""

    codec: str
    target_kbps: float
    kbps: float
    samples: np.ndarray  # float32 mono at the input rate
    rate: int


def encode_audio(audio: np.ndarray, rate: int, codec: str, kbps: float) -> CodedAudio:
    """Encode and decode mono float32 ``audio`` at ``rate`` Hz with ``codec`` ('opus' or 'aac') at ``kbps``."""
    av = require_av()
    if codec not in AUDIO_CODECS:
        raise ValueError(f"unknown audio codec {codec!r}; choose one of {', '.join(AUDIO_CODECS)}")
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected non-empty mono audio, got shape {x.shape}")
    if not kbps > 0:
        raise ValueError(f"bitrate must be positive, got {kbps} kbps")
    # Opus takes only some rates; other inputs are resampled to the next one up.
    codec_rate = rate if codec == "aac" else min((r for r in _OPUS_RATES if r >= rate), default=48000)
    buffer = io.BytesIO()
    payload = 0
    with av.open(buffer, mode="w", format="ogg" if codec == "opus" else "mp4") as out:
        stream = out.add_stream("libopus" if codec == "opus" else "aac", rate=codec_rate, layout="mono")
        stream.bit_rate = round(kbps * 1000)
        if codec == "opus":
            stream.options = {"application": "voip", "vbr": "off", "frame_duration": "20"}
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name,
            layout="mono",
            rate=codec_rate,
            frame_size=stream.codec_context.frame_size or None,
        )
        frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(chunk):
                payload += packet.size
                out.mux(packet)
        for packet in stream.encode(None):
            payload += packet.size
            out.mux(packet)
    buffer.seek(0)
    decoded = []
    with av.open(buffer, mode="r") as inp:
        back = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in inp.decode(inp.streams.audio[0]):
            decoded += [f.to_ndarray().ravel() for f in back.resample(frame)]
        decoded += [f.to_ndarray().ravel() for f in back.resample(None)]
    y = np.concatenate(decoded) if decoded else np.zeros(0, dtype=np.float32)
    y = np.pad(y[: x.size], (0, max(0, x.size - y.size))).astype(np.float32)
    return CodedAudio(codec, float(kbps), payload * 8 / (x.size / rate) / 1000, y, rate)
