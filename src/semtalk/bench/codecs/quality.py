"""Clip quality of decoded frames (``semtalk.metrics``), and an independent cross-check by ffmpeg.

The cross-check writes both clips as raw y4m (the same BT.601 luma our metrics compute) and runs
ffmpeg's own ``psnr`` and ``ssim`` filters. PSNR is the same formula on the same pixels, so it must
agree to ffmpeg's 2-decimal printout. SSIM is not the same by construction: ours is Wang et al.'s
11x11 Gaussian window (sigma 1.5); ffmpeg's filter averages an SSIM over 8x8 boxes on a 4-px grid,
with sample (N−1) variances. ``block_ssim`` re-implements ffmpeg's variant on our luma, so
``ssim_block`` vs ``ffmpeg_ssim`` checks the pixels and pooling exactly, and ``ssim`` vs
``ffmpeg_ssim`` shows how far the two SSIM conventions differ on this content.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semtalk.media.color import rgb_to_luma
from semtalk.metrics.video import PEAK, VideoQuality


def _write_y4m(path: Path, frames: Sequence[np.ndarray], fps: float) -> None:
    from semtalk.media.y4m import Y4mWriter

    with Y4mWriter(path, fps=fps) as writer:
        for frame in frames:
            writer.write(frame)


def _check_pair(ref: Sequence[np.ndarray], dist: Sequence[np.ndarray]) -> None:
    if len(ref) != len(dist) or not ref:
        raise ValueError(f"need the same non-zero number of frames, got {len(ref)} and {len(dist)}")


def video_metrics(
    ref: Sequence[np.ndarray], dist: Sequence[np.ndarray], vmaf: bool = True, fps: float = 25.0
) -> dict[str, float]:
    """frames, psnr, psnr_pooled, ssim, ms_ssim (``VideoQuality``) and vmaf (NaN when ``vmaf=False``)."""
    _check_pair(ref, dist)
    quality = VideoQuality()
    for a, b in zip(ref, dist, strict=True):
        quality.update(a, b)
    result = quality.compute()
    result["vmaf"] = float("nan")
    if vmaf:
        from semtalk.metrics.vmaf import vmaf as vmaf_score

        with tempfile.TemporaryDirectory(prefix="semtalk-bench-") as tmp:
            _write_y4m(Path(tmp) / "ref.y4m", ref, fps)
            _write_y4m(Path(tmp) / "dist.y4m", dist, fps)
            result["vmaf"] = vmaf_score(Path(tmp) / "ref.y4m", Path(tmp) / "dist.y4m", n_threads=1)
    return result


def block_ssim(ref: np.ndarray, out: np.ndarray) -> float:
    """SSIM as ffmpeg's ssim filter computes it on luma: 8x8 boxes every 4 px, sample variances,
    C1 = (0.01·255)², C2 = (0.03·255)² (libavfilter/vf_ssim.c, ssim_end1)."""
    a = rgb_to_luma(ref).astype(np.float64)
    b = rgb_to_luma(out).astype(np.float64)
    h, w = (a.shape[0] // 4) * 4, (a.shape[1] // 4) * 4

    def sums(x: np.ndarray) -> np.ndarray:  # 4x4 block sums, then 2x2 of them = 8x8 windows on a 4-px grid
        s = x[:h, :w].reshape(h // 4, 4, w // 4, 4).sum(axis=(1, 3))
        return s[:-1, :-1] + s[1:, :-1] + s[:-1, 1:] + s[1:, 1:]

    s1, s2, ss, s12 = sums(a), sums(b), sums(a * a + b * b), sums(a * b)
    c1, c2 = (0.01 * PEAK) ** 2 * 64 * 64, (0.03 * PEAK) ** 2 * 64 * 63
    var = ss * 64 - s1 * s1 - s2 * s2
    cov = s12 * 64 - s1 * s2
    ssim = (2 * s1 * s2 + c1) * (2 * cov + c2) / ((s1 * s1 + s2 * s2 + c1) * (var + c2))
    return float(ssim.mean())


def crosscheck(ref: Sequence[np.ndarray], dist: Sequence[np.ndarray], fps: float = 25.0) -> dict[str, float]:
    """Ours vs ffmpeg's on the same frames: psnr, psnr_pooled, ssim (Gaussian), ssim_block (ffmpeg's
    convention, ours) and their ffmpeg_* counterparts, plus the absolute differences (d_*)."""
    from semtalk.metrics.vmaf import ffmpeg_psnr_ssim

    _check_pair(ref, dist)
    quality = VideoQuality()
    block = 0.0
    for a, b in zip(ref, dist, strict=True):
        quality.update(a, b)
        block += block_ssim(a, b)
    ours = quality.compute()
    with tempfile.TemporaryDirectory(prefix="semtalk-bench-") as tmp:
        _write_y4m(Path(tmp) / "ref.y4m", ref, fps)
        _write_y4m(Path(tmp) / "dist.y4m", dist, fps)
        theirs = ffmpeg_psnr_ssim(Path(tmp) / "ref.y4m", Path(tmp) / "dist.y4m")
    result = {"psnr": ours["psnr"], "psnr_pooled": ours["psnr_pooled"], "ssim": ours["ssim"],
              "ssim_block": block / len(ref), "ffmpeg_psnr": theirs["psnr"],
              "ffmpeg_psnr_pooled": theirs["psnr_pooled"], "ffmpeg_ssim": theirs["ssim"]}  # fmt: skip
    result["d_psnr"] = abs(result["psnr"] - result["ffmpeg_psnr"])
    result["d_psnr_pooled"] = abs(result["psnr_pooled"] - result["ffmpeg_psnr_pooled"])
    result["d_ssim_block"] = abs(result["ssim_block"] - result["ffmpeg_ssim"])
    result["d_ssim"] = abs(result["ssim"] - result["ffmpeg_ssim"])
    return result
