"""Pitch-keeping time warping with WORLD: analyse once, resample the frame axis along a time map, synthesise.

SyncSC aligns each regenerated word to its transmitted duration (§III-D). Cutting the TTS waveform per
word and stretching the pieces clicks at every cut; here a whole utterance is analysed once into WORLD's
F0 / spectral envelope / aperiodicity frames, every output frame reads the source frame that a
piecewise-linear :class:`TimeMap` assigns to it, and one synthesis makes the warped utterance. Pitch and
timbre are untouched by the warp; the caller may edit the warped F0 (prosody) before synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_MS = 5.0  # WORLD frame period: the time resolution of the warp
F0_FLOOR, F0_CEIL = 60.0, 400.0  # F0 search range of the analysis (speech; piper's voice is ~80-200 Hz)
_SILENT_SP = 1e-16  # spectral envelope power of a silent frame


@dataclass(frozen=True)
class TimeMap:
    """A piecewise-linear map from output time to source time (seconds), through knots ``(dst[k], src[k])``.

    ``dst`` must rise strictly and ``src`` must not fall. A flat piece (``src[k] == src[k+1]``) maps an
    output interval onto one source instant, which would freeze a frame; it means *silence* instead, so a
    word that may not stretch further can be followed or preceded by a pause inside its slot.
    """

    dst: np.ndarray
    src: np.ndarray

    def __post_init__(self) -> None:
        dst, src = np.asarray(self.dst, np.float64), np.asarray(self.src, np.float64)
        if dst.ndim != 1 or dst.shape != src.shape or len(dst) < 2:
            raise ValueError("a time map needs two or more (dst, src) knots")
        if np.any(np.diff(dst) <= 0) or np.any(np.diff(src) < 0):
            raise ValueError("time map knots must rise strictly in dst and not fall in src")
        object.__setattr__(self, "dst", dst)
        object.__setattr__(self, "src", src)

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Source time for each output time ``t`` (clamped to the end knots); NaN on silent pieces."""
        t = np.asarray(t, np.float64)
        out = np.interp(t, self.dst, self.src)
        piece = np.clip(np.searchsorted(self.dst, t, side="right") - 1, 0, len(self.dst) - 2)
        flat = self.src[piece + 1] == self.src[piece]
        inside = (t > self.dst[piece]) & (t < self.dst[piece + 1])
        out[flat & inside] = np.nan
        return out


@dataclass(frozen=True)
class WorldFrames:
    """WORLD parameters on a ``FRAME_MS`` grid: F0 (Hz, 0 = unvoiced), spectral envelope, aperiodicity."""

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    rate: int


def analyse(audio: np.ndarray, rate: int) -> WorldFrames:
    """WORLD analysis: Harvest F0, CheapTrick, D4C.

    Harvest, not the 10x faster DIO: on piper's voice DIO doubles F0 on whole vowels (weak fundamental),
    and a resynthesis from that F0 jumps an octave.
    """
    import pyworld

    x = np.ascontiguousarray(audio, dtype=np.float64)
    f0, t = pyworld.harvest(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    return WorldFrames(f0, pyworld.cheaptrick(x, f0, t, rate), pyworld.d4c(x, f0, t, rate), rate)


def warp(frames: WorldFrames, src_times: np.ndarray) -> WorldFrames:
    """Frames read at source times ``src_times`` (seconds, one per output frame; NaN = silence).

    Envelope and aperiodicity are interpolated linearly between the two nearest source frames; F0 in the
    log domain where both are voiced, else the nearer frame's F0 decides voicing, so no false glides
    appear at voicing edges.
    """
    n = len(frames.f0)
    pos = np.asarray(src_times, np.float64) / (FRAME_MS / 1000.0)
    silent = np.isnan(pos)
    pos = np.clip(np.where(silent, 0.0, pos), 0, n - 1)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (pos - i0)[:, None]
    sp = (1 - w) * frames.sp[i0] + w * frames.sp[i1]
    ap = (1 - w) * frames.ap[i0] + w * frames.ap[i1]
    a, b = frames.f0[i0], frames.f0[i1]
    both = (a > 0) & (b > 0)
    f0 = np.where(w[:, 0] < 0.5, a, b)
    f0[both] = np.exp((1 - w[both, 0]) * np.log(a[both]) + w[both, 0] * np.log(b[both]))
    f0[silent], sp[silent], ap[silent] = 0.0, _SILENT_SP, 1.0
    return WorldFrames(f0, sp, ap, frames.rate)


def synthesize(frames: WorldFrames, n_samples: int) -> np.ndarray:
    """WORLD synthesis, cut or zero-padded to ``n_samples`` (frame k sits at sample ``k·FRAME_MS·rate``)."""
    import pyworld

    y = pyworld.synthesize(np.ascontiguousarray(frames.f0), np.ascontiguousarray(frames.sp),
                           np.ascontiguousarray(frames.ap), frames.rate, frame_period=FRAME_MS)
    out = np.zeros(n_samples, np.float64)
    out[: min(n_samples, len(y))] = y[:n_samples]
    return out
