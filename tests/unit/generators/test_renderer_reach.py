"""The face renderer beyond its keyframes (issue 24, item 3): an extreme head turn keeps a plausible face in the
right place and size, keyframes are chosen by the turn a warp cannot make, and the crop border past the source
frame repeats the frame's edge as the sender's crop does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from semtalk.generators.face_renderer import FaceRenderer, RendererConfig
from semtalk.kb.knowledge_base import Keyframe
from tests.unit.generators.test_face_renderer import nose
from tests.unit.kb.kb_fixtures import SIZE

E = 6  # expression coefficients in the synthetic KB
PITCH, YAW, TX = E + 1, E + 2, E + 4
SKIN = np.array([210, 170, 140])  # the synthetic face's colour (kb_fixtures.face_image)


def _reference(kb) -> np.ndarray:
    return kb.quantizer.dequantize(kb.reference.codes).astype(np.float64)


def _face_width(image: np.ndarray) -> int:
    xs = np.nonzero((np.abs(image.astype(int) - SKIN).sum(-1) < 40).any(0))[0]
    return int(np.ptp(xs)) if len(xs) else 0


@pytest.mark.parametrize(("axis", "turn", "shift"), [(YAW, 1.4, 0.0), (YAW, -1.4, 0.04), (PITCH, 1.2, -0.03)])
def test_an_extreme_turn_renders_the_face_in_place_and_size(synthetic, renderer, axis, turn, shift):
    kb = synthetic.kb
    c = _reference(kb)
    c[axis] += turn
    c[TX] += shift
    out = renderer(c)
    assert out.shape == (SIZE, SIZE, 3) and out.dtype == np.uint8
    # The face is inside the frame, as wide as the keyframe's (not squashed to a profile sliver) and where the
    # translation puts it.
    assert _face_width(out) >= 0.85 * _face_width(kb.reference.image)
    np.testing.assert_allclose(nose(out), np.asarray(synthetic.nose_px) + np.array([shift * SIZE, 0.0]), atol=6.0)


def test_without_the_fallback_an_extreme_turn_squashes_the_face(synthetic):
    """What the fallback prevents (and what the test above would catch): the warp alone folds the face."""
    kb = synthetic.kb
    c = _reference(kb)
    c[YAW] += 1.4
    out = FaceRenderer(kb, RendererConfig(pose_reach=None))(c)
    assert _face_width(out) < 0.6 * _face_width(kb.reference.image)


def test_a_turn_within_reach_is_left_alone(synthetic, renderer):
    c = _reference(synthetic.kb)
    c[YAW] += 0.3
    np.testing.assert_array_equal(renderer.within_reach(c), c)
    c[YAW] += 1.0
    clamped = renderer.within_reach(c)
    assert 0.3 < clamped[YAW] - _reference(synthetic.kb)[YAW] < 0.5
    np.testing.assert_array_equal(np.delete(clamped, YAW), np.delete(c, YAW))  # nothing else changes


def test_keyframes_are_chosen_by_the_turn_a_warp_cannot_make(synthetic):
    """Keyframe A has the target's place but not its turn, B its turn 4 px away: the mesh distance alone prefers A,
    the renderer B."""
    kb = synthetic.kb
    ref = kb.reference.codes.astype(np.int64)
    turned = ref.copy()
    turned[YAW] += 40  # ≈ 0.23 rad
    b = turned.copy()
    b[TX] += 10
    two = dataclasses.replace(kb, keyframes=[Keyframe(kb.reference.image, codes.astype(np.uint16))
                                             for codes in (ref, b)])
    target = kb.quantizer.dequantize(turned.astype(np.uint16)).astype(np.float64)
    order, weights = FaceRenderer(two, RendererConfig(blend=2)).keyframe_weights(target)
    assert list(order) == [1, 0] and weights[0] > 0.9 and weights.sum() == pytest.approx(1.0)
    mesh_only = FaceRenderer(two, RendererConfig(blend=2, turn_weights=(0.0, 0.0, 0.0))).keyframe_weights(target)
    assert list(mesh_only[0]) == [0, 1]


def _framed(kb, width: int, height: int):
    return dataclasses.replace(kb, info={**kb.info, "source": {"path": "synthetic", "width": width, "height": height}})


def test_the_crop_past_the_frame_repeats_the_frame_edge(synthetic):
    """The reference box spans x 170..470, y 90..390 of the source frame; in a 400×300 frame the crop's columns
    from ≈195 and rows from ≈178 lie outside, so (as ``crop.crop_image`` does) each repeats the frame's edge."""
    kb = _framed(synthetic.kb, 400, 300)
    renderer = FaceRenderer(kb)
    c = _reference(kb)
    c[TX] += 0.01
    for out in (renderer(c), renderer.plate(c)):
        assert out.shape == (SIZE, SIZE, 3)
        np.testing.assert_array_equal(out[:, 197:], np.repeat(out[:, 197:198], SIZE - 197, axis=1))
        np.testing.assert_array_equal(out[180:], np.repeat(out[180:181], SIZE - 180, axis=0))
        assert np.abs(np.diff(out[:150, 100:190].astype(int), axis=1)).sum() > 0  # inside: the picture itself
    # A KB that does not know its frame (or gives a nonsense one, or a frame that holds the whole crop) renders as
    # before.
    plain = FaceRenderer(synthetic.kb)(c)
    for width, height in ((1000, 1000), ("400", 300), (400, -1)):
        np.testing.assert_array_equal(FaceRenderer(_framed(synthetic.kb, width, height))(c), plain)
    assert not np.array_equal(plain[:, 197:], np.repeat(plain[:, 197:198], SIZE - 197, axis=1))


def test_a_keyframe_with_narrower_eyes_than_the_frame_is_avoided(synthetic):
    """Two keyframes at the target's pose, one with half-shut eyes and a 4 px shift less: for an open-eyed frame
    the open-eyed keyframe comes first (a warp cannot open an eye); for a blink either may serve."""
    kb = synthetic.kb
    ref = kb.reference.codes.astype(np.int64)
    blink = E  # the eye aspect ratio's place in the coefficients
    shut = ref.copy()
    shut[blink] = ref[blink] // 2
    moved = ref.copy()
    moved[TX] += 10
    two = dataclasses.replace(kb, keyframes=[Keyframe(kb.reference.image, codes.astype(np.uint16))
                                             for codes in (shut, moved)])
    target = kb.quantizer.dequantize(ref.astype(np.uint16)).astype(np.float64)
    assert list(FaceRenderer(two, RendererConfig(blend=2)).keyframe_weights(target)[0]) == [1, 0]
    assert list(FaceRenderer(two, RendererConfig(blend=2, eye_weight=0.0)).keyframe_weights(target)[0]) == [0, 1]
