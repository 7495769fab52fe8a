from __future__ import annotations

import math

import numpy as np
import pytest

from semtalk.errors import SemtalkError
from semtalk.media.y4m import Y4mWriter
from semtalk.metrics.video import VideoQuality
from semtalk.metrics.vmaf import ffmpeg_psnr_ssim, vmaf
from tests.unit.metrics.metric_images import add_noise, blurred, texture

pytest.importorskip("imageio_ffmpeg")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Reference, identical, mildly noisy and blurred y4m clips (10 frames, 160x128, panning texture)."""
    rng = np.random.default_rng(3)
    base = texture(rng, 200, 240)
    refs = [np.ascontiguousarray(base[2 * i : 2 * i + 128, 3 * i : 3 * i + 160]) for i in range(10)]
    variants = {
        "ref": refs,
        "same": refs,
        "noisy": [add_noise(rng, f, 3) for f in refs],
        "blur": [blurred(f, 2.5) for f in refs],
    }
    folder = tmp_path_factory.mktemp("vmaf")
    paths = {}
    for name, frames in variants.items():
        paths[name] = folder / f"{name}.y4m"
        with Y4mWriter(paths[name], fps=25) as w:
            for f in frames:
                w.write(f)
    return paths, variants


def test_vmaf_ranks_identical_above_blurred(clips):
    paths, _ = clips
    same = vmaf(paths["ref"], paths["same"])
    blur = vmaf(paths["ref"], paths["blur"], n_threads=1)
    assert same > 90
    assert blur < same - 20


def test_ffmpeg_identical_clips(clips):
    paths, _ = clips
    got = ffmpeg_psnr_ssim(paths["ref"], paths["same"])
    assert got == {"frames": 10, "psnr": 100.0, "psnr_pooled": math.inf, "ssim": 1.0}


def test_our_metrics_agree_with_ffmpeg(clips):
    paths, variants = clips
    ours = VideoQuality()
    for r, o in zip(variants["ref"], variants["noisy"], strict=True):
        ours.update(r, o)
    mine = ours.compute()
    theirs = ffmpeg_psnr_ssim(paths["ref"], paths["noisy"])
    assert theirs["frames"] == 10
    # Same luma planes, same formula: only ffmpeg's 2-decimal printing separates the two.
    assert theirs["psnr"] == pytest.approx(mine["psnr"], abs=0.006)
    assert theirs["psnr_pooled"] == pytest.approx(mine["psnr_pooled"], abs=0.01)
    # ffmpeg's SSIM uses 8x8 blocks instead of a Gaussian window: close for mild distortions only.
    assert theirs["ssim"] == pytest.approx(mine["ssim"], abs=0.01)


def test_ffmpeg_failure_is_a_user_error(clips, tmp_path):
    paths, _ = clips
    junk = tmp_path / "junk.y4m"
    junk.write_bytes(b"not a y4m file at all")
    with pytest.raises(SemtalkError, match=r"^ffmpeg failed: .+"):
        vmaf(paths["ref"], junk)
    with pytest.raises(SemtalkError, match=r"^no such media file: .*missing\.y4m$"):
        ffmpeg_psnr_ssim(paths["ref"], tmp_path / "missing.y4m")


def test_mismatched_sizes_fail_cleanly(clips, tmp_path):
    paths, _ = clips
    small = tmp_path / "small.y4m"
    with Y4mWriter(small) as w:
        w.write(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(SemtalkError, match=r"^ffmpeg failed: "):
        ffmpeg_psnr_ssim(paths["ref"], small)
