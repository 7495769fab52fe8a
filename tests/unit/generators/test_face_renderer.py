from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators.face_renderer import FaceRenderer, RendererConfig
from tests.unit.kb.kb_fixtures import SIZE

E = 6  # expression coefficients in the synthetic KB
TX, TY, CROP_DX = E + 4, E + 5, E + 7


def _coeffs(kb, codes) -> np.ndarray:
    return kb.quantizer.dequantize(codes).astype(np.float64)


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    assert len(xs) > 20, "marker not found"
    return np.array([xs.mean(), ys.mean()])


def nose(img: np.ndarray) -> np.ndarray:
    """Centre of the blue nose blob."""
    return _centroid((img[..., 2] > 180) & (img[..., 0] < 80) & (img[..., 1] < 80))


def marker(img: np.ndarray) -> np.ndarray:
    """Centre of the white background square."""
    return _centroid((img > 200).all(-1))


def test_reference_coefficients_return_the_reference_image(synthetic, renderer):
    kb = synthetic.kb
    out = renderer(kb.quantizer.dequantize(kb.reference.codes))
    np.testing.assert_array_equal(out, kb.reference.image)
    out[:] = 0  # a copy: the KB is untouched
    assert kb.reference.image.any()


def test_keyframe_with_alpha_returns_its_colour_image(synthetic, renderer):
    kf = synthetic.kb.keyframes[2]
    out = renderer(_coeffs(synthetic.kb, kf.codes))
    assert out.shape == (SIZE, SIZE, 3)
    np.testing.assert_array_equal(out, kf.image)


@pytest.mark.parametrize("change", [(0, 0.3), (E + 1, 0.05), (E + 2, -0.1), (E + 6, 0.1), (CROP_DX, 0.1)])
def test_other_coefficients_give_a_frame_of_the_crop_size(synthetic, renderer, change):
    c = _coeffs(synthetic.kb, synthetic.kb.reference.codes)
    c[change[0]] += change[1]
    out = renderer(c)
    assert out.shape == (SIZE, SIZE, 3) and out.dtype == np.uint8
    assert not np.array_equal(out, synthetic.kb.reference.image)


def test_a_tiny_change_warps_to_nearly_the_reference(synthetic, renderer):
    """Through the warp-and-blend path (not the keyframe shortcut), near-zero motion reproduces the image."""
    kb = synthetic.kb
    c = _coeffs(kb, kb.reference.codes)
    c[0] += 1e-4
    out = renderer(c)
    diff = np.abs(out.astype(int) - kb.reference.image)
    assert diff.mean() < 0.1 and diff.max() <= 8
    np.testing.assert_allclose(nose(out), synthetic.nose_px, atol=0.5)


@pytest.mark.parametrize(("index", "delta"), [(TX, 0.02), (TX, -0.03), (TY, 0.02), (TY, -0.03)])
def test_head_translation_moves_the_face(synthetic, renderer, index, delta):
    kb = synthetic.kb
    c = _coeffs(kb, kb.reference.codes)
    c[index] += delta
    moved = nose(renderer(c)) - nose(kb.reference.image)
    expected = np.array([delta, 0.0] if index == TX else [0.0, delta]) * SIZE
    np.testing.assert_allclose(moved, expected, atol=0.6)


def test_head_translation_leaves_the_background_corner(synthetic, renderer):
    kb = synthetic.kb
    c = _coeffs(kb, kb.reference.codes)
    c[TX] += 0.02
    np.testing.assert_allclose(marker(renderer(c)), marker(kb.reference.image), atol=0.6)


@pytest.mark.parametrize("delta", [0.02, -0.03])
def test_crop_motion_moves_the_background_not_the_face(synthetic, renderer, delta):
    """The window moves right by ``delta`` reference sizes: the scene moves left in the crop."""
    kb = synthetic.kb
    c = _coeffs(kb, kb.reference.codes)
    c[CROP_DX] += delta
    out = renderer(c)
    np.testing.assert_allclose(marker(out) - marker(kb.reference.image), [-delta * SIZE, 0.0], atol=0.6)
    np.testing.assert_allclose(nose(out), nose(kb.reference.image), atol=0.1)


def test_mouth_atlas_patch_is_placed_by_its_offset(synthetic, renderer):
    """The atlas patch is the reference mouth cut at ``offset``: rendered, the mouth must line up."""
    kb = synthetic.kb
    out = renderer(_coeffs(kb, kb.mouth_atlas[0].codes))
    x0, y0, w, h = synthetic.mouth_box
    diff = np.abs(out.astype(int) - kb.reference.image)[y0:y0 + h, x0:x0 + w]
    assert diff.mean() < 1.0


def test_renderer_is_deterministic_and_config_is_used(synthetic, renderer):
    kb = synthetic.kb
    c = _coeffs(kb, kb.reference.codes)
    c[TX] += 0.01
    np.testing.assert_array_equal(renderer(c), renderer(c))
    single = FaceRenderer(kb, RendererConfig(blend=1))
    assert single.config.blend == 1
    np.testing.assert_allclose(nose(single(c)), nose(renderer(c)), atol=0.5)
