from __future__ import annotations

import numpy as np
import pytest

from semtalk.semantics.face.quantize import CROP_RANGE, Quantizer, crop_quantizer, fit_ranges


@pytest.mark.parametrize("bits", [2, 4, 8, 12, 16])
def test_round_trip_error_is_at_most_half_a_step(bits):
    rng = np.random.default_rng(bits)
    lo, hi = np.array([-1.0, 0.0, 10.0]), np.array([1.0, 0.5, 30.0])
    q = Quantizer(lo, hi, bits)
    x = rng.uniform(lo, hi, size=(2000, 3))
    err = np.abs(q.dequantize(q.quantize(x)) - x)
    # dequantize returns float32: allow its rounding on top of half a step.
    assert np.all(err <= q.step() / 2 + 1e-6 * np.abs(hi))


def test_codes_span_zero_to_levels():
    q = Quantizer(np.array([0.0]), np.array([1.0]), 8)
    assert q.levels == 255
    np.testing.assert_array_equal(q.quantize(np.array([[0.0], [1.0], [0.5]])).ravel(), [0, 255, 128])
    assert q.quantize(np.array([0.3])).dtype == np.uint16


def test_range_ends_are_exact():
    q = Quantizer(np.array([-2.0, 3.0]), np.array([2.0, 7.0]), 10)
    np.testing.assert_allclose(q.dequantize(np.array([0, 0])), [-2.0, 3.0])
    np.testing.assert_allclose(q.dequantize(np.array([1023, 1023])), [2.0, 7.0])
    assert q.dequantize(np.array([0, 0])).dtype == np.float32


def test_values_outside_the_range_clip():
    q = Quantizer(np.array([-1.0, -1.0]), np.array([1.0, 1.0]), 8)
    np.testing.assert_array_equal(q.quantize(np.array([-50.0, 7.0])), [0, 255])
    np.testing.assert_allclose(q.dequantize(q.quantize(np.array([-50.0, 7.0]))), [-1.0, 1.0])


def test_step_is_range_over_levels():
    q = Quantizer(np.array([0.0, -1.0]), np.array([3.0, 1.0]), 4)
    np.testing.assert_allclose(q.step(), [3.0 / 15, 2.0 / 15])


@pytest.mark.parametrize("bits", [0, 1, 17, 32, -3])
def test_bad_bits_raise(bits):
    with pytest.raises(ValueError, match=f"quantiser bits must be in 2..16, got {bits}"):
        Quantizer(np.zeros(2), np.ones(2), bits)


def test_empty_range_raises():
    with pytest.raises(ValueError, match="hi > lo for every coefficient"):
        Quantizer(np.array([0.0, 1.0]), np.array([1.0, 1.0]))


def test_crop_quantizer_has_the_fixed_crop_range():
    q = crop_quantizer(6)
    assert q.bits == 6
    np.testing.assert_array_equal(q.lo, CROP_RANGE[0])
    np.testing.assert_array_equal(q.hi, CROP_RANGE[1])
    # Zero crop motion is representable to within half a step.
    assert np.all(np.abs(q.dequantize(q.quantize(np.zeros(3)))) <= q.step() / 2 + 1e-7)


def _enrollment(rng: np.random.Generator, n_expr: int, n: int = 200) -> np.ndarray:
    expr = rng.normal(scale=0.05, size=(n, n_expr))
    blink = rng.uniform(0.15, 0.35, size=(n, 1))
    rot = rng.normal(scale=0.1, size=(n, 3))
    trans = 0.5 + rng.normal(scale=0.02, size=(n, 2))
    log_s = rng.normal(-1.5, 0.05, size=(n, 1))
    crop = rng.normal(scale=0.01, size=(n, 3))
    return np.hstack([expr, blink, rot, trans, log_s, crop])


@pytest.mark.parametrize("n_expr", [0, 3, 6])
def test_fit_ranges_covers_the_data_with_margin(n_expr):
    coeffs = _enrollment(np.random.default_rng(n_expr), n_expr)
    lo, hi = fit_ranges(coeffs, n_expr, margin=0.75)
    assert lo.shape == hi.shape == (n_expr + 10,)
    body = coeffs[:, : n_expr + 7]
    span = body.max(0) - body.min(0)
    assert np.all(lo[: n_expr + 7] <= body.min(0) - 0.75 * span + 1e-12)
    assert np.all(hi[: n_expr + 7] >= body.max(0) + 0.75 * span - 1e-12)
    # The crop motion has fixed, speaker-independent ranges; blink always spans [0, 0.6].
    np.testing.assert_array_equal(lo[n_expr + 7:], CROP_RANGE[0])
    np.testing.assert_array_equal(hi[n_expr + 7:], CROP_RANGE[1])
    assert lo[n_expr] == 0.0 and hi[n_expr] >= 0.6
    q = Quantizer(lo, hi, 8)  # a valid quantiser, and no enrollment value clips
    np.testing.assert_allclose(q.dequantize(q.quantize(coeffs)), coeffs, atol=float(q.step().max()))


def test_fit_ranges_default_margin_covers_the_data():
    coeffs = _enrollment(np.random.default_rng(9), 6)
    lo, hi = fit_ranges(coeffs, 6)
    assert np.all(lo <= coeffs.min(0)) and np.all(hi >= coeffs.max(0))


def test_fit_ranges_grow_with_the_margin():
    coeffs = _enrollment(np.random.default_rng(4), 6, n=50)
    lo1, hi1 = fit_ranges(coeffs, 6, margin=1.0)
    lo3, hi3 = fit_ranges(coeffs, 6, margin=3.0)
    body = slice(0, 13)
    assert np.all(lo3[body] <= lo1[body]) and np.all(hi3[body] >= hi1[body])
    assert np.any(hi3[body] - lo3[body] > hi1[body] - lo1[body])


def test_fit_ranges_floor_constant_coefficients():
    n_expr = 2
    values = np.array([0.1, 0.2, 0.3, 0.0, 0.0, 0.0, 0.5, 0.5, -1.5, 0, 0, 0])
    lo, hi = fit_ranges(np.tile(values, (10, 1)), n_expr)
    assert np.all(hi > lo)
    pose = [0, 1, 3, 4, 5, 6, 7, 8]  # all but blink (and the fixed crop part): centred on the value
    np.testing.assert_allclose((lo + hi)[pose] / 2, values[pose], atol=1e-12)
    assert np.all(hi[:2] - lo[:2] >= 2e-3)  # expression never collapses to an empty range
    assert np.all(hi[3:9] - values[3:9] >= 0.05)  # a small head move beyond enrollment does not clip
