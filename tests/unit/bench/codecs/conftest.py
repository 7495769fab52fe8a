"""Synthetic clips the codec tests make themselves: a moving textured pattern and a chirp."""

from __future__ import annotations

import numpy as np
import pytest


def moving_pattern(n: int = 40, size: int = 64) -> list[np.ndarray]:
    """RGB uint8 frames of smooth gradients and a bright square sliding 1 px per frame."""
    yy, xx = np.mgrid[0:size, 0:size]
    frames = []
    for t in range(n):
        r = 128 + 80 * np.sin((xx + 2 * t) / 7.0)
        g = 128 + 80 * np.cos((yy - t) / 9.0)
        b = 128 + 60 * np.sin((xx + yy + 3 * t) / 11.0)
        img = np.stack([r, g, b], axis=-1)
        x0 = (8 + t) % (size - 16)
        img[20:36, x0 : x0 + 16] = 235
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


@pytest.fixture(scope="session")
def pattern() -> list[np.ndarray]:
    return moving_pattern()


@pytest.fixture(scope="session")
def speechlike() -> np.ndarray:
    """2 s at 16 kHz: a gliding harmonic tone with a syllable-rate envelope and a little noise."""
    rate = 16000
    t = np.arange(2 * rate) / rate
    f0 = 120 + 60 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(h * phase) / h for h in range(1, 8))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
    noise = np.random.default_rng(0).normal(0, 0.01, t.size)
    return (0.2 * voice * envelope + noise).astype(np.float32)
