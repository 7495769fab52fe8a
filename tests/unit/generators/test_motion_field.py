"""The motion field: the receiver's resampling and the sender's fit, on pictures with a known displacement."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators.motion_field import STEP, FieldFitter, apply_field, dense
from semtalk.records import CodedFrame

SIZE = 128


def texture(seed: int = 0) -> np.ndarray:
    """A smooth random RGB texture (blurred noise): every region has gradients for the fit to follow."""
    import cv2

    noise = np.random.default_rng(seed).uniform(0, 255, (SIZE, SIZE, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 3) * 3 - 255, 0, 255).astype(np.uint8)


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` moved by (dx, dy) pixels: what the original looks like when the rendering misplaces it."""
    import cv2

    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def error(a: np.ndarray, b: np.ndarray) -> float:
    m = 16  # away from the borders, where either picture repeats its edge
    return float(np.abs(a[m:-m, m:-m].astype(float) - b[m:-m, m:-m]).mean())


def test_no_field_or_a_zero_field_leaves_the_picture_as_it_is():
    image = texture()
    assert apply_field(image, None) is image
    assert apply_field(image, np.zeros((6, 6, 2), np.int64)) is image


def test_a_uniform_field_moves_the_picture_by_its_units():
    image = texture(1)
    units = np.zeros((6, 6, 2), np.int64)
    units[..., 0] = 3  # out(x) = image(x + 3 units): the content moves left by 3 · STEP · SIZE pixels
    np.testing.assert_allclose(dense(units, SIZE)[..., 0], 3 * STEP * SIZE, atol=1e-4)
    moved = apply_field(image, units)
    assert error(moved, shifted(image, -3 * STEP * SIZE, 0)) < 1.0 < error(moved, image)


@pytest.mark.parametrize("dx, dy", [(4.0, 0.0), (-3.0, 2.0)])
def test_the_fit_finds_a_known_displacement_and_its_field_moves_the_rendering_onto_the_original(dx, dy):
    rendered = texture(2)
    original = shifted(rendered, dx, dy)  # the rendering put everything (-dx, -dy) off
    field = FieldFitter(4).fit([rendered, rendered], [original, original])
    assert field.dtype == np.int64 and field.shape == (4, 4, 2)
    centre = field[1:3, 1:3].reshape(-1, 2) * STEP * SIZE  # pixels; the border cells see the edge repeat
    np.testing.assert_allclose(centre.mean(0), [-dx, -dy], atol=STEP * SIZE)
    assert error(apply_field(rendered, field), original) < 0.35 * error(rendered, original)


def test_a_rendering_already_in_place_needs_no_field():
    rendered = texture(3)
    assert not np.any(FieldFitter(6).fit([rendered], [rendered]))


def test_the_fit_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match="grid"):
        FieldFitter(1)
    with pytest.raises(ValueError, match="pairs"):
        FieldFitter(4).fit([texture()], [])
    with pytest.raises(ValueError, match="same size"):
        FieldFitter(4).fit([texture()], [texture()[:64]])


def test_the_sender_gives_every_frame_of_a_packet_the_packets_field(synthetic):
    """``modes.syncsc.motion``: frames are held until the packet is full, then go out with one field; faceless
    frames take no part, and a packet of only those has none."""
    from semtalk.generators.face_renderer import FaceRenderer
    from semtalk.modes.syncsc.motion import MotionSender

    kb = synthetic.kb
    renderer = FaceRenderer(kb)
    codes = kb.keyframes[1].codes
    crop = shifted(renderer(kb.quantizer.dequantize(codes)), 3.0, 0.0)
    sender = MotionSender(renderer, 4, frames_per_packet=3)
    assert sender.push(CodedFrame(0, codes), crop) == [] and sender.push(CodedFrame(1, codes, False), crop) == []
    out = sender.push(CodedFrame(2, codes), crop)
    assert [f.index for f in out] == [0, 1, 2] and out[0].field is not None and np.any(out[0].field)
    assert all(f.field is out[0].field and f.variant == out[0].variant for f in out)
    assert 0 <= out[0].variant < renderer.n_variants
    assert sender.push(CodedFrame(3, codes, False), crop) == []
    assert [(f.index, f.field, f.variant) for f in sender.flush()] == [(3, None, 0)]


def test_the_sender_picks_the_variant_closest_to_the_frames_but_never_one_that_keeps_the_eyes_shut(synthetic):
    from semtalk.generators.face_renderer import FaceRenderer
    from semtalk.modes.syncsc.motion import MotionSender

    kb = synthetic.kb
    renderer = FaceRenderer(kb)
    coeffs = kb.quantizer.dequantize(kb.keyframes[1].codes).astype(np.float64)
    coeffs[kb.face_model.n_expr + 4] += 0.02  # a shifted head: every keyframe is warped
    codes = kb.quantizer.quantize(coeffs)
    coeffs = kb.quantizer.dequantize(codes)
    target = 3 + 2  # the frames look exactly like keyframe 2 alone draws them
    crop = renderer(coeffs, target)
    sender = MotionSender(renderer, 4, frames_per_packet=2)
    sender.push(CodedFrame(0, codes), crop)
    assert sender.push(CodedFrame(1, codes), crop)[0].variant == target
    # The same frames with eyes wider than keyframe 2's: it can no longer be chosen.
    wide = coeffs.copy()
    wide[kb.face_model.n_expr] = renderer._eyes[2] + 3 * renderer.config.eye_slack
    wide_codes = kb.quantizer.quantize(wide)
    assert not renderer.opens_eyes(kb.quantizer.dequantize(wide_codes), target)
    sender.push(CodedFrame(2, wide_codes), crop)
    assert sender.push(CodedFrame(3, codes), crop)[0].variant != target


def test_a_rigid_region_moves_with_the_field_but_keeps_its_shape():
    """A field that stretches the picture vertically moves an eye's patch without stretching it (the eye's aspect
    ratio, the blink, is the coefficients' to say); outside the region the stretch applies."""
    image = texture(4)
    field = np.zeros((6, 6, 2), np.int64)
    field[..., 1] = np.arange(6)[:, None] * 2 - 5  # u_y grows downwards: a vertical stretch
    eye = np.array([[56.0, 64.0], [72.0, 60.0], [72.0, 68.0], [60.0, 66.0]])  # a small region about (64, 64)
    rigid, free = apply_field(image, field, [eye]), apply_field(image, field)
    u = dense(field, SIZE)
    shift = u[64, 64]
    moved = shifted(image, -float(shift[0]), -float(shift[1]))  # the whole picture moved by the centre's vector
    patch = (slice(58, 71), slice(58, 71))
    def diff(a: np.ndarray) -> float:
        return float(np.abs(a[patch].astype(float) - moved[patch]).mean())

    assert diff(rigid) < 0.5 * diff(free)
