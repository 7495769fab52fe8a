from __future__ import annotations

import numpy as np
import pytest

from semtalk.media.color import rgb_to_luma, rgb_to_yuv420
from semtalk.media.reader import probe, read_video
from semtalk.media.y4m import Y4mWriter
from tests.unit.media.media_clips import av, synthetic_frame


def test_luma_of_reference_colours():
    colours = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    np.testing.assert_array_equal(rgb_to_luma(colours), [[16, 235, 81, 145, 41]])
    _, cb, cr = rgb_to_yuv420(np.full((2, 2, 3), 255, np.uint8))
    assert (cb.item(), cr.item()) == (128, 128)


def test_luma_matches_ffmpeg_swscale_within_one_level():
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    theirs = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()[:64]
    diff = np.abs(theirs.astype(int) - rgb_to_luma(rgb))
    assert diff.max() <= 1 and diff.mean() < 0.05


def test_odd_sizes_round_chroma_up():
    y, cb, cr = rgb_to_yuv420(np.zeros((5, 7, 3), np.uint8))
    assert (y.shape, cb.shape, cr.shape) == ((5, 7), (3, 4), (3, 4))


def test_y4m_is_lossless_on_luma_and_readable(tmp_path):
    path = tmp_path / "ref.y4m"
    frames = [synthetic_frame(i, 48, 64) for i in range(7)]
    with Y4mWriter(path, fps=25) as w:
        for f in frames:
            w.write(f)
    assert w.n_frames == 7
    info = probe(path)
    assert (info.width, info.height, info.fps, info.n_frames) == (64, 48, 25.0, 7)
    with av.open(str(path)) as c:
        planes = [f.to_ndarray() for f in c.decode(video=0)]
    assert len(planes) == 7
    for plane, f in zip(planes, frames, strict=True):
        np.testing.assert_array_equal(plane[:48], rgb_to_luma(f))
    assert len(list(read_video(path))) == 7


def test_y4m_refuses_a_size_change(tmp_path):
    with Y4mWriter(tmp_path / "x.y4m") as w:
        w.write(np.zeros((8, 8, 3), np.uint8))
        with pytest.raises(ValueError, match=r"^frame size 6x8 differs from the first frame's 8x8$"):
            w.write(np.zeros((8, 6, 3), np.uint8))
