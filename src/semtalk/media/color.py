"""RGB → Y'CbCr (ITU-R BT.601, limited range), the conversion ffmpeg applies by default.

Every quality metric in semtalk runs on this luma, and the y4m files handed to ffmpeg/libvmaf carry
exactly these planes, so our PSNR/SSIM and ffmpeg's ``psnr``/``ssim`` filters look at the same
numbers. Limited range (Y in 16..235) is what swscale produces for ``rgb24 → yuv420p`` and what
VMAF was trained on; note that PSNR on it reads about 1.3 dB higher than on full-range luma
(the error is scaled by 219/255).
"""

from __future__ import annotations

import numpy as np

# BT.601 rows scaled to the 8-bit limited range (Y: 219 levels, Cb/Cr: 224 levels), in units of
# 1/255000 so that the conversion is exact integer arithmetic (rounding half up, no float ties).
_Y = np.array([65481, 128553, 24966], dtype=np.int64)
_CB = np.array([-37797, -74203, 112000], dtype=np.int64)
_CR = np.array([112000, -93786, -18214], dtype=np.int64)
_UNIT = 255000


def _check_rgb(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {rgb.shape}")


def rgb_to_luma(rgb: np.ndarray) -> np.ndarray:
    """Luma Y' (uint8, 16..235) of an HxWx3 uint8 RGB image.

    Y' = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, rounded half up (BT.601, limited range).
    """
    _check_rgb(rgb)
    y = (rgb.astype(np.int64) @ _Y + 16 * _UNIT + _UNIT // 2) // _UNIT
    return y.astype(np.uint8)


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three planes of yuv420p (uint8): full-size Y, and Cb, Cr of each 2x2 block's mean colour.

    Odd sizes give chroma planes of ceil(H/2) x ceil(W/2), replicating the last row/column, as
    ffmpeg's y4m demuxer expects.
    """
    y = rgb_to_luma(rgb)
    h, w = y.shape
    padded = np.pad(rgb.astype(np.int64), ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    ph, pw = padded.shape[:2]
    sums = padded.reshape(ph // 2, 2, pw // 2, 2, 3).sum(axis=(1, 3))  # 4 pixels per block
    unit = 4 * _UNIT
    planes = [(sums @ row + 128 * unit + unit // 2) // unit for row in (_CB, _CR)]
    return y, planes[0].astype(np.uint8), planes[1].astype(np.uint8)
