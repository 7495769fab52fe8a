from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from semtalk.semantics.face.pose import rotation_to_vector, umeyama, vector_to_rotation


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    return Rotation.random(random_state=rng).as_matrix()


@pytest.mark.parametrize("seed", range(5))
def test_umeyama_recovers_a_known_similarity(seed):
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(60, 3))
    scale, rot, trans = rng.uniform(0.1, 5.0), _random_rotation(rng), rng.normal(size=3) * 3
    dst = scale * src @ rot.T + trans
    s, r, t = umeyama(src, dst)
    assert s == pytest.approx(scale, rel=1e-10)
    np.testing.assert_allclose(r, rot, atol=1e-10)
    np.testing.assert_allclose(t, trans, atol=1e-9)


def test_umeyama_identity():
    src = np.random.default_rng(0).normal(size=(10, 3))
    s, r, t = umeyama(src, src)
    assert s == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(r, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(t, 0.0, atol=1e-12)


def test_umeyama_is_least_squares_under_noise():
    rng = np.random.default_rng(7)
    src = rng.normal(size=(500, 3))
    rot = _random_rotation(rng)
    dst = 2.0 * src @ rot.T + 1.0 + rng.normal(scale=1e-3, size=src.shape)
    s, r, t = umeyama(src, dst)
    assert s == pytest.approx(2.0, rel=1e-3)
    np.testing.assert_allclose(r, rot, atol=1e-3)
    residual = dst - (s * src @ r.T + t)
    # Perturbing the fitted rotation slightly can only increase the squared error.
    worse = dst - (s * src @ (Rotation.from_rotvec([1e-3, 0, 0]).as_matrix() @ r).T + t)
    assert (residual**2).sum() < (worse**2).sum()


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_umeyama_returns_a_proper_rotation_for_a_mirrored_target(axis):
    rng = np.random.default_rng(axis)
    src = rng.normal(size=(40, 3)) * np.array([3.0, 2.0, 1.0])
    mirror = np.eye(3)
    mirror[axis, axis] = -1.0
    dst = src @ mirror.T  # the best orthogonal fit is a reflection; a rotation must be returned
    s, r, _ = umeyama(src, dst)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert s > 0


def test_umeyama_planar_points_with_reflection_keep_det_one():
    rng = np.random.default_rng(3)
    src = np.column_stack([rng.normal(size=(30, 2)), np.zeros(30)])
    dst = src * np.array([-1.0, 1.0, 1.0]) * 2.0
    s, r, t = umeyama(src, dst)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-12)
    # A planar set can be mirrored by a rotation out of the plane: the fit is still exact.
    np.testing.assert_allclose(s * src @ r.T + t, dst, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_rotation_vector_round_trip(seed):
    rng = np.random.default_rng(seed)
    vec = rng.normal(size=3)
    vec *= rng.uniform(0.0, 3.0) / np.linalg.norm(vec)
    rot = vector_to_rotation(vec)
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(rotation_to_vector(rot), vec, atol=1e-12)


def test_rotation_vector_is_axis_times_angle():
    rot = vector_to_rotation([0.0, 0.0, np.pi / 2])
    np.testing.assert_allclose(rot @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
