"""Eq. 10: a frame between two keyframes by dense optical flow."""

from __future__ import annotations

import numpy as np

from semtalk.modes.m3e.flow import Interpolator, dense_flow


def _texture(size: int = 128) -> np.ndarray:
    import cv2

    noise = np.random.default_rng(4).integers(0, 256, (size + 40, size + 40, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2.5).astype(np.float32) * 3 - 256


def _shifted(texture: np.ndarray, dx: int, size: int = 128) -> np.ndarray:
    return np.clip(128 + texture[20:20 + size, 20 - dx:20 - dx + size], 0, 255).astype(np.uint8)


def test_halfway_between_two_shifted_pictures_is_shifted_halfway():
    texture = _texture()
    a, b = _shifted(texture, 0), _shifted(texture, 8)  # b is a moved 8 px to the right
    middle = Interpolator()(a, b, 0.5)
    flow = dense_flow(a, middle)[24:-24, 24:-24]  # away from the borders the warp replicates
    assert abs(float(np.median(flow[..., 0])) - 4.0) < 1.0
    assert abs(float(np.median(flow[..., 1]))) < 1.0
    truth = _shifted(texture, 4)
    assert np.abs(middle[24:-24, 24:-24].astype(int) - truth[24:-24, 24:-24]).mean() < 8


def test_the_ends_are_the_keyframes():
    texture = _texture()
    a, b = _shifted(texture, 0), _shifted(texture, 6)
    interpolate = Interpolator()
    assert np.abs(interpolate(a, b, 0.0, key=(0, 1)).astype(int) - a).max() <= 1
    assert np.abs(interpolate(a, b, 1.0, key=(0, 1)).astype(int) - b).max() <= 1
