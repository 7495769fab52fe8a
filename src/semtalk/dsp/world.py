"""WORLD analysis and all-pass-warped mel-cepstra: the common space of voice profiles, voice conversion and MCD.

Mel-cepstra are the standard all-pass-warped ones (α = 0.42 at 16 kHz); every analysis runs at
``ANALYSIS_RATE`` so cepstra of different signals share one axis.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from semtalk.dsp.signal import resample
from semtalk.errors import MissingDependencyError

ANALYSIS_RATE = 16000  # every WORLD analysis runs here, so speaker and piper cepstra share one axis
FRAME_MS = 5.0
ORDER = 24  # mel-cepstrum order; c0 (energy) is never mapped
ALPHA = 0.42  # all-pass constant approximating the mel scale at 16 kHz
# SPTK's all-pass constants by sampling rate (Hz); between them the mel scale is interpolated, below 8 kHz held
SPTK_ALPHA = ((8000, 0.31), (10000, 0.35), (12000, 0.37), (ANALYSIS_RATE, ALPHA))
F0_FLOOR, F0_CEIL = 60.0, 500.0
SPEECH_DB = 35.0  # frames within this many dB of the loud frames count as speech
ENVELOPE_CHUNK_S = 10.0  # :func:`envelopes` analyses this much at a time: a 10-min call's envelopes alone are 0.5 GB
# (10 s: a chunk and its cepstrum temporaries ≈ 60 MB; 30 s took the 10-min call's listening tests 0.2 GB higher)


@dataclass(frozen=True)
class WorldFrames:
    """WORLD parameters of one signal at ``ANALYSIS_RATE``, one row per ``FRAME_MS``."""

    f0: np.ndarray  # (T,) Hz, 0 where unvoiced
    sp: np.ndarray  # (T, F) power spectral envelope
    ap: np.ndarray  # (T, F) aperiodicity
    mcep: np.ndarray  # (T, ORDER+1) mel-cepstrum of the envelope (natural-log amplitude)




def pyworld_module():
    import warnings

    with warnings.catch_warnings():  # pyworld imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        try:
            import pyworld
        except ImportError as exc:
            raise MissingDependencyError("pyworld", "voice analysis") from exc
    return pyworld


def world_analysis(audio: np.ndarray, rate: int) -> WorldFrames:
    """DIO+StoneMask F0, CheapTrick envelope, D4C aperiodicity, mel-cepstrum.

    DIO is used rather than Harvest: on piper's vocoded speech Harvest halves F0 on many frames
    (median 115 Hz against 159 Hz, and 138 Hz after a plain WORLD resynthesis), which would bias
    the piper statistics the F0 mapping starts from; DIO measures 159 Hz before and after, and
    recovers an imposed ×1.5 shift to within 2 %. It is also ~20× faster, which the receiver needs.
    """
    pw = pyworld_module()
    x = np.ascontiguousarray(resample(audio, rate, ANALYSIS_RATE))
    f0, t = pw.dio(x, ANALYSIS_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, t, ANALYSIS_RATE)
    sp = pw.cheaptrick(x, f0, t, ANALYSIS_RATE, f0_floor=F0_FLOOR)
    ap = pw.d4c(x, f0, t, ANALYSIS_RATE)
    return WorldFrames(f0, sp, ap, mel_cepstrum(sp))


def envelopes(audio: np.ndarray, rate: int, chunk_s: float = ENVELOPE_CHUNK_S) -> Iterator[np.ndarray]:
    """CheapTrick envelopes of ``audio`` (DIO + StoneMask F0 as :func:`world_analysis`), ``chunk_s`` at a time.

    A caller that keeps only a few numbers per frame (cepstra) holds one chunk's envelopes, not the call's:
    513 float64 bins at 200 frames/s are 0.8 MB a second. Chunks start on frame boundaries and each but the last
    drops its final frame (WORLD's frame at the chunk's very end is the next chunk's first), so the frames
    concatenate into the same grid as one analysis; an input up to ``chunk_s`` long is one analysis.
    """
    pw = pyworld_module()
    x = np.ascontiguousarray(resample(audio, rate, ANALYSIS_RATE))
    hop = round(ANALYSIS_RATE * FRAME_MS / 1000)
    step = max(1, round(chunk_s * ANALYSIS_RATE / hop)) * hop
    for start in range(0, max(len(x), 1), step):
        piece = np.ascontiguousarray(x[start:start + step + hop])  # one hop more: the next chunk's first frame
        last = start + step >= len(x)
        f0, t = pw.dio(piece, ANALYSIS_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
        f0 = pw.stonemask(piece, f0, t, ANALYSIS_RATE)
        sp = pw.cheaptrick(piece, f0, t, ANALYSIS_RATE, f0_floor=F0_FLOOR)
        yield sp if last else sp[: step // hop]
        if last:
            return


def _warp(omega: np.ndarray, alpha: float) -> np.ndarray:
    """Phase response of the first-order all-pass: the frequency warping behind mel-cepstra."""
    return omega + 2.0 * np.arctan(alpha * np.sin(omega) / (1.0 - alpha * np.cos(omega)))


def mel_cepstrum(sp: np.ndarray, order: int = ORDER, alpha: float = ALPHA) -> np.ndarray:
    """Mel-cepstrum c0..c_order of power envelopes ``sp`` (T, F), natural-log amplitude convention.

    ``log|H(ω)| = c0 + 2·Σ c_m cos(m·β(ω))`` with β the all-pass warping: the log amplitude is
    resampled on a uniform warped-frequency grid and inverse-FFT'd (what SPTK's sp2mc computes).
    """
    n_bins = sp.shape[1]
    grid = np.linspace(0.0, np.pi, n_bins)
    linear = _warp(grid, -alpha)  # warped grid point -> linear frequency
    log_amp = 0.5 * np.log(np.maximum(sp, 1e-20))
    pos = linear / np.pi * (n_bins - 1)
    lo = np.minimum(np.floor(pos).astype(int), n_bins - 2)
    frac = pos - lo
    warped = log_amp[:, lo] * (1 - frac) + log_amp[:, lo + 1] * frac
    return np.fft.irfft(warped, axis=1)[:, : order + 1]


def band_mel_cepstrum(sp: np.ndarray, band_hz: float, order: int = ORDER) -> np.ndarray:
    """Mel-cepstrum of envelopes ``sp`` (at ``ANALYSIS_RATE``) over 0..``band_hz`` alone.

    The envelope is cut at ``band_hz`` and analysed as if sampled at twice that, with the all-pass constant of
    that rate (SPTK's table, e.g. α = 0.31 for a 4 kHz band), so a band one signal lacks never enters the cepstra.
    """
    n = round(band_hz / (ANALYSIS_RATE / 2) * (sp.shape[1] - 1)) + 1
    rates, alphas = zip(*SPTK_ALPHA, strict=True)
    return mel_cepstrum(sp[:, :n], order, float(np.interp(2 * band_hz, rates, alphas)))


def mcep_to_log_amplitude(mcep: np.ndarray, n_bins: int, alpha: float = ALPHA) -> np.ndarray:
    """Inverse of :func:`mel_cepstrum`: log amplitude on the linear grid of ``n_bins`` bins."""
    n_fft = 2 * (n_bins - 1)
    padded = np.zeros((mcep.shape[0], n_fft))
    padded[:, : mcep.shape[1]] = mcep
    padded[:, n_fft - mcep.shape[1] + 1:] = mcep[:, :0:-1]
    on_warped = np.fft.rfft(padded, axis=1).real
    pos = _warp(np.linspace(0.0, np.pi, n_bins), alpha) / np.pi * (n_bins - 1)
    lo = np.minimum(np.floor(pos).astype(int), n_bins - 2)
    frac = pos - lo
    return on_warped[:, lo] * (1 - frac) + on_warped[:, lo + 1] * frac


def speech_frames(mcep: np.ndarray) -> np.ndarray:
    """Frames whose energy (c0) is within ``SPEECH_DB`` of the loud (95th percentile) frames."""
    c0 = mcep[:, 0]
    return c0 > np.percentile(c0, 95) - SPEECH_DB / 20.0 * math.log(10.0)


