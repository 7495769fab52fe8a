from __future__ import annotations

import numpy as np
import pytest

from semtalk.semantics.face import mesh
from semtalk.semantics.face.mesh import eye_aspect_ratio, set_eye_aspect_ratio
from tests.unit.semantics.face.face_fixtures import EYE_HALF_HEIGHT, EYE_HALF_WIDTH

# The synthetic eyes have lids at sin(π·k/8) of the half height, 2·half-width between the corners:
# EAR = (|p2 − p6| + |p3 − p5|) / (2 |p1 − p4|) with p2/p6 at k = 3 and p3/p5 at k = 5.
EXPECTED_EAR = (2 * EYE_HALF_HEIGHT * (np.sin(3 * np.pi / 8) + np.sin(5 * np.pi / 8))) / (4 * EYE_HALF_WIDTH)


def test_eye_aspect_ratio_of_known_eyes(faces):
    assert eye_aspect_ratio(faces.base) == pytest.approx(EXPECTED_EAR, rel=1e-12)


def test_eye_aspect_ratio_uses_only_x_y(faces):
    flat = faces.base.copy()
    flat[:, 2] = 123.0
    assert eye_aspect_ratio(flat) == pytest.approx(eye_aspect_ratio(faces.base[:, :2]), rel=1e-12)
    assert eye_aspect_ratio(flat) == pytest.approx(EXPECTED_EAR, rel=1e-12)


def test_eye_aspect_ratio_is_scale_and_translation_invariant(faces):
    moved = 0.3 * faces.base + np.array([5.0, -2.0, 1.0])
    assert eye_aspect_ratio(moved) == pytest.approx(eye_aspect_ratio(faces.base), rel=1e-12)


def test_eye_aspect_ratio_averages_both_eyes(faces):
    one_closed = faces.base.copy()
    upper, lower = mesh.LID_PAIRS[7:, 0], mesh.LID_PAIRS[7:, 1]  # the left eye's lids
    one_closed[upper] = one_closed[lower]
    assert eye_aspect_ratio(one_closed) == pytest.approx(EXPECTED_EAR / 2, rel=1e-12)


@pytest.mark.parametrize("target", [0.0, 0.05, 0.2, 0.4, 0.6])
def test_set_eye_aspect_ratio_reaches_target(faces, target):
    out = set_eye_aspect_ratio(faces.base, target)
    assert eye_aspect_ratio(out) == pytest.approx(target, abs=1e-12)


def test_set_eye_aspect_ratio_moves_only_upper_lids(faces):
    out = set_eye_aspect_ratio(faces.base, 0.1)
    moved = np.flatnonzero(np.any(out != faces.base, axis=1))
    assert set(moved) == set(mesh.LID_PAIRS[:, 0])


def test_closing_the_eyes_puts_upper_on_lower_lids(faces):
    out = set_eye_aspect_ratio(faces.base, 0.0)
    np.testing.assert_allclose(out[mesh.LID_PAIRS[:, 0]], faces.base[mesh.LID_PAIRS[:, 1]], atol=1e-15)


def test_set_eye_aspect_ratio_limits_opening_to_twice(faces):
    out = set_eye_aspect_ratio(faces.base, 10.0)
    assert eye_aspect_ratio(out) == pytest.approx(2 * EXPECTED_EAR, rel=1e-12)


def test_set_eye_aspect_ratio_does_not_modify_input(faces):
    before = faces.base.copy()
    set_eye_aspect_ratio(faces.base, 0.0)
    np.testing.assert_array_equal(faces.base, before)


def test_closed_eyes_cannot_be_reopened(faces):
    closed = set_eye_aspect_ratio(faces.base, 0.0)
    out = set_eye_aspect_ratio(closed, 0.3)
    np.testing.assert_array_equal(out, closed)


def test_mouth_opening_is_gap_over_width_and_scale_free():
    pts = np.zeros((mesh.N_LANDMARKS, 3))
    pts[78], pts[308] = (0.40, 0.70, 0), (0.60, 0.70, 0)  # inner corners, width 0.2
    pts[13], pts[14] = (0.50, 0.68, 0), (0.50, 0.74, 0)  # mid-lips, gap 0.06
    assert mesh.mouth_opening(pts) == pytest.approx(0.3)
    assert mesh.mouth_opening(2.0 * pts + 1.0) == pytest.approx(0.3)
    pts[14] = pts[13]
    assert mesh.mouth_opening(pts) == 0.0
