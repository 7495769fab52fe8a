"""The PSOLA warp (``semtalk.generators.stretch``) on signals the test makes itself (no piper needed)."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators import stretch


def _envelope_edges(y: np.ndarray, rate: int, db: float = -30.0) -> tuple[float, float]:
    win = round(0.005 * rate)
    env = np.sqrt(np.convolve(y**2, np.ones(win) / win, mode="same"))
    loud = np.flatnonzero(env > env.max() * 10 ** (db / 20))
    return loud[0] / rate, (loud[-1] + 1) / rate


def _f0(y: np.ndarray, rate: int) -> float:
    """Median F0 (Hz) of the voiced part of ``y`` by Praat's pitch analysis."""
    from parselmouth import Sound

    f = Sound(y, sampling_frequency=rate).to_pitch().selected_array["frequency"]
    return float(np.median(f[f > 0]))


def test_psola_warp_moves_a_voiced_burst_and_keeps_its_pitch():
    rate = 16000
    t = np.arange(rate) / rate
    burst = (t >= 0.2) & (t < 0.4)
    x = np.where(burst, 0.3 * np.sin(2 * np.pi * 120 * t) + 0.1 * np.sin(2 * np.pi * 240 * t), 0.0)
    tmap = stretch.TimeMap(np.array([0.0, 0.3, 1.0]), np.array([0.0, 0.5, 1.0]))  # 0.6x, then 1.4x
    y = stretch.warp(x, rate, tmap, 0, rate)
    onset, offset = _envelope_edges(y, rate, db=-12.0)
    assert onset == pytest.approx(0.12, abs=0.01)  # source 0.2 s → 0.12 s
    assert offset == pytest.approx(0.24, abs=0.01)  # source 0.4 s → 0.24 s
    assert _f0(y, rate) == pytest.approx(120, rel=0.02)


def test_psola_warp_is_silent_on_a_flat_piece_and_goes_on_from_the_same_instant():
    rate = 16000
    t = np.arange(rate) / rate
    x = 0.3 * np.sin(2 * np.pi * 150 * t) * (t < 0.6)
    tmap = stretch.TimeMap(np.array([0.0, 0.2, 0.5, 0.9]), np.array([0.0, 0.2, 0.2, 0.6]))  # 0.3 s pause
    y = stretch.warp(x, rate, tmap, 0, round(0.9 * rate))
    assert not y[round(0.2 * rate) + 1:round(0.5 * rate)].any()
    assert np.abs(y[round(0.05 * rate):round(0.15 * rate)]).max() > 0.2
    assert np.abs(y[round(0.55 * rate):round(0.85 * rate)]).max() > 0.2


def test_psola_warp_imposes_the_edited_pitch():
    rate = 16000
    t = np.arange(rate // 2) / rate
    x = 0.3 * np.sin(2 * np.pi * 120 * t) + 0.1 * np.sin(2 * np.pi * 240 * t)
    tmap = stretch.TimeMap(np.array([0.0, 0.5]), np.array([0.0, 0.5]))
    y = stretch.warp(x, rate, tmap, 0, len(x), pitch=lambda times, f0: f0 * 1.5)
    assert _f0(y, rate) == pytest.approx(180, rel=0.03)
