from __future__ import annotations

import math

import numpy as np
import pytest

from semtalk.metrics.video import (
    MS_SSIM_WEIGHTS,
    PSNR_CAP,
    VideoQuality,
    _luma_pair,
    _ms_ssim_levels,
    ms_ssim,
    ms_ssim_scales,
    psnr,
    ssim,
)
from tests.unit.metrics.metric_images import add_noise, texture

torch = pytest.importorskip("torch")
pytorch_msssim = pytest.importorskip("pytorch_msssim")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def hand_luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range luma, 16 + (65.481 R + 128.553 G + 24.966 B) / 255 rounded half up,
    written out independently of semtalk.media.color (in exact integers, so no float ties)."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    scaled = 16 * 255000 + 65481 * r + 128553 * g + 24966 * b  # 1000 x 255 x (Y')
    return np.floor_divide(scaled + 127500, 255000).astype(np.float64)


def test_identical_images(rng):
    a = texture(rng, 192, 192)
    assert psnr(a, a) == math.inf
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    small = a[:64, :80]
    assert ssim(small, small) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(small, small) == pytest.approx(1.0, abs=1e-12)


def test_psnr_is_computed_on_luma(rng):
    a = texture(rng)
    b = add_noise(rng, a, 10)
    expected = 10 * math.log10(255**2 / np.mean((hand_luma(a) - hand_luma(b)) ** 2))
    assert psnr(a, b) == pytest.approx(expected, rel=1e-12)
    assert psnr(a, add_noise(rng, a, 20)) < psnr(a, b)


def test_psnr_ignores_chroma_only_changes():
    a = np.full((32, 32, 3), [100, 100, 100], np.uint8)
    b = np.full((32, 32, 3), [100, 100, 100], np.uint8)
    b[..., 2] = 101  # +1 blue moves luma by 0.1 of a level: rounds away
    assert psnr(a, b) == math.inf


def test_ssim_agrees_with_an_independent_gaussian_ssim(rng):
    a = texture(rng)
    b = add_noise(rng, a, 12)
    x, y = (torch.from_numpy(v)[None, None] for v in _luma_pair(a, b))
    reference = float(pytorch_msssim.ssim(x, y, data_range=255, win_size=11, win_sigma=1.5))
    assert ssim(a, b) == pytest.approx(reference, abs=1e-4)
    assert 0.5 < ssim(a, b) < 0.99


def test_ms_ssim_uses_five_scales_from_161_px(rng):
    a = texture(rng, 192, 200)
    b = add_noise(rng, a, 12)
    x, y = (torch.from_numpy(v)[None, None] for v in _luma_pair(a, b))
    library = float(pytorch_msssim.ms_ssim(x, y, data_range=255))
    assert ms_ssim(a, b) == pytest.approx(library, abs=1e-12)
    # The reduced-scale path is the library's computation: with all five weights it agrees.
    assert _ms_ssim_levels(x, y, MS_SSIM_WEIGHTS) == pytest.approx(library, abs=1e-9)


@pytest.mark.parametrize(
    ("side", "scales"), [(256, 5), (161, 5), (160, 4), (81, 4), (80, 3), (41, 3), (21, 2), (20, 1), (11, 1)]
)
def test_ms_ssim_scales_shrink_with_image_size(side, scales):
    assert ms_ssim_scales(side, side + 50) == scales


def test_ms_ssim_works_on_small_images(rng):
    a = texture(rng, 160, 160)
    mild, strong = add_noise(rng, a, 5), add_noise(rng, a, 25)
    assert 0 < ms_ssim(a, strong) < ms_ssim(a, mild) < 1


def test_tiny_or_mismatched_images_are_refused(rng):
    a = texture(rng, 10, 40)
    with pytest.raises(ValueError, match=r"^MS-SSIM needs images of at least 11x11 pixels, got 40x10$"):
        ms_ssim(a, a)
    with pytest.raises(ValueError, match=r"^SSIM needs images of at least 11x11 pixels, got 40x10$"):
        ssim(a, a)
    with pytest.raises(ValueError, match=r"^images differ in shape: \(10, 40, 3\) vs \(10, 20, 3\)$"):
        psnr(a, a[:, :20])
    with pytest.raises(ValueError, match=r"^expected uint8 images, got uint8 and float64$"):
        psnr(a, a.astype(np.float64))


def test_video_quality_means_and_caps_identical_frames(rng):
    refs = [texture(rng, 64, 64) for _ in range(4)]
    outs = [refs[0], add_noise(rng, refs[1], 8), add_noise(rng, refs[2], 8), refs[3]]
    vq = VideoQuality()
    for r, o in zip(refs, outs, strict=True):
        vq.update(r, o)
    got = vq.compute()
    assert got["frames"] == 4 and got["identical_frames"] == 2
    finite = [psnr(r, o) for r, o in zip(refs[1:3], outs[1:3], strict=True)]
    assert got["psnr"] == pytest.approx((2 * PSNR_CAP + sum(finite)) / 4)
    assert got["ssim"] == pytest.approx(np.mean([ssim(r, o) for r, o in zip(refs, outs, strict=True)]))
    assert got["ms_ssim"] == pytest.approx(np.mean([ms_ssim(r, o) for r, o in zip(refs, outs, strict=True)]))
    mses = [np.mean((hand_luma(r) - hand_luma(o)) ** 2) for r, o in zip(refs, outs, strict=True)]
    assert got["psnr_pooled"] == pytest.approx(10 * math.log10(255**2 / np.mean(mses)))


def test_video_quality_merge_equals_one_pass(rng):
    pairs = [(r, add_noise(rng, r, 6)) for r in (texture(rng, 48, 48) for _ in range(6))]
    whole, left, right = VideoQuality(), VideoQuality(), VideoQuality()
    for i, (r, o) in enumerate(pairs):
        whole.update(r, o)
        (left if i % 2 else right).update(r, o)
    merged = left.merge(right).compute()
    for key, value in whole.compute().items():
        assert merged[key] == pytest.approx(value, rel=1e-12), key
    assert left.frames == 3  # merge returns a new state; the parts are untouched


def test_empty_video_quality_is_nan():
    got = VideoQuality().compute()
    assert got["frames"] == 0 and math.isnan(got["psnr"]) and math.isnan(got["ms_ssim"])
