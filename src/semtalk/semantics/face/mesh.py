"""Index sets of the MediaPipe face mesh (478 points with refined irises) used by encoder and renderer.

Hard-coded so that the receiver needs no MediaPipe: the topology is fixed by the model.
"""

from __future__ import annotations

import numpy as np

N_LANDMARKS = 478
N_MESH = 468  # without the 10 iris points

FACE_OVAL = np.array([
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
])
OUTER_LIPS = np.array([61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146])
INNER_LIPS = np.array([78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95])
LIPS = np.union1d(OUTER_LIPS, INNER_LIPS)

# Eye aspect ratio corners and lids (Soukupová & Čech): p1..p6 per eye.
EAR_RIGHT = np.array([33, 160, 158, 133, 153, 144])
EAR_LEFT = np.array([362, 385, 387, 263, 373, 380])
# Upper-lid point -> the lower-lid point below it, for both eyes; a blink moves the first onto the second.
LID_PAIRS = np.array([
    (246, 7), (161, 163), (160, 144), (159, 145), (158, 153), (157, 154), (173, 155),
    (466, 249), (388, 390), (387, 373), (386, 374), (385, 380), (384, 381), (398, 382),
])
IRIS = np.arange(468, 478)

# Points that define the head's left-right and up-down axes (for the frontal reference frame).
LEFT_RIGHT_PAIRS = np.array([(263, 33), (291, 61), (454, 234), (362, 133)])
FOREHEAD, CHIN = 10, 152


def eye_aspect_ratio(points: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes from 2D or 3D landmarks (≈0.3 open, <0.1 closed)."""
    ears = []
    for p1, p2, p3, p4, p5, p6 in (EAR_RIGHT, EAR_LEFT):
        xy = points[:, :2]
        vertical = np.linalg.norm(xy[p2] - xy[p6]) + np.linalg.norm(xy[p3] - xy[p5])
        horizontal = 2.0 * np.linalg.norm(xy[p1] - xy[p4])
        ears.append(vertical / max(horizontal, 1e-9))
    return float(np.mean(ears))


def set_eye_aspect_ratio(points: np.ndarray, target: float) -> np.ndarray:
    """Move the upper lids towards the lower lids so the mesh has the given eye aspect ratio."""
    current = eye_aspect_ratio(points)
    if current <= 1e-6:
        return points
    out = points.copy()
    factor = float(np.clip(target / current, 0.0, 2.0))
    upper, lower = LID_PAIRS[:, 0], LID_PAIRS[:, 1]
    out[upper] = points[lower] + (points[upper] - points[lower]) * factor
    return out


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over mouth width: the lip-opening signal that speech timing is matched to.

    Dividing by the width makes it independent of face size and distance; ≈0 closed, ≈0.3–0.6 wide open.
    """
    xy = points[:, :2]
    gap = np.linalg.norm(xy[INNER_LIPS[5]] - xy[INNER_LIPS[15]])  # 13 (upper) ↔ 14 (lower), mid-lip
    width = np.linalg.norm(xy[INNER_LIPS[0]] - xy[INNER_LIPS[10]])  # 78 ↔ 308, inner corners
    return float(gap / max(width, 1e-9))
