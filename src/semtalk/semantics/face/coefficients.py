"""Face semantics (SyncSC eq. 2): 478 landmarks ↔ a few coefficients per frame.

Layout of the coefficient vector (16 numbers with the default 6 expression coefficients)::

    [ expression × E | blink | rotation × 3 | tx, ty, log-scale | crop dx, dy, log-scale ]

Pose is the similarity that aligns the speaker's own frontal reference mesh to the frame's mesh
(Umeyama); expression is the PCA of the pose-normalised residual; blink is the eye aspect ratio;
crop motion is the crop window relative to the reference window. All of it lives in crop units
(0..1 across the face crop), so it does not depend on the source resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semtalk.semantics.face import mesh
from semtalk.semantics.face.pose import rotation_to_vector, umeyama, vector_to_rotation


def coeff_names(n_expr: int) -> list[str]:
    """Names of the coefficients in transmission order."""
    return ([f"expr{i}" for i in range(n_expr)] + ["blink", "rot_x", "rot_y", "rot_z", "tx", "ty", "log_scale",
                                                     "crop_dx", "crop_dy", "crop_log_scale"])


@dataclass(frozen=True)
class FaceModel:
    """The speaker-specific shape model shared through the knowledge base.

    ``mean`` (478, 3) is the frontal reference mesh (zero-centred, unit RMS radius); ``basis``
    (E, 478·3) holds orthonormal expression directions in that frame.
    """

    mean: np.ndarray
    basis: np.ndarray

    @property
    def n_expr(self) -> int:
        return int(self.basis.shape[0])

    @property
    def n_coeffs(self) -> int:
        return self.n_expr + 10

    def pose(self, points: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Similarity (s, R, t) taking the reference mesh onto ``points`` (crop units, 3D)."""
        return umeyama(self.mean, points)

    def encode(self, points: np.ndarray, crop_motion: np.ndarray) -> np.ndarray:
        """Landmarks in crop units (478, 3) → coefficient vector."""
        s, rot, t = self.pose(points)
        normalised = (rot.T @ (points - t).T).T / s
        expr = self.basis @ (normalised - self.mean).ravel()
        blink = mesh.eye_aspect_ratio(points)
        pose = np.concatenate([rotation_to_vector(rot), t[:2], [np.log(s)]])
        return np.concatenate([expr, [blink], pose, crop_motion]).astype(np.float32)

    def split(self, coeffs: np.ndarray) -> dict[str, np.ndarray]:
        e = self.n_expr
        return {"expr": coeffs[:e], "blink": coeffs[e:e + 1], "rot": coeffs[e + 1:e + 4],
                "trans": coeffs[e + 4:e + 6], "log_scale": coeffs[e + 6:e + 7], "crop": coeffs[e + 7:e + 10]}

    def normalised_shape(self, coeffs: np.ndarray) -> np.ndarray:
        """The frontal (pose-free) mesh for the expression part of ``coeffs``."""
        expr = np.asarray(coeffs[: self.n_expr], dtype=np.float64)
        return self.mean + (expr @ self.basis).reshape(-1, 3)

    def decode(self, coeffs: np.ndarray) -> np.ndarray:
        """Coefficient vector → landmarks in crop units (478, 3), blink applied to the eyelids."""
        parts = self.split(np.asarray(coeffs, dtype=np.float64))
        rot = vector_to_rotation(parts["rot"])
        s = float(np.exp(parts["log_scale"][0]))
        t = np.array([parts["trans"][0], parts["trans"][1], 0.0])
        points = s * (rot @ self.normalised_shape(coeffs).T).T + t
        return mesh.set_eye_aspect_ratio(points, float(parts["blink"][0]))


def fit_face_model(meshes: np.ndarray, n_expr: int = 6, iterations: int = 3) -> FaceModel:
    """Build the speaker's frontal reference and expression basis from enrollment meshes (T, 478, 3).

    Generalised Procrustes gives the mean shape; it is rotated to face the camera using the
    mesh's own left-right and chin-forehead axes, then PCA of the aligned residuals gives the basis.
    """
    ref = _centre(meshes[len(meshes) // 2])
    for _ in range(iterations):
        aligned = np.stack([_align_to(m, ref) for m in meshes])
        ref = _centre(aligned.mean(0))
    ref = _frontalise(ref)
    aligned = np.stack([_align_to(m, ref) for m in meshes])
    residual = (aligned - ref).reshape(len(meshes), -1)
    residual -= residual.mean(0)
    _, _, vt = np.linalg.svd(residual, full_matrices=False)
    basis = np.zeros((n_expr, ref.size))
    k = min(n_expr, vt.shape[0])
    basis[:k] = vt[:k]
    return FaceModel(mean=ref.astype(np.float64), basis=basis)


def _centre(points: np.ndarray) -> np.ndarray:
    c = points - points.mean(0)
    return c / np.sqrt((c**2).sum(1).mean())


def _align_to(points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``points`` brought into the reference frame (inverse of the similarity ref → points)."""
    s, rot, t = umeyama(ref, points)
    return (rot.T @ (points - t).T).T / s


def _frontalise(ref: np.ndarray) -> np.ndarray:
    x_axis = np.mean([ref[a] - ref[b] for a, b in mesh.LEFT_RIGHT_PAIRS], axis=0)
    x_axis /= np.linalg.norm(x_axis)
    y_axis = ref[mesh.CHIN] - ref[mesh.FOREHEAD]
    y_axis -= x_axis * (y_axis @ x_axis)
    y_axis /= np.linalg.norm(y_axis)
    z_axis = np.cross(x_axis, y_axis)
    basis = np.stack([x_axis, y_axis, z_axis])  # rows: new axes expressed in old coordinates
    return _centre(ref @ basis.T)
