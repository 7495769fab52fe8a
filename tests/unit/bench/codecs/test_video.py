from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.codecs import CODECS, YuvClip, decodable, decode_video, encode_video, rate_match
from semtalk.bench.codecs.rate import TOLERANCE
from semtalk.media.video_codec import GREY
from semtalk.metrics.video import psnr


@pytest.fixture(scope="module")
def clip(pattern):
    return YuvClip.from_rgb(pattern)


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip_low_delay(codec, clip, pattern):
    encoded = encode_video(clip, codec, kbps=200, gop=None)
    assert encoded.n_frames == len(pattern)
    assert encoded.frame_types == "I" + "P" * (len(pattern) - 1)
    frames = decode_video(encoded)
    assert len(frames) == len(pattern)
    assert frames[0].shape == pattern[0].shape and frames[0].dtype == np.uint8
    assert np.mean([psnr(a, b) for a, b in zip(pattern, frames, strict=True)]) > 22


@pytest.mark.parametrize("codec", ["x264", "svtav1"])
def test_periodic_gop(codec, clip):
    encoded = encode_video(clip, codec, kbps=100, gop=10)
    assert [i for i, k in enumerate(encoded.keyframes) if k] == [0, 10, 20, 30]


@pytest.mark.parametrize("codec", ["x264", "x265", "aom"])
def test_freeze_convention(codec, clip):
    encoded = encode_video(clip, codec, kbps=100, gop=10)
    full = decode_video(encoded)
    keep = np.ones(encoded.n_frames, dtype=bool)
    keep[0] = False  # first GOP undecodable: grey until frame 10
    keep[14] = False  # P-frame lost: freeze on frame 13 until the I-frame at 20
    assert decodable(encoded, keep).tolist() == [False] * 10 + [True] * 4 + [False] * 6 + [True] * 20
    frames = decode_video(encoded, keep)
    assert len(frames) == encoded.n_frames
    assert all((frames[i] == GREY).all() for i in range(10))
    for i in range(10, 14):  # a fresh decoder from the I-frame gives the same pictures as the full decode
        assert np.array_equal(frames[i], full[i])
    for i in range(14, 20):
        assert np.array_equal(frames[i], full[13])
    assert np.array_equal(frames[25], full[25])


def test_keep_mask_shape_checked(clip):
    encoded = encode_video(clip, "x264", kbps=100)
    with pytest.raises(ValueError, match=r"keep mask has shape \(3,\), expected \(40,\)"):
        decode_video(encoded, [True] * 3)


def test_unknown_codec(clip):
    with pytest.raises(ValueError, match="unknown codec 'vp9'"):
        encode_video(clip, "vp9", kbps=10)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("target", [3.0, 60.0])
def test_rate_match_bound_or_floor(codec, target, clip):
    point = rate_match(clip, codec, target)
    assert point.kbps == pytest.approx(point.encoded.kbps)
    if point.floor:  # the codec cannot get there: its cheapest encoding, clearly above the bound
        assert point.kbps > TOLERANCE * target
    else:
        assert point.kbps <= TOLERANCE * target
    assert point.encoded.n_frames == 40


def test_rate_match_reaches_a_feasible_rate_closely(clip):
    point = rate_match(clip, "x264", 60.0)
    assert not point.floor
    assert 0.8 * 60 <= point.kbps <= TOLERANCE * 60
    assert point.encodes <= 8


def test_floor_is_below_any_higher_target(clip):
    low = rate_match(clip, "aom", 1.5)
    assert low.floor  # 1.5 kbps is 7.5 bytes a frame: no codec gets there with headers
    high = rate_match(clip, "aom", 2 * low.kbps)
    assert not high.floor and high.kbps <= TOLERANCE * 2 * low.kbps
