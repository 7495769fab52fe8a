"""Synthetic face meshes for unit tests: a plausible 478-point layout on an ellipsoid, no MediaPipe.

Frame of the base mesh (the "frontal" frame): x to the image right, y down, z away from the camera;
the face is the half of the ellipsoid facing the camera (z < 0). The landmarks the code relies on are
placed where a real face has them: forehead (10) on top, chin (152) at the bottom, the face oval on
the silhouette, eyes and lips as closed contours in MediaPipe order, the nose tip (1) in the middle.
The left-right pairs are mirror images, so the frontalisation of the base mesh is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from semtalk.semantics.face import mesh

AXES = np.array([0.7, 1.0, 0.6])  # ellipsoid semi-axes (x, y, z)
NOSE_TIP = 1

# Eye contours from the outer to the inner corner: (outer, inner, upper lid, lower lid, centre x).
_RIGHT_EYE = (33, 133, [246, 161, 160, 159, 158, 157, 173], [7, 163, 144, 145, 153, 154, 155], -0.3)
_LEFT_EYE = (263, 362, [466, 388, 387, 386, 385, 384, 398], [249, 390, 373, 374, 380, 381, 382], 0.3)
EYE_Y, EYE_HALF_WIDTH, EYE_HALF_HEIGHT = -0.25, 0.14, 0.05
MOUTH_Y = 0.5


def surface_z(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Depth of the camera-facing half of the ellipsoid (0 on the silhouette)."""
    inside = np.clip(1.0 - (x / AXES[0]) ** 2 - (y / AXES[1]) ** 2, 0.0, None)
    return -AXES[2] * np.sqrt(inside)


def _eye(points: np.ndarray, assigned: list[int], outer: int, inner: int, upper: list[int], lower: list[int],
         cx: float) -> None:
    sign = -1.0 if cx < 0 else 1.0  # outer corner away from the face centre
    x_outer, x_inner = cx + sign * EYE_HALF_WIDTH, cx - sign * EYE_HALF_WIDTH
    t = np.linspace(0.0, 1.0, 9)[1:-1]
    xs = x_outer + (x_inner - x_outer) * t
    lid = EYE_HALF_HEIGHT * np.sin(np.pi * t)
    for idx, x, y in ((outer, [x_outer], [EYE_Y]), (inner, [x_inner], [EYE_Y]), (upper, xs, EYE_Y - lid),
                      (lower, xs, EYE_Y + lid)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        points[idx] = np.column_stack([x, y, surface_z(x, y)])
        assigned.extend(np.atleast_1d(idx).tolist())


def _ring(indices: np.ndarray, centre: tuple[float, float], radii: tuple[float, float], start: float,
          z: float | None = None) -> np.ndarray:
    theta = start + 2 * np.pi * np.arange(len(indices)) / len(indices)
    x = centre[0] + radii[0] * np.cos(theta)
    y = centre[1] + radii[1] * np.sin(theta)
    return np.column_stack([x, y, surface_z(x, y) if z is None else np.full_like(x, z)])


def base_mesh(rng: np.random.Generator) -> np.ndarray:
    """A (478, 3) frontal face mesh; features at fixed places, the other points random on the face."""
    n = mesh.N_LANDMARKS
    r = np.sqrt(rng.uniform(0.0, 0.85, n))
    theta = rng.uniform(0.0, 2 * np.pi, n)
    x, y = AXES[0] * r * np.cos(theta), AXES[1] * r * np.sin(theta)
    points = np.column_stack([x, y, surface_z(x, y)])
    assigned: list[int] = []
    # Face oval on the silhouette, clockwise in the image from the forehead (10) via 454 (right) to the chin.
    points[mesh.FACE_OVAL] = _ring(mesh.FACE_OVAL, (0.0, 0.0), (AXES[0], AXES[1]), -np.pi / 2, z=0.0)
    assigned += mesh.FACE_OVAL.tolist()
    for eye in (_RIGHT_EYE, _LEFT_EYE):
        _eye(points, assigned, *eye)
    # Lips from the right mouth corner (image left) over the top lip to the left corner and back.
    points[mesh.OUTER_LIPS] = _ring(mesh.OUTER_LIPS, (0.0, MOUTH_Y), (0.25, 0.08), np.pi)
    points[mesh.INNER_LIPS] = _ring(mesh.INNER_LIPS, (0.0, MOUTH_Y), (0.18, 0.03), np.pi)
    assigned += mesh.OUTER_LIPS.tolist() + mesh.INNER_LIPS.tolist()
    points[NOSE_TIP] = [0.0, 0.1, surface_z(np.array(0.0), np.array(0.1)) - 0.1]
    assigned.append(NOSE_TIP)
    for k, cx in enumerate((-0.3, 0.3)):  # irises: a centre and four points around it
        iris = mesh.IRIS[5 * k: 5 * k + 5]
        ring = _ring(iris[1:], (cx, EYE_Y), (0.03, 0.03), 0.0)
        points[iris] = np.vstack([[cx, EYE_Y, surface_z(np.array(cx), np.array(EYE_Y))], ring])
        assigned += iris.tolist()
    assert len(assigned) == len(set(assigned)), "feature landmarks overlap"
    return points


def expression_directions(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` smooth, orthonormal (478·3) displacement fields with no rigid/similarity component."""
    centred = base - base.mean(0)
    # Tangent space of the similarity group at the base: 3 translations, 3 rotations, 1 scale.
    tangent = [np.tile(np.eye(3)[k], (len(base), 1)).ravel() for k in range(3)]
    tangent += [np.cross(np.eye(3)[k], centred).ravel() for k in range(3)]
    tangent.append(centred.ravel())
    q, _ = np.linalg.qr(np.stack(tangent, 1))
    dirs = []
    for _ in range(n):
        centre = base[rng.integers(len(base))]
        weight = np.exp(-((base - centre) ** 2).sum(1) / (2 * 0.35**2))
        field = (weight[:, None] * rng.normal(size=3)).ravel()
        field -= q @ (q.T @ field)
        for d in dirs:
            field -= d * (d @ field)
        dirs.append(field / np.linalg.norm(field))
    return np.array(dirs).reshape(n, base.size)


@dataclass(frozen=True)
class Pose:
    scale: float
    rot: np.ndarray
    trans: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        return self.scale * points @ self.rot.T + self.trans


def random_pose(rng: np.random.Generator, max_deg: float = 20.0) -> Pose:
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = np.deg2rad(rng.uniform(0.0, max_deg))
    rot = Rotation.from_rotvec(axis * angle).as_matrix()
    trans = np.array([0.5 + rng.uniform(-0.05, 0.05), 0.5 + rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)])
    return Pose(float(rng.uniform(0.2, 0.26)), rot, trans)


@dataclass(frozen=True)
class SyntheticFaces:
    """A base face, its expression directions, and a generator of posed meshes in crop units."""

    base: np.ndarray
    directions: np.ndarray  # (D, 478·3), orthonormal
    amplitude: float

    def shape(self, weights: np.ndarray) -> np.ndarray:
        return self.base + (np.asarray(weights) @ self.directions).reshape(-1, 3)

    def sample(self, rng: np.random.Generator, n: int, max_deg: float = 20.0) -> tuple[np.ndarray, list[Pose]]:
        """``n`` meshes (n, 478, 3) with random expressions and poses, and the poses."""
        d = len(self.directions)
        # Each direction displaces the mesh by ~amplitude (RMS per point) at one standard deviation.
        scale = self.amplitude * np.sqrt(len(self.base))
        poses = [random_pose(rng, max_deg) for _ in range(n)]
        meshes = np.stack([p.apply(self.shape(rng.normal(size=d) * scale)) for p in poses])
        return meshes, poses


def synthetic_faces(seed: int = 0, n_directions: int = 4, amplitude: float = 0.02) -> SyntheticFaces:
    rng = np.random.default_rng(seed)
    base = base_mesh(rng)
    return SyntheticFaces(base, expression_directions(base, n_directions, rng), amplitude)
