"""What the receiver shows while the sender says no face is in view: the face fades into the empty scene.

The sender holds the last coefficients when it loses the face and flags the frame (``CodedFrame.face_found``), so
without this the receiver would keep drawing a face that is not there. A short loss (a hand passing, a missed
detection) keeps the face: only after ``grace`` frames does it fade, over ``fade`` frames, into the KB's background
plate seen through the same crop window, and it comes back at once with the next frame that has a face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class AbsenceFade:
    grace: int = 5  # frames (0.2 s at 25 fps) a lost face is still drawn as it was
    fade: int = 12  # frames (~0.5 s) from the face to the empty scene
    missing: int = 0  # frames played without a face, for the report (video.face_missing_frames)
    _run: int = 0

    def __call__(self, image: np.ndarray, found: bool, plate: Callable[[], np.ndarray]) -> np.ndarray:
        """``image`` as rendered, or faded towards ``plate()`` (called only when needed) while no face is in view."""
        if found:
            self._run = 0
            return image
        self.missing += 1
        self._run += 1
        a = min(max((self._run - self.grace) / self.fade, 0.0), 1.0)
        if a == 0.0:
            return image
        out = (1.0 - a) * image.astype(np.float32) + a * plate().astype(np.float32)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
