"""Uniform scalar quantisation of coefficients with per-coefficient ranges stored in the KB."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_BITS, MAX_BITS = 2, 16  # a code is a uint16 on the wire and in the KB


@dataclass(frozen=True)
class Quantizer:
    """``bits`` per coefficient over [lo, hi]; values outside are clipped (and counted by callers)."""

    lo: np.ndarray
    hi: np.ndarray
    bits: int = 8

    def __post_init__(self) -> None:
        if not MIN_BITS <= self.bits <= MAX_BITS:
            raise ValueError(f"quantiser bits must be in {MIN_BITS}..{MAX_BITS}, got {self.bits}")
        if np.any(np.asarray(self.hi) <= np.asarray(self.lo)):
            raise ValueError("quantiser ranges must have hi > lo for every coefficient")

    @property
    def levels(self) -> int:
        return (1 << self.bits) - 1

    def quantize(self, x: np.ndarray) -> np.ndarray:
        t = (np.asarray(x, dtype=np.float64) - self.lo) / (self.hi - self.lo)
        return np.clip(np.rint(t * self.levels), 0, self.levels).astype(np.uint16)

    def dequantize(self, codes: np.ndarray) -> np.ndarray:
        return (self.lo + np.asarray(codes, dtype=np.float64) / self.levels * (self.hi - self.lo)).astype(np.float32)

    def step(self) -> np.ndarray:
        return (self.hi - self.lo) / self.levels


# Fixed ranges for the crop motion (in reference-crop units / log scale): they do not depend on the
# speaker, so the sender can quantise the crop track before the knowledge base exists.
CROP_RANGE = (np.array([-0.5, -0.5, -0.7]), np.array([0.5, 0.5, 0.7]))


def crop_quantizer(bits: int = 8) -> Quantizer:
    return Quantizer(CROP_RANGE[0], CROP_RANGE[1], bits)


def fit_ranges(coeffs: np.ndarray, n_expr: int, margin: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-coefficient ranges from enrollment coefficients, widened so unseen frames rarely clip.

    A 2 s enrollment sees little of the head's range of motion, so each range is the enrollment
    span widened by ``margin`` of itself on both sides, and by at least a floor per kind (rotation
    0.3 rad, translation and log-scale 0.15, expression 2 σ). At 8 bits that still leaves steps of
    about 0.3 px for translation in a 256-px crop.
    """
    coeffs = np.asarray(coeffs, dtype=np.float64)[:, : n_expr + 7]  # the crop part has fixed ranges
    lo, hi = coeffs.min(0), coeffs.max(0)
    span = hi - lo
    std = coeffs.std(0)
    floor = np.concatenate([np.maximum(2 * std[:n_expr], 1e-3), [0.05], [0.3] * 3, [0.15] * 3])
    pad = np.maximum(margin * span, floor)
    lo, hi = lo - pad, hi + pad
    lo[n_expr] = 0.0  # the eye aspect ratio lives in [0, 0.6]
    hi[n_expr] = max(hi[n_expr], 0.6)
    return np.concatenate([lo, CROP_RANGE[0]]), np.concatenate([hi, CROP_RANGE[1]])
