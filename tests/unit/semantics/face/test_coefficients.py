from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from semtalk.semantics.face import mesh
from semtalk.semantics.face.coefficients import FaceModel, coeff_names, fit_face_model
from tests.unit.semantics.face.face_fixtures import synthetic_faces

CROP = np.array([0.02, -0.03, 0.1])


@pytest.fixture(scope="module")
def fitted(faces):
    meshes, _ = faces.sample(np.random.default_rng(10), 40)
    return fit_face_model(meshes, n_expr=6), meshes


def _xy_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())


def test_coeff_names_match_the_vector_length(fitted):
    model, meshes = fitted
    names = coeff_names(model.n_expr)
    assert len(names) == model.n_coeffs == model.n_expr + 10 == 16
    assert names[model.n_expr:model.n_expr + 1] == ["blink"]
    assert names[-3:] == ["crop_dx", "crop_dy", "crop_log_scale"]
    assert model.encode(meshes[0], CROP).shape == (16,)


def test_model_shapes_and_normalisation(fitted):
    model, _ = fitted
    assert model.mean.shape == (mesh.N_LANDMARKS, 3)
    assert model.basis.shape == (6, mesh.N_LANDMARKS * 3)
    np.testing.assert_allclose(model.mean.mean(0), 0.0, atol=1e-12)
    assert np.sqrt((model.mean**2).sum(1).mean()) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(model.basis @ model.basis.T, np.eye(6), atol=1e-10)


def test_mean_is_frontal(fitted):
    model, _ = fitted
    m = model.mean
    assert m[mesh.CHIN, 1] > m[mesh.FOREHEAD, 1]  # chin below the forehead (image y down)
    assert abs(m[mesh.CHIN, 0] - m[mesh.FOREHEAD, 0]) < 0.02
    for a, b in mesh.LEFT_RIGHT_PAIRS:
        assert m[a, 0] > m[b, 0]  # the subject's left is on the image right
        assert abs(m[a, 1] - m[b, 1]) < 0.02


def test_encode_decode_reproduces_held_out_meshes(faces, fitted):
    model, _ = fitted
    meshes, _ = faces.sample(np.random.default_rng(11), 20)
    errors = [_xy_error(model.decode(model.encode(m, CROP)), m) for m in meshes]
    assert max(errors) < 1e-3


def test_encode_decode_reproduces_enrollment_meshes(fitted):
    model, meshes = fitted
    errors = [_xy_error(model.decode(model.encode(m, CROP)), m) for m in meshes]
    assert max(errors) < 1e-3


def test_expression_carries_the_shape(faces, fitted):
    """Without its expression coefficients the decoded mesh is clearly worse: they are not decoration."""
    model, _ = fitted
    meshes, _ = faces.sample(np.random.default_rng(12), 10)
    full, rigid = [], []
    for m in meshes:
        c = model.encode(m, CROP)
        full.append(_xy_error(model.decode(c), m))
        c[: model.n_expr] = 0.0
        rigid.append(_xy_error(model.decode(c), m))
    assert np.mean(rigid) > 20 * np.mean(full)


def test_crop_motion_passes_through(fitted):
    model, meshes = fitted
    crop = np.array([0.123, -0.456, 0.25])
    c = model.encode(meshes[3], crop)
    np.testing.assert_allclose(c[-3:], crop, rtol=1e-6)
    np.testing.assert_allclose(model.split(c)["crop"], crop, rtol=1e-6)
    # The crop part does not change the decoded (crop-unit) mesh.
    np.testing.assert_allclose(model.decode(c), model.decode(model.encode(meshes[3], np.zeros(3))), atol=1e-6)


def test_blink_is_the_eye_aspect_ratio(fitted):
    model, meshes = fitted
    c = model.encode(meshes[0], CROP)
    assert model.split(c)["blink"][0] == pytest.approx(mesh.eye_aspect_ratio(meshes[0]), rel=1e-6)
    c[model.n_expr] = 0.05
    assert mesh.eye_aspect_ratio(model.decode(c)) == pytest.approx(0.05, rel=1e-6)


def test_rigid_faces_give_exact_pose():
    faces = synthetic_faces(seed=3, n_directions=0)
    meshes, poses = faces.sample(np.random.default_rng(4), 12)
    model = fit_face_model(meshes, n_expr=6)
    for m, p in zip(meshes, poses, strict=True):
        c = model.encode(m, np.zeros(3))
        parts = model.split(c)
        # The base mesh is already frontal, so the recovered rotation is the generating one.
        rot = Rotation.from_rotvec(parts["rot"].astype(np.float64))
        assert (rot * Rotation.from_matrix(p.rot).inv()).magnitude() < 1e-5
        # Depth translation is not transmitted: x, y exact, z up to a constant offset.
        dec = model.decode(c)
        np.testing.assert_allclose(dec[:, :2], m[:, :2], atol=1e-5)
        np.testing.assert_allclose(dec[:, 2] - dec[:, 2].mean(), m[:, 2] - m[:, 2].mean(), atol=1e-5)


def test_rotation_coefficients_follow_the_head(fitted):
    model, meshes = fitted
    m = meshes[0]
    centre = m.mean(0)
    turn = Rotation.from_euler("y", 10, degrees=True)
    turned = turn.apply(m - centre) + centre
    r0 = Rotation.from_rotvec(model.split(model.encode(m, CROP))["rot"].astype(np.float64))
    r1 = Rotation.from_rotvec(model.split(model.encode(turned, CROP))["rot"].astype(np.float64))
    assert np.rad2deg((r1 * r0.inv()).magnitude()) == pytest.approx(10.0, abs=1e-3)
    # Expression is pose-free: the same face turned has the same expression coefficients.
    np.testing.assert_allclose(model.encode(turned, CROP)[: model.n_expr], model.encode(m, CROP)[: model.n_expr],
                               atol=1e-5)


def test_translation_and_scale_coefficients(fitted):
    model, meshes = fitted
    m = meshes[5]
    c = model.encode(m, CROP)
    moved = model.encode(2.0 * (m - [0.5, 0.5, 0.0]) + [0.6, 0.45, 0.0], CROP)
    d = model.split(moved)
    assert d["log_scale"][0] == pytest.approx(model.split(c)["log_scale"][0] + np.log(2.0), abs=1e-5)
    dec = model.decode(moved)
    np.testing.assert_allclose(dec[:, :2], (2.0 * (m - [0.5, 0.5, 0.0]) + [0.6, 0.45, 0.0])[:, :2], atol=2e-3)


def test_decode_of_the_mean_coefficients():
    model = FaceModel(mean=synthetic_faces(seed=5, n_directions=0).base, basis=np.zeros((2, 478 * 3)))
    ear = mesh.eye_aspect_ratio(model.mean)
    c = np.array([0.0, 0.0, ear, 0.0, 0.0, 0.0, 0.25, 0.75, np.log(0.5), 0.0, 0.0, 0.0])
    expected = 0.5 * model.mean + [0.25, 0.75, 0.0]
    np.testing.assert_allclose(model.decode(c), expected, atol=1e-12)
