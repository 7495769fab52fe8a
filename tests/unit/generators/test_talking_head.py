"""The Wav2Vid talking head on a synthetic KB whose mouths open (no MediaPipe, no video, no real data)."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators.face_renderer import FaceRenderer
from semtalk.generators.talking_head import HeadConfig, TalkingHead
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.semantics.face import mesh
from semtalk.semantics.face.coefficients import FaceModel, fit_face_model
from semtalk.semantics.face.crop import CropBox
from semtalk.semantics.face.encoder import CropConfig
from semtalk.semantics.face.quantize import Quantizer, fit_ranges
from tests.unit.generators.test_lips import bursts
from tests.unit.kb.kb_fixtures import SIZE, background, face_image
from tests.unit.semantics.face.face_fixtures import Pose, synthetic_faces

JAWS = (0.0, 0.25, 0.5, 0.75)  # jaw coefficients of the KB's keyframes (the first is the reference)
ATLAS_JAWS = (0.15, 0.4, 0.6)
INNER_MOUTH = (90, 20, 20)  # face_image's colour inside the inner lips


def jaw_model(seed: int = 0) -> tuple[FaceModel, np.ndarray]:
    """A face model whose first expression coefficient drops the lower lip (the others: random smooth fields),
    and the frontal reference mesh in crop units."""
    faces = synthetic_faces(seed=seed, n_directions=2)
    rng = np.random.default_rng(seed)
    meshes, _ = faces.sample(rng, 30)
    mean = fit_face_model(meshes, n_expr=2).mean
    jaw = np.zeros_like(mean)
    jaw[mesh.INNER_LIPS[11:], 1] = 1.0
    jaw[mesh.OUTER_LIPS[11:], 1] = 1.0
    basis = np.vstack([jaw.ravel(), fit_face_model(meshes, n_expr=2).basis])
    q, _ = np.linalg.qr(basis.T)
    basis = q.T * np.sign(np.diag(q.T @ basis.T))[:, None]
    frontal = Pose(0.23, np.eye(3), np.array([0.5, 0.5, 0.0])).apply(faces.base)
    return FaceModel(mean=mean, basis=basis), frontal


def mouth_kb(seed: int = 0) -> KnowledgeBase:
    """Keyframes and mouth atlas at several jaw openings, each drawn where its codes put the face."""
    model, frontal = jaw_model(seed)
    base = model.encode(frontal, np.zeros(3)).astype(np.float64)
    coeffs = []
    for jaw in (*JAWS, *ATLAS_JAWS):
        c = base.copy()
        c[0] = jaw
        coeffs.append(c)
    quant = Quantizer(*fit_ranges(np.stack(coeffs), model.n_expr), 8)

    def keyframe(c: np.ndarray) -> Keyframe:
        codes = quant.quantize(c)
        return Keyframe(face_image(model.decode(quant.dequantize(codes)) * SIZE), codes)

    return KnowledgeBase(face_model=model, quantizer=quant, crop=CropConfig(SIZE, 1.7, 0.08),
                         ref_box=CropBox(320.0, 240.0, 300.0), fps=25.0,
                         keyframes=[keyframe(c) for c in coeffs[: len(JAWS)]],
                         mouth_atlas=[keyframe(c) for c in coeffs[len(JAWS):]], background=background(),
                         info={"source": {"path": "synthetic"}})


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return mouth_kb()


def inner_mouth_pixels(image: np.ndarray) -> int:
    return int((np.abs(image.astype(int) - INNER_MOUTH).max(-1) < 30).sum())


def decoded_opening(kb: KnowledgeBase, coeffs: np.ndarray) -> float:
    return mesh.mouth_opening(kb.face_model.decode(coeffs))


def test_frames_have_the_crop_size_and_the_mouth_follows_the_input(kb):
    head = TalkingHead(kb)
    values = np.linspace(-2.0, 2.0, 9)
    decoded = [decoded_opening(kb, head.coefficients(0, v)) for v in values]
    assert np.all(np.diff(decoded) > 0)
    inside = [i for i, v in enumerate(values) if head._table[0] <= head.opening(v) <= head._table[-1]]
    assert len(inside) >= 5  # the KB's mouths span most of ±2 σ
    np.testing.assert_allclose(np.array(decoded)[inside], [head.opening(values[i]) for i in inside], atol=2e-3)
    frames = [head.frame(0, v) for v in values]
    assert all(f.shape == (SIZE, SIZE, 3) and f.dtype == np.uint8 for f in frames)
    pixels = [inner_mouth_pixels(f) for f in frames]
    assert np.corrcoef(pixels, values)[0, 1] > 0.9 and pixels[-1] > 2 * pixels[0]


def test_opening_is_calibrated_by_the_kb_mouths(kb):
    head = TalkingHead(kb)
    openings = [decoded_opening(kb, kb.quantizer.dequantize(k.codes)) for k in [*kb.keyframes, *kb.mouth_atlas]]
    assert head.opening(0.0) == pytest.approx(np.mean(openings))
    assert head.opening(1.0) - head.opening(0.0) == pytest.approx(np.std(openings))


def test_blinks_every_three_to_five_seconds_for_about_150_ms(kb):
    head = TalkingHead(kb, seed=3)
    e = kb.face_model.n_expr
    eyes = np.array([head.coefficients(k, 0.0)[e] for k in range(int(20 * kb.fps))])
    shut = eyes < 0.5 * eyes.max()
    starts = np.flatnonzero(shut[1:] & ~shut[:-1]) + 1
    assert 4 <= len(starts) <= 7
    assert np.all((np.diff(starts) >= 3 * kb.fps - 1) & (np.diff(starts) <= 5 * kb.fps + 1))
    runs = [np.argmin(shut[s:]) for s in starts if not shut[s:].all()]
    assert max(runs) <= round(0.15 * kb.fps)  # at most 4 frames at 25 fps
    assert eyes.min() < 0.3 * eyes.max()  # the eyes do close


def test_head_moves_smoothly_within_a_degree(kb):
    head = TalkingHead(kb, seed=1)
    e = kb.face_model.n_expr
    rot = np.array([head.coefficients(k, 0.0)[e + 1: e + 4] for k in range(250)])
    base = head._base[e + 1: e + 4]
    deviation = np.degrees(np.abs(rot - base))
    assert deviation.max() <= 1.0 + 1e-9 and deviation.std() > 0.05
    assert np.degrees(np.abs(np.diff(rot, axis=0))).max() < 0.1  # smooth: under 0.1° a frame
    np.testing.assert_array_equal(np.delete(head.coefficients(7, 0.0), range(e, e + 4)),
                                  np.delete(head.coefficients(200, 0.0), range(e, e + 4)))  # nothing else moves


def test_seeded_heads_are_deterministic_and_seeds_differ(kb):
    a, b, c = TalkingHead(kb, seed=5), TalkingHead(kb, seed=5), TalkingHead(kb, seed=6)
    order = [30, 3, 120, 80]  # random access in any order gives the same frames
    for k in order:
        np.testing.assert_array_equal(a.frame(k, 0.5), b.frame(k, 0.5))
    e = kb.face_model.n_expr
    ca = np.array([a.coefficients(k, 0.0) for k in range(200)])
    cb = np.array([b.coefficients(k, 0.0) for k in reversed(range(200))])[::-1]
    cc = np.array([c.coefficients(k, 0.0) for k in range(200)])
    np.testing.assert_array_equal(ca, cb)
    assert not np.array_equal(ca[:, e: e + 4], cc[:, e: e + 4])


def test_reference_clip_becomes_the_warp_source(kb):
    head = TalkingHead(kb, config=HeadConfig(motion_deg=0.0))
    model = kb.face_model
    c = kb.quantizer.dequantize(kb.keyframes[1].codes).astype(np.float64)
    c[model.n_expr + 4] += 0.03  # the head moved right since the enrollment
    tinted = face_image(model.decode(c) * SIZE)
    tinted[..., 1] = np.clip(tinted[..., 1].astype(int) + 40, 0, 255)  # and the light changed
    assert head.set_reference([tinted], coeffs=[c]) == 1
    out = head.frame(0, 0.0)
    assert abs(out[..., 1].mean() - tinted[..., 1].mean()) < 3  # the clip's light, not the KB's
    nose_x = lambda img: np.nonzero((img[..., 2] > 180) & (img[..., 0] < 80))[1].mean()  # noqa: E731
    assert nose_x(out) - nose_x(kb.reference.image) == pytest.approx(0.03 * SIZE, abs=1.5)  # and its pose
    assert head.set_reference([tinted], coeffs=[None]) == 0  # nothing usable: the face stays as it was
    np.testing.assert_array_equal(head.frame(0, 0.0), out)


def test_renderer_without_extra_sources_renders_as_before(kb):
    plain, reset = FaceRenderer(kb), FaceRenderer(kb)
    reset.set_sources([kb.keyframes[2]])
    reset.set_sources(None)
    c = kb.quantizer.dequantize(kb.keyframes[1].codes).astype(np.float64)
    c[0] += 0.02
    c[kb.face_model.n_expr + 2] += 0.05
    np.testing.assert_array_equal(plain(c), reset(c))
    assert [s.image is k.image for s, k in zip(plain.keyframes, kb.keyframes, strict=True)] == [True] * len(JAWS)
    with pytest.raises(ValueError, match="at least one"):
        plain.set_sources([])


def test_generate_animates_the_reference_from_the_audio(kb):
    audio, speaking = bursts([("s", 0.6), ("v", 0.5), ("s", 0.6), ("v", 0.5), ("s", 0.4)])
    head = TalkingHead(kb, config=HeadConfig(motion_deg=0.0))
    ref = kb.quantizer.dequantize(kb.keyframes[0].codes).astype(np.float64)
    head.set_reference([kb.keyframes[0].image], coeffs=[ref])
    frames = list(head.generate([], audio))  # no new clip: keeps the reference it has
    assert len(frames) == speaking.size and all(f.shape == (SIZE, SIZE, 3) for f in frames)
    pixels = np.array([inner_mouth_pixels(f) for f in frames])
    assert pixels[speaking].mean() > 1.3 * pixels[~speaking].mean()
