"""Eqs. 1–2: normalised cross-correlation and keyframe selection."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.modes.m3e.keyframes import KeyframeSelector, ncc


def test_ncc_is_numpys_correlation_coefficient():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(32, 32))
    b = 0.6 * a + rng.normal(size=(32, 32))
    assert ncc(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1], abs=1e-12)
    assert ncc(a, -a) == pytest.approx(-1.0)
    assert ncc(a, 3 * a + 7) == pytest.approx(1.0)


def test_ncc_of_flat_pictures_and_mismatched_shapes():
    flat = np.full((8, 8), 5.0)
    assert ncc(flat, flat) == 1.0
    assert ncc(flat, flat + 1) == 0.0
    with pytest.raises(ValueError, match="one size"):
        ncc(np.zeros(4), np.zeros(5))


def _scene(seed: int) -> np.ndarray:
    import cv2

    noise = np.random.default_rng(seed).integers(0, 256, (96, 96, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 3).astype(np.float32) * 4 - 384


def test_a_keyframe_at_every_scene_change_and_nowhere_else():
    rng = np.random.default_rng(1)
    scenes = [_scene(s) for s in (10, 11, 12)]
    order = [0] * 10 + [1] * 10 + [2] * 10 + [0] * 5  # the first scene comes back: similar to a keyframe, not new
    frames = [np.clip(128 + scenes[s] + rng.normal(0, 3, scenes[s].shape), 0, 255).astype(np.uint8) for s in order]
    selector = KeyframeSelector(0.9)
    chosen = [i for i, f in enumerate(frames) if selector(f)]
    assert chosen == [0, 10, 20]


def test_the_threshold_must_be_a_correlation():
    with pytest.raises(ValueError, match="τ"):
        KeyframeSelector(1.5)
