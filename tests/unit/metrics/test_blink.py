"""The blink metric's correlation: which frames count, and when there is no answer."""

from __future__ import annotations

import numpy as np

from semtalk.metrics.blink import MIN_FRAMES, correlation


def blinks(n: int = 100) -> np.ndarray:
    ear = np.full(n, 0.3)
    for start in (10, 45, 80):
        ear[start:start + 5] = [0.2, 0.08, 0.05, 0.1, 0.22]
    return ear


def test_a_renderer_that_follows_the_blinks_correlates_and_one_that_keeps_eyes_open_does_not():
    rng = np.random.default_rng(0)
    ear = blinks()
    follows = 0.9 * ear + 0.02 + rng.normal(0, 0.01, ear.size)
    stays_open = 0.3 + rng.normal(0, 0.01, ear.size)
    assert correlation(ear, follows) > 0.9
    assert abs(correlation(ear, stays_open)) < 0.3


def test_frames_without_a_face_are_left_out():
    ear = blinks()
    out = ear.copy()
    out[::3] = np.nan
    ear[1] = np.nan
    assert correlation(ear, out) > 0.999


def test_too_few_frames_or_a_flat_curve_give_none():
    ear = blinks()
    assert correlation(ear[: MIN_FRAMES - 1], ear[: MIN_FRAMES - 1]) is None
    assert correlation(ear, np.full(ear.size, 0.3)) is None
    assert correlation(np.full(50, np.nan), np.full(50, 0.3)) is None
