"""The renderer's variants (``FaceRenderer.variant_weights``): what each draws, that the default is the renderer's
own choice, and that a peer's out-of-range index cannot break it; ``opens_eyes`` keeps a shut-eyed keyframe out."""

from __future__ import annotations

import numpy as np

from tests.unit.generators.test_face_renderer import TX, _coeffs


def moved(synthetic) -> np.ndarray:
    """Coefficients away from every keyframe (a shifted head), so the keyframes are warped and blended."""
    c = _coeffs(synthetic.kb, synthetic.kb.keyframes[1].codes)
    c[TX] += 0.02
    return c


def test_variant_zero_is_the_default_and_out_of_range_draws_it(synthetic, renderer):
    c = moved(synthetic)
    assert renderer.n_variants == 3 + len(synthetic.kb.keyframes)
    default = renderer(c)
    drawn = renderer.render_variants(c, [0, renderer.n_variants, 31])
    for image in drawn:
        np.testing.assert_array_equal(image, default)


def test_the_nearest_alone_is_that_keyframe_alone_and_differs_from_the_blend(synthetic, renderer):
    c = moved(synthetic)
    order, _ = renderer.keyframe_weights(c)
    blend, nearest, alone, other = renderer.render_variants(c, [0, 2, 3 + int(order[0]), 3 + int(order[-1])])
    np.testing.assert_array_equal(nearest, alone)
    assert not np.array_equal(blend, nearest) and not np.array_equal(alone, other)
    # Asked one at a time, each variant is drawn the same as among the others.
    np.testing.assert_array_equal(renderer(c, 3 + int(order[-1])), other)


def test_only_a_keyframe_alone_with_narrower_eyes_is_said_not_to_open_them(synthetic, renderer):
    kb = synthetic.kb
    c = moved(synthetic)
    e = kb.face_model.n_expr
    eyes = np.array([_coeffs(kb, k.codes)[e] for k in kb.keyframes])
    c[e] = eyes.min() + 0.5 * renderer.config.eye_slack  # within the slack of every keyframe
    assert all(renderer.opens_eyes(c, v) for v in range(renderer.n_variants))
    c[e] = eyes.max() + 3 * renderer.config.eye_slack  # wider open than any keyframe
    assert [renderer.opens_eyes(c, v) for v in range(renderer.n_variants)] == [True] * 3 + [False] * len(eyes)
