"""``encode_video``'s ``preset``: None keeps each codec's call default byte for byte (the baselines of the
benchmarks), an explicit preset reaches the encoder, and a preset the codec does not have is refused."""

from __future__ import annotations

import re

import pytest

from semtalk.media.video_codec import YuvClip, encode_video


@pytest.fixture(scope="module")
def short(pattern):
    return YuvClip.from_rgb(pattern[:8])


@pytest.mark.parametrize("codec, default, other", [("x265", "ultrafast", "slow"), ("x264", "veryfast", "slow"),
                                                   ("svtav1", "10", "6")])
def test_none_is_the_call_default_and_another_preset_gives_other_bytes(short, codec, default, other):
    plain = encode_video(short, codec, kbps=150)
    assert encode_video(short, codec, kbps=150, preset=None).packets == plain.packets
    assert encode_video(short, codec, kbps=150, preset=default).packets == plain.packets
    assert "preset" not in plain.params  # a default encode describes itself as before
    changed = encode_video(short, codec, kbps=150, preset=other)
    assert changed.packets != plain.packets
    assert changed.params["preset"] == other
    assert changed.frame_types == plain.frame_types == "I" + "P" * 7


@pytest.mark.parametrize("codec, preset, message", [
    ("x265", "fastest", "x265 has no preset 'fastest'; choose one of ultrafast, superfast"),
    ("x264", "10", "x264 has no preset '10'"),
    ("svtav1", "14", "svtav1 has no preset '14'; choose one of 0–13"),
    ("svtav1", "slow", "svtav1 has no preset 'slow'"),
    ("aom", "slow", "aom has no preset 'slow' (it takes none)"),
])
def test_a_preset_the_codec_lacks_is_refused(short, codec, preset, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        encode_video(short, codec, kbps=150, preset=preset)
