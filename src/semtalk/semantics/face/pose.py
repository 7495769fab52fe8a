"""Rigid pose: similarity alignment of a 3D mesh to the speaker's own frontal reference."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity ``dst ≈ s · R @ src + t`` (Umeyama 1991), for (N, 3) point sets.

    Returns the scale, a proper rotation (det +1) and the translation.
    """
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0
    rot = u @ np.diag(d) @ vt
    var_s = (xs**2).sum() / len(src)
    scale = float((sig * d).sum() / max(var_s, 1e-12))
    trans = mu_d - scale * rot @ mu_s
    return scale, rot, trans


def rotation_to_vector(rot: np.ndarray) -> np.ndarray:
    """Rotation matrix → axis-angle vector (radians), the 3 head-rotation coefficients."""
    return Rotation.from_matrix(rot).as_rotvec()


def vector_to_rotation(vec: np.ndarray) -> np.ndarray:
    return Rotation.from_rotvec(np.asarray(vec, dtype=np.float64)).as_matrix()
