"""Full-reference image quality on luma: PSNR, SSIM and MS-SSIM, per frame and pooled over a clip.

All three compare the BT.601 limited-range luma Y' of two uint8 RGB frames (``semtalk.media.color``),
the plane ffmpeg's ``psnr``/``ssim`` filters and libvmaf report as "Y", so our numbers and
ffmpeg's can be cross-checked on the same pixels. Peak value is 255 throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from semtalk.errors import MissingDependencyError
from semtalk.media.color import rgb_to_luma

PEAK = 255.0
PSNR_CAP = 100.0  # dB credited to a frame identical to its reference when averaging over frames
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang, Simoncelli & Bovik 2003, Table 1
_WIN = 11  # Gaussian window size for sigma 1.5, as in Wang et al. 2004 and skimage/pytorch-msssim


def _luma_pair(ref: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if ref.shape != out.shape:
        raise ValueError(f"images differ in shape: {ref.shape} vs {out.shape}")
    if ref.dtype != np.uint8 or out.dtype != np.uint8:
        raise ValueError(f"expected uint8 images, got {ref.dtype} and {out.dtype}")
    return rgb_to_luma(ref).astype(np.float64), rgb_to_luma(out).astype(np.float64)


def _check_window(y: np.ndarray) -> None:
    if min(y.shape) < _WIN:
        raise ValueError(f"SSIM needs images of at least {_WIN}x{_WIN} pixels, got {y.shape[1]}x{y.shape[0]}")


def mse(ref: np.ndarray, out: np.ndarray) -> float:
    """Mean squared error between the lumas of two uint8 RGB images."""
    return _mse_y(*_luma_pair(ref, out))


def _mse_y(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2))


def _psnr_from_mse(err: float) -> float:
    return math.inf if err == 0 else 10.0 * math.log10(PEAK**2 / err)


def psnr(ref: np.ndarray, out: np.ndarray) -> float:
    """PSNR in dB, 10·log10(255² / MSE) on luma; ``math.inf`` when the lumas are identical.

    Returning inf (not a cap) keeps the per-frame value honest; ``VideoQuality`` caps it when
    averaging so one perfect frame cannot make a clip's mean infinite.
    """
    return _psnr_from_mse(mse(ref, out))


def ssim(ref: np.ndarray, out: np.ndarray) -> float:
    """Mean SSIM on luma (Wang et al. 2004, eq. 13): 11x11 Gaussian window, sigma 1.5, K=(0.01, 0.03)."""
    return _ssim_y(*_luma_pair(ref, out))


def _ssim_y(a: np.ndarray, b: np.ndarray) -> float:
    try:
        from skimage.metrics import structural_similarity
    except ImportError as exc:
        raise MissingDependencyError("scikit-image", "SSIM") from exc
    _check_window(a)
    return float(
        structural_similarity(
            a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=PEAK
        )
    )


def ms_ssim_scales(height: int, width: int) -> int:
    """How many MS-SSIM scales an image supports: the usual 5, fewer for small images.

    Each scale halves the image, and the 11-px window must still fit at the coarsest one
    (pytorch-msssim asserts a side > 160 px for 5 scales). Below that the coarsest scales are
    dropped and the remaining weights renormalised (see ``ms_ssim``).
    """
    side = min(height, width)
    if side < _WIN:
        raise ValueError(f"MS-SSIM needs images of at least {_WIN}x{_WIN} pixels, got {width}x{height}")
    levels = 1
    while levels < len(MS_SSIM_WEIGHTS) and side > (_WIN - 1) * 2**levels:
        levels += 1
    return levels


def ms_ssim(ref: np.ndarray, out: np.ndarray) -> float:
    """Multi-scale SSIM on luma (Wang, Simoncelli & Bovik 2003, eq. 7) via pytorch-msssim.

    Images with a side of 161 px or more use the standard five scales and weights. Smaller ones
    (e.g. LRS2's 160x160) use as many scales as fit, with the first weights renormalised to sum to
    one, rather than being upsampled: upsampling would invent a finest scale with no real detail
    and inflate the score. Values from fewer scales are therefore not comparable with 5-scale
    values; ``ms_ssim_scales`` tells how many were used.
    """
    return _ms_ssim_y(*_luma_pair(ref, out))


def _ms_ssim_y(a: np.ndarray, b: np.ndarray) -> float:
    levels = ms_ssim_scales(*a.shape)
    torch, lib = _torch_msssim()
    x = torch.from_numpy(a)[None, None]
    y = torch.from_numpy(b)[None, None]
    # One small image: threads only add overhead, and oversubscribe a machine already busy with
    # other stages or workers (measured 17 ms → 200 ms per frame under contention).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if levels == len(MS_SSIM_WEIGHTS):
            return float(lib.ms_ssim(x, y, data_range=PEAK, size_average=True, win_size=_WIN, win_sigma=1.5))
        w = np.asarray(MS_SSIM_WEIGHTS[:levels])
        return _ms_ssim_levels(x, y, tuple(w / w.sum()))
    finally:
        torch.set_num_threads(threads)


def _ms_ssim_levels(x: Any, y: Any, weights: tuple[float, ...]) -> float:
    """MS-SSIM over ``len(weights)`` scales, the same computation as pytorch_msssim.ms_ssim minus
    its fixed 5-scale size check (its private ``_ssim`` gives both SSIM and contrast-structure)."""
    torch, _ = _torch_msssim()
    import torch.nn.functional as F
    from pytorch_msssim.ssim import _fspecial_gauss_1d, _ssim

    win = _fspecial_gauss_1d(_WIN, 1.5).to(x.dtype).repeat(x.shape[1], 1, 1, 1)
    factors = []
    for level in range(len(weights)):
        ssim_val, cs = _ssim(x, y, data_range=PEAK, win=win, size_average=False, K=(0.01, 0.03))
        if level < len(weights) - 1:
            factors.append(torch.relu(cs))
            padding = [s % 2 for s in x.shape[2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=padding)
            y = F.avg_pool2d(y, kernel_size=2, padding=padding)
    factors.append(torch.relu(ssim_val))
    stacked = torch.stack(factors, dim=0)
    w = torch.tensor(weights, dtype=stacked.dtype).view(-1, 1, 1)
    return float(torch.prod(stacked**w, dim=0).mean())


def _torch_msssim() -> tuple[Any, Any]:
    try:
        import pytorch_msssim
        import torch
    except ImportError as exc:
        raise MissingDependencyError("pytorch-msssim", "MS-SSIM") from exc
    return torch, pytorch_msssim


@dataclass
class VideoQuality:
    """Running sums of per-frame quality, torchmetrics-style: ``update`` per frame, ``compute`` at
    the end, ``merge`` to combine the states of workers that saw different frames.

    The mean PSNR caps identical frames at ``PSNR_CAP`` (100 dB) rather than skipping them, so a
    clip with perfect frames scores higher than one without, and every frame counts in the mean;
    ``identical_frames`` says how many were capped. ``psnr_pooled`` is PSNR of the mean MSE, the
    pooling ffmpeg's psnr filter reports.
    """

    frames: int = 0
    identical_frames: int = 0
    psnr_sum: float = 0.0
    mse_sum: float = 0.0
    ssim_sum: float = 0.0
    ms_ssim_sum: float = 0.0

    def update(self, ref: np.ndarray, out: np.ndarray) -> None:
        """Add one frame pair (uint8 RGB, same shape)."""
        a, b = _luma_pair(ref, out)
        err = _mse_y(a, b)
        value = _psnr_from_mse(err)
        self.frames += 1
        self.identical_frames += math.isinf(value)
        self.psnr_sum += min(value, PSNR_CAP)
        self.mse_sum += err
        self.ssim_sum += _ssim_y(a, b)
        self.ms_ssim_sum += _ms_ssim_y(a, b)

    def merge(self, other: VideoQuality) -> VideoQuality:
        """A new state holding both, as if one accumulator had seen all their frames."""
        return VideoQuality(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def compute(self) -> dict[str, float]:
        """Means over frames: frames, psnr, psnr_pooled, ssim, ms_ssim, identical_frames.

        The keys never change; before any update the means are NaN.
        """
        n = self.frames
        if n == 0:
            return {"frames": 0, "psnr": math.nan, "psnr_pooled": math.nan, "ssim": math.nan,
                    "ms_ssim": math.nan, "identical_frames": 0}  # fmt: skip
        return {
            "frames": n,
            "psnr": self.psnr_sum / n,
            "psnr_pooled": _psnr_from_mse(self.mse_sum / n),
            "ssim": self.ssim_sum / n,
            "ms_ssim": self.ms_ssim_sum / n,
            "identical_frames": self.identical_frames,
        }
