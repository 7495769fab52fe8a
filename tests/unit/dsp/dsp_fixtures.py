"""Signals the DSP and metric tests build themselves."""

from __future__ import annotations

import numpy as np


def steep_low_pass(x: np.ndarray, cutoff: float, rate: int) -> np.ndarray:
    """A codec-like cut: 14th-order elliptic (0.1 dB ripple, 90 dB stop band) run forwards and backwards, so it
    changes the band and not the timing; −50 dB within 2 % of ``cutoff``."""
    from scipy.signal import ellip, sosfiltfilt

    return sosfiltfilt(ellip(14, 0.1, 90, cutoff, fs=rate, output="sos"), x)
