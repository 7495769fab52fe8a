"""A knowledge base from one portrait: the LGM-TSC receiver's single public face image.

LGM-TSC rebuilds the video from one image of the speaker kept in a public knowledge base, driven by
synthesised speech. One image has no expression statistics to learn a basis from, so the face model is its
own mesh (frontalised) with a hand-made basis: the jaw opening, then a smile. The talking head
(``generators.talking_head``) takes the mouth's direction and range from that model when, as here, the KB's
mouths show no spread; the eyes close through the blink coefficient like every KB's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semtalk.errors import SemtalkError
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.semantics.face import mesh
from semtalk.semantics.face.coefficients import FaceModel, fit_face_model
from semtalk.semantics.face.crop import crop_image, face_box
from semtalk.semantics.face.encoder import CropConfig
from semtalk.semantics.face.quantize import Quantizer, fit_ranges

# How far the jaw and smile coefficients may go either way: the talking head opens a shut mouth to 0.3 with
# about 2.5 of the jaw (HeadConfig.widest), the demo's jaw reaches 0.75.
EXPR_RANGE = 3.0
# The jaw's reach in frontal-mesh units (unit RMS radius): how far below the mouth's slit a point moves fully
# (under the mouth, and per unit beyond its corners), and how much wider than the mouth the moving part gets per
# unit below the slit. Checked on the astronaut and the Obama portrait: no mesh triangle turns over between
# shut and an opening of 0.45.
JAW_BAND = (0.08, 0.4)
JAW_WIDENS = 0.5
BITS = 8  # as the clip KB's (enroll.build.KbConfig): the keyframe's codes are what a sender would send


def animation_basis(mean: np.ndarray) -> np.ndarray:
    """Two orthonormal expression directions on the frontal mesh (y down): jaw open, then smile.

    The jaw drops the lower lip and everything below it together, as the mandible does, so the lower lip keeps
    its thickness and no triangle of the mesh turns over: full under the middle of the mouth, tapering to the
    mouth's corners, which stay put, and below them widening towards the jaw's angles; the cheeks beside the
    mouth stretch over a band that widens away from the corners.
    """
    x, y = mean[:, 0], mean[:, 1]
    upper = mesh.INNER_LIPS[:11]  # corner 78 along the upper inner lip to corner 308
    slit = np.interp(x, np.sort(x[upper]), y[upper][np.argsort(x[upper])])  # flat beyond the corners
    bottom = np.concatenate([mesh.OUTER_LIPS[10:], mesh.OUTER_LIPS[:1]])
    lip_bottom = np.interp(x, np.sort(x[bottom]), y[bottom][np.argsort(x[bottom])])
    left, right = x[mesh.OUTER_LIPS[0]], x[mesh.OUTER_LIPS[10]]
    off_centre, half = np.abs(x - (left + right) / 2), (right - left) / 2
    t = np.clip((y - slit) / (JAW_BAND[0] + JAW_BAND[1] * np.clip(off_centre - half, 0.0, None)), 0.0, 1.0)
    below = t * t * (3 - 2 * t)  # smoothstep
    lower_lip = (x > left) & (x < right) & (y >= slit - 1e-3) & (y <= lip_bottom + 1e-3)
    lower_lip[mesh.INNER_LIPS[11:]] = True
    below[lower_lip] = 1.0
    below[upper] = 0.0
    jaw = np.zeros_like(mean)
    jaw[:, 1] = below * np.clip(1 - (off_centre / (half + JAW_WIDENS * np.clip(y - slit, 0.0, None))) ** 2, 0.0, 1.0)
    smile = np.zeros_like(mean)
    for corner, side in ((61, -1.0), (291, 1.0), (78, -1.0), (308, 1.0)):
        d = np.linalg.norm(mean[:, :2] - mean[corner, :2], axis=1)
        w = np.exp(-((d / 0.15) ** 2))
        smile[:, 0] += side * w
        smile[:, 1] -= 0.6 * w
    basis = np.stack([jaw.ravel(), smile.ravel()])
    q, _ = np.linalg.qr(basis.T)
    return q.T * np.sign(np.diag(q.T @ basis.T))[:, None]


def portrait_model(points: np.ndarray) -> FaceModel:
    """The face model of one face (landmarks in crop units): its own frontalised mesh and ``animation_basis``."""
    frontal = fit_face_model(np.asarray(points, dtype=np.float64)[None], n_expr=1).mean
    return FaceModel(mean=frontal, basis=animation_basis(frontal))


def portrait_kb(image: np.ndarray, *, fps: float = 25.0, crop_size: int = 256, voice: bytes | None = None,
                language: bytes | None = None) -> KnowledgeBase:
    """The knowledge base of one RGB face image of any size: the face cropped as a clip's enrollment crops it
    (``CropConfig``'s window around the face oval), the one-image face model, that crop as the only keyframe
    and as the background plate. Round-tripped through the file format, as sender and receiver hold it."""
    from semtalk.semantics.face.landmarks import FaceLandmarker

    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise ValueError(f"a portrait is an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    rgb = np.ascontiguousarray(image[..., :3])
    marker = FaceLandmarker()
    try:
        points = marker(rgb)
    finally:
        marker.close()
    if points is None:
        raise SemtalkError("the portrait shows no face (MediaPipe found none): use a frontal photo of one face")
    crop = CropConfig(size=crop_size)
    box = face_box(points, crop.scale)
    face = crop_image(rgb, box, crop_size)
    crop_points = box.to_crop(points)
    model = portrait_model(crop_points)
    coeffs = model.encode(crop_points, np.zeros(3)).astype(np.float64)
    e = model.n_expr
    lo, hi = fit_ranges(coeffs[None], e)
    lo[:e], hi[:e] = coeffs[:e] - EXPR_RANGE, coeffs[:e] + EXPR_RANGE
    quant = Quantizer(lo, hi, BITS)
    info = {"enroll_frames": 1, "enroll_faces": 1, "n_expr": e, "keyframe_indices": [0], "mouth_indices": [],
            "portrait": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])}}
    kb = KnowledgeBase(model, quant, crop, box, fps, [Keyframe(face, quant.quantize(coeffs))], [], face, info,
                       voice=voice, language=language)
    return KnowledgeBase.from_bytes(kb.to_bytes())


def read_portrait(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8, turned upright by its EXIF orientation (phones store photos sideways)."""
    from PIL import Image, ImageOps

    p = Path(path)
    if not p.is_file():
        raise SemtalkError(f"portrait not found: {p}")
    try:
        with Image.open(p) as img:
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:  # OSError: not an image
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SemtalkError(f"{p}: not a readable image ({reason})") from exc
