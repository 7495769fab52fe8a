"""Audio quality, speaker identity and audio-video sync of regenerated speech: numpy in, float out.

SyncSC regenerates the caller's speech from words and timing, so the received waveform is never
sample-aligned with the sent one. PESQ and STOI (which align or assume alignment over short
windows) are reported for completeness; mel-cepstral distortion with DTW and speaker similarity
are the measures that tolerate re-timing, and ``av_offset_ms`` checks the regenerated audio still
lines up with the mouth. Every function resamples internally to the rate its measure is defined at.
"""

from __future__ import annotations

import math

import numpy as np

from semtalk.dsp.dtw import dtw_path
from semtalk.dsp.signal import resample
from semtalk.dsp.speaker import speaker_embedding
from semtalk.dsp.world import FRAME_MS, speech_frames, world_analysis
from semtalk.errors import MissingDependencyError

PESQ_RATE = 16000  # ITU-T P.862.2 wide-band is defined at 16 kHz
MCD_ORDER = 24  # c1..c24; c0 (energy) is excluded as is standard
_MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)
MCD_BAND_S = 2.0  # DTW may drift this far from the scaled diagonal: more than speech re-timing needs


def _trim_pair(ref: np.ndarray, deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(ref.size, deg.size)
    return ref[:n], deg[:n]


def or_none(fn, *args):
    """A metric's value, or None where the signal cannot support it (the reason is a ValueError): PESQ of a
    silent output, a speaker embedding of no speech. Tables then show a gap, not a made-up score."""
    try:
        value = fn(*args)
    except ValueError:
        return None
    return None if value is None or not math.isfinite(value) else value


def pesq_wb(ref: np.ndarray, deg: np.ndarray, rate: int) -> float:
    """Wide-band PESQ MOS-LQO (P.862.2), about 1.0 (bad) to 4.64 (identical).

    Both signals are resampled to 16 kHz and cut to the shorter one. Raises ``ValueError`` when
    PESQ cannot score the pair (under 0.25 s, or no speech found in the reference) — a benchmark
    should record that as missing rather than as a made-up score.
    """
    try:
        from pesq import PesqError, pesq
    except ImportError as exc:
        raise MissingDependencyError("pesq", "PESQ scores") from exc
    r, d = _trim_pair(resample(ref, rate, PESQ_RATE), resample(deg, rate, PESQ_RATE))
    if r.size < PESQ_RATE // 4:
        raise ValueError(f"PESQ needs at least 0.25 s of audio, got {r.size / PESQ_RATE:.3f} s")
    if not np.any(d):
        raise ValueError("PESQ cannot score a silent output")
    try:
        return float(pesq(PESQ_RATE, r, d, "wb"))
    except PesqError as exc:
        raise ValueError(f"PESQ cannot score this pair: {type(exc).__name__}") from exc


def stoi(ref: np.ndarray, deg: np.ndarray, rate: int) -> float:
    """Short-time objective intelligibility (Taal et al. 2011), 0..1; signals cut to the shorter."""
    try:
        from pystoi import stoi as _stoi
    except ImportError as exc:
        raise MissingDependencyError("pystoi", "STOI scores") from exc
    r, d = _trim_pair(np.asarray(ref, np.float64), np.asarray(deg, np.float64))
    return float(_stoi(r, d, rate, extended=False))


def mcd_db(ref: np.ndarray, deg: np.ndarray, rate: int) -> float:
    """Mel-cepstral distortion in dB over DTW-aligned speech frames.

    ``MCD = 10/ln10 · sqrt(2 · Σ_{d=1..24} (c_d − ĉ_d)²)`` averaged over the aligned pairs, on
    all-pass-warped mel-cepstra of WORLD envelopes at 16 kHz (``semtalk.dsp.world``), c0 excluded.
    Silent frames of each signal are dropped before alignment so pauses do not dilute the score. The
    alignment is banded (``MCD_BAND_S``) so its memory grows with the call's length, not with its square.
    """
    a, b = world_analysis(ref, rate).mcep, world_analysis(deg, rate).mcep
    a, b = a[speech_frames(a), 1:MCD_ORDER + 1], b[speech_frames(b), 1:MCD_ORDER + 1]
    i, j = dtw_path(a, b, band=round(1000 * MCD_BAND_S / FRAME_MS))
    return float(np.mean(_MCD_SCALE * np.sqrt(((a[i] - b[j]) ** 2).sum(1))))


def speaker_similarity(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """Cosine similarity of resemblyzer d-vectors (same encoder as the KB voice profile), -1..1."""
    return float(np.dot(speaker_embedding(a, rate), speaker_embedding(b, rate)))

