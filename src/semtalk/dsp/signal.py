"""Small signal helpers shared by the speech path and the metrics."""

from __future__ import annotations

import math

import numpy as np


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (exact rational ratio), float64 out."""
    from scipy.signal import resample_poly

    x = np.asarray(audio, dtype=np.float64)
    if rate == target:
        return x
    g = math.gcd(int(rate), int(target))
    return resample_poly(x, target // g, rate // g)


def window_power(x: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    """Mean square of ``x`` over ``[centre - half, centre + half)`` for each centre (sample indices),
    the windows cut at the signal's ends."""
    csum = np.concatenate(([0.0], np.cumsum(np.square(np.asarray(x, np.float64)))))
    lo, hi = np.clip(centres - half, 0, x.size), np.clip(centres + half, 0, x.size)
    return (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
