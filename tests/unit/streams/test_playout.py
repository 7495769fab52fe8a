from __future__ import annotations

import numpy as np
import pytest

from semtalk.records import CodedFrame
from semtalk.semantics.face.quantize import Quantizer
from semtalk.streams.playout import FacePlayout

Q = Quantizer(np.array([-1.0, 0.0, 10.0]), np.array([1.0, 2.0, 20.0]), 8)
FALLBACK = np.array([0.5, 1.0, 15.0])


def frame(index: int, codes: tuple[int, int, int], face_found: bool = True) -> CodedFrame:
    return CodedFrame(index, np.array(codes, dtype=np.uint16), face_found)


A, B = (0, 100, 255), (255, 40, 3)
DA, DB = Q.dequantize(np.array(A)).astype(np.float64), Q.dequantize(np.array(B)).astype(np.float64)


def test_in_order_frames_pass_through():
    p = FacePlayout(Q, FALLBACK)
    for i, codes in enumerate([A, B, A]):
        p.push(frame(i, codes, face_found=i != 1))
    out = p.pop(3)
    assert [f.index for f in out] == [0, 1, 2]
    assert [f.concealed for f in out] == [False] * 3
    assert [f.face_found for f in out] == [True, False, True]
    np.testing.assert_array_equal(out[1].coeffs, Q.dequantize(np.array(B)))
    assert p.concealed == 0 and p.late == 0


def test_out_of_order_arrival_is_played_in_order():
    p = FacePlayout(Q, FALLBACK)
    for i in (2, 0, 1):
        p.push(frame(i, A if i != 1 else B))
    out = p.pop(3)
    assert [f.index for f in out] == [0, 1, 2] and not any(f.concealed for f in out)
    np.testing.assert_array_equal(out[1].coeffs, Q.dequantize(np.array(B)))


def test_missing_middle_frame_is_interpolated():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(0, A))
    p.push(frame(2, B))
    out = p.pop(3)
    assert [f.concealed for f in out] == [False, True, False]
    assert out[1].face_found
    np.testing.assert_allclose(out[1].coeffs, (DA + DB) / 2, rtol=0, atol=1e-6)
    assert out[1].coeffs.dtype == np.float32
    assert p.concealed == 1


def test_two_missing_frames_lie_on_the_straight_line():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(0, A))
    p.push(frame(3, B))
    out = p.pop(4)
    np.testing.assert_allclose(out[1].coeffs, DA + (DB - DA) / 3, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[2].coeffs, DA + 2 * (DB - DA) / 3, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[3].coeffs, DB, rtol=0, atol=1e-6)
    assert [f.concealed for f in out] == [False, True, True, False]


def test_interpolation_uses_the_nearest_later_frame():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(0, A))
    p.push(frame(4, A))
    p.push(frame(2, B))
    out = p.pop(2)
    np.testing.assert_allclose(out[1].coeffs, (DA + DB) / 2, rtol=0, atol=1e-6)


def test_missing_frames_with_nothing_later_hold_the_last():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(0, A))
    out = p.pop(3)
    for f in out[1:]:
        assert f.concealed
        np.testing.assert_allclose(f.coeffs, DA, rtol=0, atol=1e-6)
    assert p.concealed == 2


def test_before_any_frame_the_fallback_is_used():
    p = FacePlayout(Q, FALLBACK)
    out = p.pop(2)
    assert [f.index for f in out] == [0, 1] and all(f.concealed for f in out)
    for f in out:
        np.testing.assert_allclose(f.coeffs, FALLBACK, rtol=0, atol=1e-6)


def test_a_concealed_frame_is_drawn_as_the_last_frame_played():
    """A lost packet's frames keep the last packet's variant and motion field: a field switched off for a packet
    is a visible jump (HDTF at 30 % packet loss without FEC: +0.001 to +0.010 SSIM, docs/face-rate.md)."""
    field = np.full((2, 2, 2), 3)
    p = FacePlayout(Q, FALLBACK)
    assert [(f.field, f.variant) for f in p.pop(1)] == [(None, 0)]  # nothing played yet: the default drawing
    p.push(CodedFrame(1, np.array(A, dtype=np.uint16), field=field, variant=5))
    p.push(CodedFrame(4, np.array(B, dtype=np.uint16), variant=2))
    out = p.pop(5)
    assert [f.concealed for f in out] == [False, True, True, False]
    assert [f.variant for f in out] == [5, 5, 5, 2]
    assert out[1].field is field and out[2].field is field and out[3].field is None


def test_first_frames_interpolate_from_the_fallback():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(2, B))
    out = p.pop(3)
    np.testing.assert_allclose(out[0].coeffs, FALLBACK + (DB - FALLBACK) / 3, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[1].coeffs, FALLBACK + 2 * (DB - FALLBACK) / 3, rtol=0, atol=1e-5)
    assert not out[2].concealed


def test_late_frames_are_counted_and_dropped():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(0, A))
    p.pop(3)
    p.push(frame(1, B))
    p.push(frame(2, B))
    p.push(frame(3, B))
    assert p.late == 2
    out = p.pop(4)
    assert [f.index for f in out] == [3] and not out[0].concealed


def test_pop_plays_each_index_once():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(0, A))
    assert len(p.pop(1)) == 1
    assert p.pop(1) == [] and p.pop(0) == []
    assert [f.index for f in p.pop(3)] == [1, 2]


def test_duplicate_frames_keep_the_first():
    p = FacePlayout(Q, FALLBACK)
    p.push(frame(0, A))
    p.push(frame(0, B))
    np.testing.assert_array_equal(p.pop(1)[0].coeffs, Q.dequantize(np.array(A)))


@pytest.mark.parametrize("seed", range(3))
def test_random_loss_keeps_a_continuous_track(seed):
    rng = np.random.default_rng(seed)
    p = FacePlayout(Q, FALLBACK)
    codes = np.clip(np.cumsum(rng.integers(-2, 3, size=(60, 3)), 0) + 128, 0, 255)
    kept = rng.random(60) > 0.3
    kept[0] = True
    for i in np.flatnonzero(kept):
        p.push(CodedFrame(int(i), codes[i].astype(np.uint16)))
    out = p.pop(60)
    assert [f.index for f in out] == list(range(60))
    assert [f.concealed for f in out] == list(~kept)
    track = np.stack([f.coeffs for f in out])
    # Concealed values stay between the received neighbours.
    for i in np.flatnonzero(~kept):
        before = track[np.flatnonzero(kept[:i])[-1]]
        later = np.flatnonzero(kept[i:])
        after = track[i + later[0]] if len(later) else before
        assert np.all(track[i] >= np.minimum(before, after) - 1e-5)
        assert np.all(track[i] <= np.maximum(before, after) + 1e-5)


def test_a_frame_beyond_the_horizon_is_refused_and_counted():
    """A forged index (1,046,374: 11.6 hours in) can neither sit in the buffer nor steer concealment."""
    p = FacePlayout(Q, FALLBACK, horizon=50)
    p.push(frame(0, A))
    p.push(frame(1_046_374, B))
    p.push(frame(49, B))  # the furthest an honest frame can be
    assert p.implausible == 1
    out = p.pop(3)
    np.testing.assert_allclose(out[1].coeffs, DA + (DB - DA) / 49, rtol=1e-6)
    p.pop(1000)
    p.push(frame(1049, A))
    p.push(frame(1050, A))
    assert p.implausible == 2 and p.late == 0
    with pytest.raises(ValueError, match=r"^play-out horizon must be at least 1 frame, got 0$"):
        FacePlayout(Q, FALLBACK, horizon=0)
