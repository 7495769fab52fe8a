"""Keyframe selection by normalised cross-correlation (M3E-VSC eqs. 1–2).

Eq. 1: the similarity of two frames is their normalised cross-correlation (Pearson's r over the pixels)::

    ρ(X, Y) = Σ (X − X̄)(Y − Ȳ) / sqrt(Σ (X − X̄)² · Σ (Y − Ȳ)²)

Eq. 2: frame t becomes a keyframe when ρ(f_t, k) < τ for every keyframe k selected so far (the first frame always
is one). Frames are compared as 64×64 grey thumbnails: ρ is a global measure, and the thumbnail keeps it blind to
sensor noise and cheap (4096 products a keyframe a frame).
"""

from __future__ import annotations

import numpy as np

THUMB = 64


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Eq. 1 for two arrays of one shape; two flat (constant) pictures are 1 if equal, else 0."""
    x = np.asarray(a, np.float64).ravel()
    y = np.asarray(b, np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"ncc needs arrays of one size, got {x.size} and {y.size}")
    x, y = x - x.mean(), y - y.mean()
    den = float(np.sqrt((x @ x) * (y @ y)))
    if den == 0.0:
        return float(np.array_equal(np.asarray(a).ravel(), np.asarray(b).ravel()))
    return float(np.clip((x @ y) / den, -1.0, 1.0))


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """The ``THUMB``×``THUMB`` grey picture eq. 1 compares (area-averaged)."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)


class KeyframeSelector:
    """``selector(rgb)`` → whether the frame is a keyframe (eq. 2 with threshold ``tau``); ``similarity`` is the
    frame's highest ρ to the keyframes before it (1 for the first frame's own)."""

    def __init__(self, tau: float) -> None:
        if not -1.0 < tau <= 1.0:
            raise ValueError(f"the keyframe threshold τ is a correlation in (-1, 1], got {tau}")
        self.tau = tau
        self.keys: list[np.ndarray] = []
        self.similarity = 1.0

    def __call__(self, rgb: np.ndarray) -> bool:
        t = thumbnail(rgb)
        self.similarity = max((ncc(t, k) for k in self.keys), default=-1.0)
        if self.similarity < self.tau:
            self.keys.append(t)
            return True
        return False
