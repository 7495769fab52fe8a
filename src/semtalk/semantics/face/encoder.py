"""The sender's face stage: RGB frames → stable face crops + quantised coefficients."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from semtalk.records import CodedFrame
from semtalk.semantics.face.coefficients import FaceModel
from semtalk.semantics.face.crop import CropBox, CropTracker, crop_image, face_box
from semtalk.semantics.face.landmarks import FaceLandmarker
from semtalk.semantics.face.quantize import Quantizer, crop_quantizer


@dataclass(frozen=True)
class CropConfig:
    """How the face crop is made: output side, window size relative to the face, dead zone."""

    size: int = 256
    scale: float = 1.7
    dead_zone: float = 0.08


@dataclass(frozen=True)
class TrackedFrame:
    """One frame after landmarking and cropping; ``points`` are in crop units, None without a face."""

    index: int
    crop: np.ndarray
    points: np.ndarray | None
    box: CropBox
    crop_motion: np.ndarray


class FaceTracker:
    """Landmarks and a closed-loop quantised crop track.

    The crop motion is quantised *before* cropping, so sender and receiver share the exact window:
    the original crop used for evaluation is the one the receiver can reconstruct.
    """

    def __init__(self, config: CropConfig, ref_box: CropBox | None = None, landmarker: FaceLandmarker | None = None):
        self.config = config
        self.ref_box = ref_box
        self.landmarker = landmarker or FaceLandmarker()
        self.tracker = CropTracker(scale=config.scale, dead_zone=config.dead_zone)
        self.tracker.box = ref_box
        self.crop_q = crop_quantizer()

    def __call__(self, frames: Iterable[np.ndarray]) -> Iterator[TrackedFrame]:
        for index, rgb in enumerate(frames):
            yield self.track(index, rgb)

    def track(self, index: int, rgb: np.ndarray) -> TrackedFrame:
        """One frame: landmarks, the next crop window, the crop and the landmarks in crop units."""
        pts = self.landmarker(rgb)
        if pts is not None and self.ref_box is None:
            self.ref_box = face_box(pts, self.config.scale)
            self.tracker.box = self.ref_box
        if self.ref_box is None:  # no face seen yet: a centred window, flagged by points=None
            h, w = rgb.shape[:2]
            box = CropBox(w / 2, h / 2, float(min(h, w)))
            return TrackedFrame(index, crop_image(rgb, box, self.config.size), None, box, np.zeros(3))
        raw = self.tracker(pts)
        motion = self.crop_q.dequantize(self.crop_q.quantize(raw.motion(self.ref_box))).astype(np.float64)
        box = CropBox.from_motion(motion, self.ref_box)
        self.tracker.box = box
        crop = crop_image(rgb, box, self.config.size)
        return TrackedFrame(index, crop, None if pts is None else box.to_crop(pts), box, motion)

    def close(self) -> None:
        self.landmarker.close()


class FaceEncoder:
    """Tracked frames → quantised coefficient frames; frames without a face hold the last codes."""

    def __init__(self, model: FaceModel, quantizer: Quantizer):
        self.model, self.quantizer = model, quantizer
        self._last: np.ndarray | None = None
        self.clipped = 0

    def __call__(self, frame: TrackedFrame) -> CodedFrame:
        if frame.points is None:
            if self._last is None:
                # Nothing seen yet: the mid-range code of every coefficient, flagged as no face.
                self._last = np.full(self.model.n_coeffs, self.quantizer.levels // 2, dtype=np.uint16)
            return CodedFrame(frame.index, self._last.copy(), face_found=False)
        coeffs = self.model.encode(frame.points, frame.crop_motion)
        codes = self.quantizer.quantize(coeffs)
        self.clipped += int(np.any((codes == 0) | (codes == self.quantizer.levels)))
        self._last = codes
        return CodedFrame(frame.index, codes, face_found=True)
