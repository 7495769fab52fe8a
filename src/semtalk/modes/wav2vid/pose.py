"""When to send a clip: the head-pose change estimate of the Wav2Vid paper (eq. 3).

    HdPoseEst = |Δyaw| + |Δpitch| + |Δroll|

between the head pose now (averaged over the last ``window`` frames, which keeps landmark jitter from firing it)
and the pose the receiver's reference shows (the last frame of the last clip sent). When it reaches the threshold
ε (degrees) a clip of ``clip_frames`` frames starts; the first frame always starts one, so the receiver has
material to animate. Frames without a face change nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation


def euler_degrees(rotation: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of a head rotation matrix (y up: yaw about y, pitch about x, roll about z)."""
    return Rotation.from_matrix(rotation).as_euler("YXZ", degrees=True)


def hd_pose_est(a: np.ndarray, b: np.ndarray) -> float:
    """Eq. 3: the L1 distance of two (yaw, pitch, roll) poses in degrees, angles wrapped to (−180, 180]."""
    d = (np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64) + 180.0) % 360.0 - 180.0
    return float(np.abs(d).sum())


@dataclass(frozen=True)
class ClipStep:
    """What the trigger decided for one frame: ``send`` it as part of a clip; ``last``: the clip ends with it."""

    send: bool
    last: bool = False


class PoseTrigger:
    """Feed one pose per frame (None without a face); says which frames go out as clips."""

    def __init__(self, threshold: float, clip_frames: int, window: int = 5) -> None:
        if not threshold > 0:
            raise ValueError(f"the pose threshold must be positive degrees, got {threshold}")
        if clip_frames < 1 or window < 1:
            raise ValueError("clip_frames and window must be at least 1")
        self.threshold, self.clip_frames = threshold, clip_frames
        self._poses: deque[np.ndarray] = deque(maxlen=window)
        self.reference: np.ndarray | None = None  # the pose the receiver's latest reference shows
        self._left = 0  # frames of the current clip still to send
        self._started = False

    @property
    def pose(self) -> np.ndarray | None:
        return np.mean(self._poses, axis=0) if self._poses else None

    def __call__(self, pose: np.ndarray | None) -> ClipStep:
        if pose is not None:
            self._poses.append(np.asarray(pose, dtype=np.float64))
        if self._left == 0:
            now = self.pose
            due = not self._started or (now is not None and (
                self.reference is None or hd_pose_est(now, self.reference) >= self.threshold))
            if not due:
                return ClipStep(False)
            self._started, self._left = True, self.clip_frames
        self._left -= 1
        if self._left == 0:
            self.reference = self.pose
        return ClipStep(True, last=self._left == 0)

    def cut(self) -> bool:
        """End the clip being sent now (the input ended); True if one was open."""
        open_clip, self._left = self._left > 0, 0
        if open_clip:
            self.reference = self.pose
        return open_clip
