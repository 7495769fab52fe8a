"""The talking head: Wav2Vid's on a synthetic KB whose mouths open (no MediaPipe, no video, no real data), and
LGM-TSC's on one portrait (MediaPipe measures the frames)."""

from __future__ import annotations

import dataclasses
from itertools import pairwise

import numpy as np
import pytest

from semtalk.demo.sample import portrait
from semtalk.enroll.portrait import portrait_kb, read_portrait
from semtalk.generators import lips
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.generators.talking_head import NOD_CONTEXT_S, PORTRAIT, HeadConfig, TalkingHead, speech_activity
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.semantics.face import mesh
from semtalk.semantics.face.coefficients import FaceModel, fit_face_model
from semtalk.semantics.face.crop import CropBox
from semtalk.semantics.face.encoder import CropConfig
from semtalk.semantics.face.quantize import Quantizer, fit_ranges
from tests.unit.generators.test_lips import bursts
from tests.unit.kb.kb_fixtures import SIZE, background, face_image
from tests.unit.semantics.face.face_fixtures import Pose, synthetic_faces
from tests.unit.semantics.speech.speech_data import shared_file

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


# One portrait (LGM-TSC): scikit-image's astronaut, her mouth open on her teeth as photographed or shut by the head
# itself (a portrait that shows no inside of the mouth), and the shared Obama portrait when it is there.
STILL = dataclasses.replace(PORTRAIT, motion_deg=0.0, nod_deg=0.0)
REST = lips.shipped_model().rest  # the lip model's output in silence
TWO_HZ = REST + 3.0 * (0.5 - 0.5 * np.cos(2 * np.pi * 2.0 * np.arange(50) / 25.0))  # open and shut, 2 Hz, 2 s


@pytest.fixture(scope="module")
def astronaut() -> KnowledgeBase:
    return portrait_kb(portrait())


@pytest.fixture(scope="module")
def shut_astronaut() -> KnowledgeBase:
    shut = TalkingHead(portrait_kb(portrait(), crop_size=512), config=STILL).frame(0, -3.0)
    return portrait_kb(shut)


@pytest.fixture(scope="module")
def obama() -> KnowledgeBase:
    return portrait_kb(read_portrait(shared_file("portraits", "obama_official_portrait.jpg")))


def landmarks(frames: list[np.ndarray]) -> list[np.ndarray]:
    from semtalk.semantics.face.landmarks import FaceLandmarker

    marker = FaceLandmarker()
    try:
        found = [marker(f) for f in frames]
    finally:
        marker.close()
    assert all(p is not None for p in found)
    return found


def mouth_box(kb: KnowledgeBase, head: TalkingHead, mouth: float) -> tuple[slice, slice]:
    lips = kb.face_model.decode(head.coefficients(0, mouth))[mesh.OUTER_LIPS, :2] * kb.crop.size
    (x0, y0), (x1, y1) = np.floor(lips.min(0)).astype(int), np.ceil(lips.max(0)).astype(int)
    return slice(y0, y1), slice(x0, x1)


def luma(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def dark(image: np.ndarray) -> int:
    return int((luma(image) < 60).sum())


def white(image: np.ndarray) -> int:
    """Pixels of teeth: bright and grey, where lips and skin are bright and warm."""
    return int(((image.min(-1) > 170) & (np.ptp(image.astype(int), axis=-1) < 40)).sum())


@pytest.mark.parametrize("name", ["astronaut", "shut_astronaut", "obama"])
def test_a_portraits_mouth_opens_and_shuts_with_the_lip_track(name, request):
    kb = request.getfixturevalue(name)
    head = TalkingHead(kb, seed=0, config=PORTRAIT)
    frames = [head.frame(k, m) for k, m in enumerate(TWO_HZ)]
    measured = np.array([mesh.mouth_opening(p) for p in landmarks(frames)])
    assert np.corrcoef(measured, TWO_HZ)[0, 1] > 0.6
    assert measured.max() - measured.min() > 0.12


def test_a_one_image_kb_opens_from_shut_in_silence_to_at_most_the_widest(astronaut):
    head = TalkingHead(astronaut, config=STILL)
    assert head.mouth_std == STILL.spread
    assert head.opening(REST) == pytest.approx(head._table[0]) and head._table[0] < 0.01  # silence: shut
    decoded = [decoded_opening(astronaut, head.coefficients(0, v)) for v in np.linspace(REST, 6.0, 12)]
    assert np.all(np.diff(decoded) >= -1e-9) and decoded[-1] == pytest.approx(STILL.widest, abs=2e-3)
    frontal = [astronaut.face_model.normalised_shape(head.coefficients(0, v)) for v in (0.0, 2.0)]
    assert frontal[1][14, 1] > frontal[0][14, 1] and frontal[1][13, 1] == pytest.approx(frontal[0][13, 1], abs=1e-3)


def test_a_shut_mouth_opens_on_a_painted_inside_not_on_stretched_lips(shut_astronaut):
    kb = shut_astronaut
    head, plain = TalkingHead(kb, config=STILL), TalkingHead(kb, config=dataclasses.replace(STILL, paint=False))
    box = mouth_box(kb, head, 3.0)
    shut, wide, stretched = (head.frame(0, REST)[box], head.frame(0, 3.0)[box], plain.frame(0, 3.0)[box])
    assert luma(wide).mean() < luma(shut).mean() - 20  # the mouth is darker open than shut
    assert dark(wide) > 10 * (dark(shut) + dark(stretched) + 1)  # a cavity, where the warp alone stretches the
    assert white(wide) > max(50, 3 * white(stretched))  # lips over the gap; and a hint of upper teeth


def test_a_mouth_that_shows_its_teeth_keeps_them_and_is_not_painted_over(astronaut):
    kb = astronaut
    head, plain = TalkingHead(kb, config=STILL), TalkingHead(kb, config=dataclasses.replace(STILL, paint=False))
    own = (decoded_opening(kb, kb.quantizer.dequantize(kb.reference.codes)) - head.mouth_mean) / head.mouth_std
    box = mouth_box(kb, head, 3.0)
    photo, as_taken = head.frame(0, own)[box], plain.frame(0, own)[box]
    assert np.abs(luma(photo) - luma(as_taken)).mean() < 3 and white(photo) == white(as_taken) > 50
    wide = head.frame(0, 3.0)[box]
    assert white(wide) >= white(photo) and dark(wide) > 2 * dark(photo)  # her teeth, apart


def test_blinks_close_a_portraits_eyes(astronaut):
    head = TalkingHead(astronaut, seed=0, config=STILL)
    peak = round((head._blinks[0] + STILL.blink_s / 2) * astronaut.fps)
    assert head._closure(peak / astronaut.fps) > 0.9
    open_eyes, blink = head.frame(peak - 10, REST), head.frame(peak, REST)
    points = landmarks([open_eyes, blink])
    assert mesh.eye_aspect_ratio(points[1]) < 0.75 * mesh.eye_aspect_ratio(points[0])
    eyes = np.concatenate([points[0][mesh.EAR_RIGHT, :2], points[0][mesh.EAR_LEFT, :2]])
    (x0, y0), (x1, y1) = np.floor(eyes.min(0)).astype(int) - 2, np.ceil(eyes.max(0)).astype(int) + 2
    assert np.abs(luma(blink[y0:y1, x0:x1]) - luma(open_eyes[y0:y1, x0:x1])).mean() > 5
    np.testing.assert_array_equal(open_eyes, head.frame(0, REST))  # nothing else moved


def test_a_portraits_head_moves_a_few_degrees_and_a_few_pixels(astronaut):
    head = TalkingHead(astronaut, seed=2, config=PORTRAIT)
    e = astronaut.face_model.n_expr
    rot = np.array([head.coefficients(k, REST, speech=(k // 25) % 2) for k in range(250)])[:, e + 1: e + 4]
    deviation = np.degrees(np.abs(rot - head._base[e + 1: e + 4]))
    assert deviation.max() <= PORTRAIT.motion_deg + PORTRAIT.nod_deg + 1e-9 and deviation.max() > 1.5
    frames = [head.frame(k, REST) for k in range(0, 100, 10)]
    assert min(np.abs(a.astype(int) - b).mean() for a, b in pairwise(frames)) > 0.3
    noses = np.array([p[1, :2] for p in landmarks(frames)])
    assert np.abs(noses - noses.mean(0)).max() < 6  # a few pixels of the 256² crop


def test_the_nod_follows_speech_activity(astronaut):
    track = np.full(100, REST)
    track[40:70] = 1.5  # a phrase from 1.6 s to 2.8 s
    active = speech_activity(track, 25.0)
    assert active.shape == (100,) and np.all(active[:30] < 0.01) and np.all(active[85:] < 0.01)
    assert active[45:65].min() > 0.9 and np.abs(np.diff(active)).max() < 0.25  # eased in and out
    half = round(NOD_CONTEXT_S * 25.0)
    for k in (35, 41, 68):  # what a streaming receiver computes from the window it has
        assert speech_activity(track[k - half: k + half + 1], 25.0)[half] == pytest.approx(active[k])
    head = TalkingHead(astronaut, config=PORTRAIT)
    e = astronaut.face_model.n_expr
    nod = head.coefficients(10, 1.5, speech=1.0)[e + 1] - head.coefficients(10, 1.5, speech=0.0)[e + 1]
    assert np.degrees(nod) == pytest.approx(PORTRAIT.nod_deg)  # looking down: rot_x grows


def test_wav2vids_head_paints_and_nods_nothing(kb):
    head = TalkingHead(kb, seed=4)
    for k, v in ((3, 0.0), (40, 2.0), (90, -1.0)):
        np.testing.assert_array_equal(head.frame(k, v, speech=1.0), head.renderer(head.coefficients(k, v)))
