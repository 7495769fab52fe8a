"""Tiny synthetic clips made with PyAV, so the media tests need no data files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

# container suffix → (format, video codec, audio codec, audio rate)
FORMATS = {
    "mp4": ("mp4", "libx264", "aac", 16000),
    "mkv": ("matroska", "libx264", "aac", 22050),
    "webm": ("webm", "libvpx-vp9", "libopus", 48000),
    "avi": ("avi", "mpeg4", "pcm_s16le", 22050),  # libmp3lame in AVI shifts video timestamps
    "mpg": ("mpeg", "mpeg1video", "mp2", 44100),
}
TONE_HZ = 440.0


LEVELS = 22  # distinct grey levels, 10 apart: far more than codec error on a flat area


def level(index: int) -> int:
    """Grey level that encodes a frame's index (modulo LEVELS), so a test can tell which frame it got."""
    return 16 + 10 * (index % LEVELS)


def index_of(frame: np.ndarray) -> int:
    """The source index (modulo LEVELS) of a decoded frame, read from its left half, away from the square."""
    return round((float(frame[:, : frame.shape[1] // 2].mean()) - 16) / 10)


def synthetic_frame(index: int, height: int = 48, width: int = 64) -> np.ndarray:
    """A flat grey frame whose level encodes ``index``, with a white square moving right."""
    frame = np.full((height, width, 3), level(index), dtype=np.uint8)
    x = width // 2 + (2 * index) % (width // 2 - 8)
    frame[8:16, x : x + 8] = 255
    return frame


def make_clip(
    path: Path, n_frames: int = 20, fps: int = 25, audio: bool = True, size: tuple[int, int] = (48, 64)
) -> Path:
    """Write ``n_frames`` synthetic frames (and a sine tone as long as the video) in ``path``'s format."""
    fmt, vcodec, acodec, rate = FORMATS[path.suffix[1:]]
    with av.open(str(path), mode="w", format=fmt) as out:
        vs = out.add_stream(vcodec, rate=Fraction(fps))
        vs.height, vs.width = size
        vs.pix_fmt = "yuv420p"
        sound = _ToneWriter(out, acodec, rate, n_samples=round(n_frames / fps * rate)) if audio else None
        for i in range(n_frames):
            vf = av.VideoFrame.from_ndarray(synthetic_frame(i, *size), format="rgb24")
            vf = vf.reformat(format="yuv420p")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(vf))
            if sound is not None:  # interleave, as real files do (MPEG-PS needs it for its durations)
                sound.write_until(round((i + 1) / fps * rate))
        out.mux(vs.encode(None))
        if sound is not None:
            sound.close()
    return path


class _ToneWriter:
    """Encodes a 440 Hz tone in whatever sample format the audio encoder wants."""

    def __init__(self, out: object, codec: str, rate: int, n_samples: int):
        self.out, self.rate = out, rate
        self.stream = out.add_stream(codec, rate=rate, layout="mono")  # type: ignore[attr-defined]
        t = np.arange(n_samples) / rate
        self.tone = (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
        self.done = 0

    def write_until(self, end: int) -> None:
        fmt = self.stream.codec_context.format.name
        while self.done < min(end, self.tone.size):
            block = self.tone[self.done : min(end, self.done + 1152)]
            if fmt.startswith("s16"):
                data = (block * 32767).astype(np.int16)
            elif fmt.startswith("s32"):
                data = (block.astype(np.float64) * (2**31 - 1)).astype(np.int32)
            else:
                data = block
            af = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=fmt, layout="mono")
            af.sample_rate, af.pts, af.time_base = self.rate, self.done, Fraction(1, self.rate)
            self.out.mux(self.stream.encode(af))  # type: ignore[attr-defined]
            self.done += block.size

    def close(self) -> None:
        self.write_until(self.tone.size)
        self.out.mux(self.stream.encode(None))  # type: ignore[attr-defined]
