from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from semtalk.modes.wav2vid.pose import PoseTrigger, euler_degrees, hd_pose_est


def _run(trigger: PoseTrigger, poses) -> list[int]:
    """Frames that start a clip."""
    starts, open_clip = [], False
    for k, pose in enumerate(poses):
        step = trigger(pose)
        if step.send and not open_clip:
            starts.append(k)
        open_clip = step.send and not step.last
    return starts


def test_eq3_is_the_l1_distance_of_the_angles_wrapped():
    assert hd_pose_est([10, -5, 2], [4, 1, 2]) == pytest.approx(12.0)
    assert hd_pose_est([179, 0, 0], [-179, 0, 0]) == pytest.approx(2.0)


def test_euler_degrees_reads_yaw_pitch_roll():
    yaw, pitch, roll = euler_degrees(Rotation.from_euler("YXZ", [20, -10, 5], degrees=True).as_matrix())
    assert (yaw, pitch, roll) == pytest.approx((20, -10, 5), abs=1e-6)


def test_still_head_sends_only_the_first_clip():
    assert _run(PoseTrigger(6.0, clip_frames=5), [np.zeros(3)] * 100) == [0]


def test_a_turn_past_the_threshold_sends_a_clip_and_small_jitter_does_not():
    rng = np.random.default_rng(0)
    poses = [rng.normal(0, 0.5, 3) for _ in range(60)]  # landmark jitter, well under ε
    poses += [np.array([12.0, 0, 0]) + rng.normal(0, 0.5, 3) for _ in range(60)]  # the head turns 12°
    starts = _run(PoseTrigger(6.0, clip_frames=5, window=5), poses)
    assert starts[0] == 0 and len(starts) == 2
    assert 60 <= starts[1] <= 64  # within the averaging window of the turn


def test_slow_drift_fires_once_per_threshold_crossed():
    poses = [np.array([0.1 * k, 0, 0]) for k in range(200)]  # 20° in 200 frames
    starts = _run(PoseTrigger(6.0, clip_frames=4, window=1), poses)
    assert len(starts) == 1 + 3  # the first clip, then one per 6° (plus the frames a clip takes)


def test_frames_without_a_face_change_nothing_and_cut_closes_a_clip():
    trigger = PoseTrigger(6.0, clip_frames=10)
    assert trigger(None).send  # the first frame starts a clip even without a face
    assert trigger.cut() and not trigger.cut()
    assert not trigger(None).send


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        PoseTrigger(0.0, clip_frames=5)
    with pytest.raises(ValueError):
        PoseTrigger(6.0, clip_frames=0)
