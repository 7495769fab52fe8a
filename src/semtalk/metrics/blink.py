"""Blinks kept (issue 24): Pearson correlation of the eye aspect ratio of output and original held-out frames.

Both sides are measured the same way (MediaPipe on the 256² crops the quality metrics compare), each with its
own landmarker because MediaPipe tracks from frame to frame. The eye aspect ratio (Soukupová & Čech 2016,
``mesh.eye_aspect_ratio``) drops from ≈0.3 to below 0.1 in a blink, so a renderer that shows blinks follows the
original's curve; one that keeps the eyes open is uncorrelated with it.
"""

from __future__ import annotations

import numpy as np

MIN_FRAMES = 10  # fewer frames with a face on both sides: no correlation


class BlinkCorrelation:
    """``update`` per scored frame (``output_points``: the output's landmarks when the caller has them already);
    ``compute`` → the correlation, or None when too few frames have a face or either curve is flat."""

    def __init__(self):
        from semtalk.semantics.face.landmarks import FaceLandmarker

        self._original, self._output = FaceLandmarker(), FaceLandmarker()
        self.original: list[float] = []
        self.output: list[float] = []

    def update(self, original: np.ndarray, image: np.ndarray, output_points: np.ndarray | None = None) -> None:
        from semtalk.semantics.face.mesh import eye_aspect_ratio

        ours = self._original(original)
        theirs = output_points if output_points is not None else self._output(image)
        self.original.append(np.nan if ours is None else eye_aspect_ratio(ours))
        self.output.append(np.nan if theirs is None else eye_aspect_ratio(theirs))

    def compute(self) -> float | None:
        return correlation(np.array(self.original), np.array(self.output))

    def close(self) -> None:
        self._original.close()
        self._output.close()


def correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation over the frames where both are finite; None for < MIN_FRAMES or a flat curve."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < MIN_FRAMES or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])
