"""A small synthetic knowledge base whose keyframe images agree with their codes (no MediaPipe, no video).

The face is drawn where the decoded reference mesh puts it: a skin-coloured oval, dark eyes, red lips
and a saturated blue blob on the nose tip (easy to find again in a rendered frame). The background is a
red/green gradient with a constant, low blue and one white square near the top-left corner, so
nothing but the nose blob is blue and nothing but the square is white.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from semtalk.dsp.speaker import EMBED_DIM
from semtalk.dsp.world import ORDER
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.kb.voice import N_COLS, VoiceProfile
from semtalk.semantics.face import mesh
from semtalk.semantics.face.coefficients import FaceModel, fit_face_model
from semtalk.semantics.face.crop import CropBox
from semtalk.semantics.face.encoder import CropConfig
from semtalk.semantics.face.quantize import Quantizer, fit_ranges
from tests.unit.semantics.face.face_fixtures import NOSE_TIP, Pose, SyntheticFaces, synthetic_faces

SIZE = 256
N_EXPR = 6
NOSE_RADIUS = 5
BLUE = (0, 0, 255)


@dataclass(frozen=True)
class SyntheticKb:
    kb: KnowledgeBase
    faces: SyntheticFaces
    nose_px: np.ndarray  # where the nose blob is painted in the reference image (x, y pixels)
    mouth_box: tuple[int, int, int, int]  # x0, y0, w, h of the mouth-atlas patch


MARKER = (slice(14, 26), slice(14, 26))  # a white square on the background (rows, columns)


def background(size: int = SIZE) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    img = np.dstack([60 + x * 120 // size, 60 + y * 120 // size, np.full_like(x, 40)]).astype(np.uint8)
    img[MARKER] = 255
    return img


def face_image(points_px: np.ndarray, size: int = SIZE) -> np.ndarray:
    """The background with a face drawn on the 2D landmark positions (pixels)."""
    img = background(size).copy()

    def poly(idx: np.ndarray, colour: tuple[int, int, int]) -> None:
        cv2.fillPoly(img, [np.rint(points_px[idx, :2] * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)

    poly(mesh.FACE_OVAL, (210, 170, 140))
    for eye in (mesh.LID_PAIRS[:7], mesh.LID_PAIRS[7:]):  # upper lid forwards, lower lid back
        poly(np.concatenate([eye[:, 0], eye[::-1, 1]]), (60, 40, 30))
    poly(mesh.OUTER_LIPS, (190, 60, 60))
    poly(mesh.INNER_LIPS, (90, 20, 20))
    nose = points_px[NOSE_TIP, :2]
    cv2.circle(img, tuple(np.rint(nose * 16).astype(int)), NOSE_RADIUS * 16, BLUE, -1, cv2.LINE_AA, shift=4)
    return img


def face_alpha(points_px: np.ndarray, size: int = SIZE) -> np.ndarray:
    alpha = np.zeros((size, size), dtype=np.uint8)
    centre = points_px[mesh.FACE_OVAL, :2].mean(0)
    grown = centre + 1.2 * (points_px[mesh.FACE_OVAL, :2] - centre)
    cv2.fillPoly(alpha, [np.rint(grown).astype(np.int32)], 255)
    return alpha


def _nudge(codes: np.ndarray, index: int, delta: int, top: int) -> np.ndarray:
    out = codes.astype(np.int64)
    out[index] = np.clip(out[index] + delta, 0, top)
    return out.astype(np.uint16)


def make_kb(seed: int = 0, webp_quality: int = 90) -> SyntheticKb:
    """A KB with 3 keyframes (the third with alpha), 1 mouth-atlas patch and a background plate."""
    rng = np.random.default_rng(seed)
    faces = synthetic_faces(seed=seed, n_directions=4)
    meshes, _ = faces.sample(rng, 40)
    model: FaceModel = fit_face_model(meshes, n_expr=N_EXPR)
    coeffs = np.stack([model.encode(m, rng.normal(scale=0.01, size=3)) for m in meshes])
    lo, hi = fit_ranges(coeffs, N_EXPR)
    quant = Quantizer(lo, hi, 8)
    frontal = Pose(0.23, np.eye(3), np.array([0.5, 0.5, 0.0])).apply(faces.base)
    ref_codes = quant.quantize(model.encode(frontal, np.zeros(3)))
    points_px = model.decode(quant.dequantize(ref_codes)) * SIZE
    image = face_image(points_px)
    top = quant.levels
    keyframes = [
        Keyframe(image, ref_codes),
        Keyframe(image, _nudge(ref_codes, 0, 1, top)),
        Keyframe(image, _nudge(ref_codes, 1, -1, top), alpha=face_alpha(points_px)),
    ]
    lips = points_px[mesh.OUTER_LIPS, :2]
    x0, y0 = (np.floor(lips.min(0)) - 8).astype(int)
    x1, y1 = (np.ceil(lips.max(0)) + 8).astype(int)
    mouth = Keyframe(np.ascontiguousarray(image[y0:y1, x0:x1]), _nudge(ref_codes, 2, 2, top), offset=(int(x0), int(y0)))
    kb = KnowledgeBase(face_model=model, quantizer=quant, crop=CropConfig(SIZE, 1.7, 0.08),
                       ref_box=CropBox(320.0, 240.0, 300.0), fps=25.0, keyframes=keyframes, mouth_atlas=[mouth],
                       background=background(), info={"source": {"path": "synthetic"}, "seed": seed},
                       webp_quality=webp_quality)
    return SyntheticKb(kb, faces, points_px[NOSE_TIP, :2], (int(x0), int(y0), int(x1 - x0), int(y1 - y0)))


def voice_profile(**changes: object) -> bytes:
    """A plausible voice profile (piper's statistics, no mapping), with ``changes``."""
    embedding = np.zeros(EMBED_DIM, dtype=np.float32)
    embedding[0] = 1.0
    profile = VoiceProfile(lf0_mean=5.0, lf0_std=0.2, mcep_mean=np.zeros(ORDER), mcep_std=np.full(ORDER, 0.3),
                           source_lf0_mean=5.1, source_lf0_std=0.2, source_mcep_mean=np.zeros(ORDER),
                           source_mcep_std=np.full(ORDER, 0.3), mapping=np.zeros((ORDER, N_COLS)), embedding=embedding)
    return dataclasses.replace(profile, **changes).to_bytes()
