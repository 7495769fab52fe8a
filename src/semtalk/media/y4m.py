"""Stream RGB frames into a raw YUV4MPEG2 (.y4m) file for ffmpeg-based metrics (VMAF, psnr, ssim).

Raw y4m is uncompressed, so the luma ffmpeg and libvmaf read is bit-exact the luma our own metrics
compute (``semtalk.media.color``): the cross-check compares metric implementations, not codecs.
Frames are written as they arrive; nothing is buffered.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np

from semtalk.media.color import rgb_to_yuv420


class Y4mWriter:
    """Write HxWx3 uint8 RGB frames as yuv420p (BT.601 limited range) y4m.

    >>> with Y4mWriter("ref.y4m", fps=25) as ref:   # doctest: +SKIP
    ...     for crop in crops:
    ...         ref.write(crop)
    """

    def __init__(self, path: str | Path, fps: float = 25.0):
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = Fraction(fps).limit_denominator(1001)
        self.n_frames = 0
        self._size: tuple[int, int] | None = None
        self._file: BinaryIO | None = None

    def __enter__(self) -> Y4mWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one frame; the first frame fixes the size."""
        if self._file is None:
            raise RuntimeError("Y4mWriter must be used as a context manager")
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {frame.dtype} {frame.shape}")
        height, width = frame.shape[:2]
        if self._size is None:
            self._size = (height, width)
            header = (
                f"YUV4MPEG2 W{width} H{height} F{self.fps.numerator}:{self.fps.denominator} "
                "Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED\n"
            )
            self._file.write(header.encode("ascii"))
        elif self._size != (height, width):
            raise ValueError(
                f"frame size {width}x{height} differs from the first frame's {self._size[1]}x{self._size[0]}"
            )
        self._file.write(b"FRAME\n")
        for plane in rgb_to_yuv420(frame):
            self._file.write(plane.tobytes())
        self.n_frames += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
