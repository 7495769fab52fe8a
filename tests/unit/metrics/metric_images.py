"""Synthetic images for the metric tests: smooth random texture, like skin and background at 256 px."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def texture(rng: np.random.Generator, height: int = 128, width: int = 128, blur: float = 1.5) -> np.ndarray:
    """Band-limited colour noise with a std of 40 grey levels around mid-grey (uint8 RGB)."""
    t = gaussian_filter(rng.normal(size=(height, width, 3)), (blur, blur, 0))
    return np.clip(t / t.std() * 40 + 128, 0, 255).astype(np.uint8)


def add_noise(rng: np.random.Generator, image: np.ndarray, sigma: float) -> np.ndarray:
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    return np.rint(gaussian_filter(image.astype(np.float64), (sigma, sigma, 0))).astype(np.uint8)
