"""The frames between two keyframes: dense optical flow and bidirectional warping (M3E-VSC eq. 10).

With F_ab the flow from keyframe A (time a) to keyframe B (time b) and α = (t − a)/(b − a), a point moves on a
straight line, so frame t is A moved α of the way and B moved (1 − α) of the way back, blended by time::

    I_t(x) = (1 − α)·A(x − α·F_ab(x)) + α·B(x − (1 − α)·F_ba(x))

(the flow at x stands in for the flow at the point's source: smooth motion). Flow is OpenCV's DIS (dense inverse
search) on the grey pictures, computed once per keyframe pair.
"""

from __future__ import annotations

import numpy as np


def dense_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """DIS flow (H×W×2, pixels, x then y) from RGB picture ``a`` to ``b``: a(x) ≈ b(x + F(x))."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(np.ascontiguousarray(p, dtype=np.uint8), cv2.COLOR_RGB2GRAY) for p in (a, b)]
    return dis.calc(grey[0], grey[1], None)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at x + ``flow``(x) (bilinear, edges replicated), as float32."""
    import cv2

    h, w = flow.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)
    m = grid + flow.astype(np.float32)
    return cv2.remap(np.asarray(image, np.float32), m[..., 0], m[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


class Interpolator:
    """``interpolator(a, b, alpha, key)`` → frame α of the way from ``a`` to ``b`` (eq. 10); the pair's flows are
    kept for the last ``key`` (the frames between two keyframes share them)."""

    def __init__(self) -> None:
        self._key = None
        self._flows: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, a: np.ndarray, b: np.ndarray, alpha: float, key=None) -> np.ndarray:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if key is None or key != self._key or self._flows is None:
            self._flows = (dense_flow(a, b), dense_flow(b, a))
            self._key = key
        f_ab, f_ba = self._flows
        out = (1 - alpha) * warp(a, -alpha * f_ab) + alpha * warp(b, -(1 - alpha) * f_ba)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
