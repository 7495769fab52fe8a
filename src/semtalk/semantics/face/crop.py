"""A stable square face crop that follows the head only when it leaves a dead zone.

A still crop keeps the background still, which the receiver can then copy from the knowledge base;
the crop track is itself part of the semantics (3 coefficients: shift x, shift y, log scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semtalk.semantics.face.mesh import FACE_OVAL


@dataclass(frozen=True)
class CropBox:
    """A square window in source-frame pixels: centre and side length."""

    cx: float
    cy: float
    size: float

    def motion(self, ref: CropBox) -> np.ndarray:
        """Crop motion relative to the reference box, in reference-size units (the 3 coefficients)."""
        return np.array([(self.cx - ref.cx) / ref.size, (self.cy - ref.cy) / ref.size,
                         np.log(self.size / ref.size)])

    @staticmethod
    def from_motion(motion: np.ndarray, ref: CropBox) -> CropBox:
        dx, dy, log_s = (float(v) for v in motion)
        return CropBox(ref.cx + dx * ref.size, ref.cy + dy * ref.size, ref.size * float(np.exp(log_s)))

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Frame pixel coordinates → crop units ([0, 1] across the window; z scaled alike)."""
        out = np.array(points, dtype=np.float64, copy=True)
        out[:, 0] = (out[:, 0] - (self.cx - self.size / 2)) / self.size
        out[:, 1] = (out[:, 1] - (self.cy - self.size / 2)) / self.size
        if out.shape[1] > 2:
            out[:, 2] = out[:, 2] / self.size
        return out

    def map_to(self, other: CropBox, uv: np.ndarray) -> np.ndarray:
        """Crop units of this box → crop units of ``other`` (the same scene point)."""
        x = self.cx - self.size / 2 + uv[:, 0] * self.size
        y = self.cy - self.size / 2 + uv[:, 1] * self.size
        x0, y0 = other.cx - other.size / 2, other.cy - other.size / 2
        return np.stack([(x - x0) / other.size, (y - y0) / other.size], 1)


def face_box(landmarks: np.ndarray, scale: float) -> CropBox:
    """The crop a face asks for: centred on the face oval, ``scale`` times its larger extent."""
    oval = landmarks[FACE_OVAL, :2]
    lo, hi = oval.min(0), oval.max(0)
    centre = (lo + hi) / 2
    return CropBox(float(centre[0]), float(centre[1]), float(scale * max(hi - lo)))


class CropTracker:
    """Dead-zone crop follower: holds still until the face drifts, then eases to it.

    ``dead_zone`` is the drift (fraction of the crop size, or of log-size) tolerated before moving;
    ``ease`` the fraction of the remaining distance covered per frame while moving.
    """

    def __init__(self, scale: float = 1.7, dead_zone: float = 0.08, ease: float = 0.25):
        self.scale, self.dead_zone, self.ease = scale, dead_zone, ease
        self.box: CropBox | None = None
        self._moving = False

    def __call__(self, landmarks: np.ndarray | None) -> CropBox | None:
        if landmarks is None:
            return self.box
        want = face_box(landmarks, self.scale)
        if self.box is None:
            self.box = want
            return self.box
        drift = want.motion(self.box)
        far = np.abs(drift).max()
        if far > self.dead_zone:
            self._moving = True
        if self._moving:
            step = drift * self.ease
            self.box = CropBox.from_motion(step, self.box)
            if far < self.dead_zone / 4:
                self._moving = False
        return self.box


def crop_image(frame: np.ndarray, box: CropBox, out_size: int) -> np.ndarray:
    """Resample the square window to ``out_size``², replicating edges where it leaves the frame.

    Downscaling goes through an area resize of the whole frame first, so the crop is not aliased.
    """
    import cv2

    s = out_size / box.size
    ax = ay = s
    if s < 1:
        h, w = frame.shape[:2]
        frame = cv2.resize(frame, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        ax, ay = s * w / frame.shape[1], s * h / frame.shape[0]
    # Crop units count from pixel edges, OpenCV from pixel centres: hence the 0.5·(a − 1) terms.
    m = np.array([[ax, 0, -(box.cx - box.size / 2) * s + 0.5 * (ax - 1)],
                  [0, ay, -(box.cy - box.size / 2) * s + 0.5 * (ay - 1)]])
    return cv2.warpAffine(frame, m, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
