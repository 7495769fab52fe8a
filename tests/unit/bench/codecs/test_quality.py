from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.codecs import YuvClip, block_ssim, crosscheck, decode_video, encode_video, video_metrics


@pytest.fixture(scope="module")
def decoded(pattern):
    return decode_video(encode_video(YuvClip.from_rgb(pattern[:12]), "x264", kbps=80))


def test_block_ssim_identical_and_distorted(pattern):
    assert block_ssim(pattern[0], pattern[0]) == pytest.approx(1.0)
    assert block_ssim(pattern[0], pattern[5]) < 0.9


def test_crosscheck_against_ffmpeg_on_codec_output(pattern, decoded):
    r = crosscheck(pattern[:12], decoded)
    assert r["d_psnr"] < 0.01 and r["d_psnr_pooled"] < 0.01  # same formula, same pixels
    assert r["d_ssim_block"] < 1e-4  # our copy of ffmpeg's 8x8-box SSIM
    assert r["d_ssim"] < 0.05  # Gaussian vs box windows: close, not equal
    assert r["psnr"] < 60


def test_video_metrics_keys_and_identity(pattern):
    same = video_metrics(pattern[:3], pattern[:3], vmaf=False)
    assert same["ssim"] == pytest.approx(1.0) and same["identical_frames"] == 3
    assert np.isnan(same["vmaf"])


def test_video_metrics_vmaf(pattern, decoded):
    r = video_metrics(pattern[:12], decoded, vmaf=True)
    assert 0 <= r["vmaf"] <= 100 and r["frames"] == 12


def test_frame_count_mismatch(pattern):
    with pytest.raises(ValueError, match="need the same non-zero number of frames, got 2 and 1"):
        video_metrics(pattern[:2], pattern[:1], vmaf=False)
