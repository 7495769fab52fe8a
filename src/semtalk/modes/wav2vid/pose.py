"""When to send a clip: the head-pose change estimate of the Wav2Vid paper (eq. 3).

    HdPoseEst = |Δyaw| + |Δpitch| + |Δroll|

between the head pose now (averaged over the last ``window`` frames, which keeps landmark jitter from firing it)
and the pose the receiver's reference shows (the last frame of the last clip sent). When it reaches the threshold
ε (degrees) a clip of ``clip_frames`` frames starts; the first frame always starts one, so the receiver has
material to animate. Frames without a face change nothing.

Heads go back and forth, so a clip is often due at a pose the receiver already holds a clip of. With a clip cache
(``cache`` > 0: the last ``cache`` clips sent, which the receiver keeps too) the decision waits for the clip's last
frame, the pose it would leave as the reference: if a cached clip's pose is within ``reuse_fraction`` · ε of it
(eq. 3 again; the nearest, ties to the newest) the clip is not sent, the step says "reuse clip k", and the
reference pose becomes that clip's. Deciding at the first frame instead, while the head is still turning, leaves
the receiver a reference behind the turn (measured: docs/wav2vid.md, "Clip cache"). Clip ids count the clips
sent, from 0, as the sender numbers them.
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
    """What the trigger decided for one frame: ``send`` it as part of a clip; ``last``: the clip ends with it;
    ``reuse`` (with ``last``): do not send this clip, clip ``reuse`` of the cache shows its pose: animate it again."""

    send: bool
    last: bool = False
    reuse: int | None = None


class PoseTrigger:
    """Feed one pose per frame (None without a face); says which frames go out as clips."""

    def __init__(self, threshold: float, clip_frames: int, window: int = 5, cache: int = 0,
                 reuse_fraction: float = 0.2) -> None:
        if not threshold > 0:
            raise ValueError(f"the pose threshold must be positive degrees, got {threshold}")
        if clip_frames < 1 or window < 1:
            raise ValueError("clip_frames and window must be at least 1")
        if cache < 0 or not 0 < reuse_fraction < 1:
            raise ValueError(f"cache must be ≥ 0 and reuse_fraction in (0, 1), got {cache}, {reuse_fraction}")
        self.threshold, self.clip_frames = threshold, clip_frames
        self.reuse_fraction = reuse_fraction
        self._poses: deque[np.ndarray] = deque(maxlen=window)
        self.reference: np.ndarray | None = None  # the pose the receiver's latest reference shows
        self.cached: deque[tuple[int, np.ndarray | None]] = deque(maxlen=cache)  # (clip id, its pose), oldest first
        self.clips = 0  # clips sent: the next one's id
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
        if self._left > 0:
            return ClipStep(True)
        reuse = self._nearest(self.pose)
        if reuse is not None:
            self.reference = reuse[1]
            return ClipStep(True, last=True, reuse=reuse[0])
        self._end_clip()
        return ClipStep(True, last=True)

    def _nearest(self, now: np.ndarray | None) -> tuple[int, np.ndarray] | None:
        """The cached clip whose pose is nearest ``now`` if within ρ·ε (ties: the newest), else None."""
        best = None
        for clip_id, pose in self.cached:
            if pose is None or now is None:
                continue
            distance = hd_pose_est(now, pose)
            if distance < self.reuse_fraction * self.threshold and (best is None or distance <= best[0]):
                best = distance, clip_id, pose
        return None if best is None else (best[1], best[2])

    def _end_clip(self) -> None:
        """A clip is sent: its last pose is the reference, and it joins the cache."""
        self.reference = self.pose
        if self.cached.maxlen:
            self.cached.append((self.clips, self.reference))
        self.clips += 1

    def cut(self) -> bool:
        """End the clip being sent now (the input ended); True if one was open."""
        open_clip, self._left = self._left > 0, 0
        if open_clip:
            self._end_clip()
        return open_clip
