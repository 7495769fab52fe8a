"""Receiver-side concealment of face frames that FEC could not recover.

Frames are played out in index order with a fixed look-ahead: a missing frame is linearly
interpolated between the last frame played and the next frame already received, or the last frame
is held when nothing later has arrived yet. The first frames fall back to the KB reference. A concealed frame is
drawn as the last frame played was (its rendering variant and motion field): switching the field off for a lost
packet is a jump in the picture (docs/face-rate.md).

The play-out position is the receiver's clock: no honest frame arrives more than the play-out delay
ahead of it, so a frame index beyond ``horizon`` frames ahead is forged or corrupt and refused. That
bounds the buffer, and what one forged frame can cost is its own index.
"""

from __future__ import annotations

import numpy as np

from semtalk.records import CodedFrame, FaceFrame
from semtalk.semantics.face.quantize import Quantizer

DEFAULT_HORIZON = 1500  # frames ahead of play-out: a minute at 25 fps, beyond any play-out delay semtalk uses


class FacePlayout:
    """``push`` received coded frames in any order; ``pop(until)`` plays out every index below ``until``.

    Counters: ``late`` (arrived after their play-out), ``implausible`` (``horizon`` or more frames ahead
    of it), ``concealed``.
    """

    def __init__(self, quantizer: Quantizer, fallback: np.ndarray, horizon: int = DEFAULT_HORIZON):
        if horizon < 1:
            raise ValueError(f"play-out horizon must be at least 1 frame, got {horizon}")
        self.quantizer = quantizer
        self.horizon = horizon
        self._fallback = np.asarray(fallback, dtype=np.float32)
        self._buffer: dict[int, CodedFrame] = {}
        self._next = 0
        self._last: np.ndarray | None = None
        self._drawn: tuple[np.ndarray | None, int] = (None, 0)  # the last frame's motion field and variant
        self.late = 0
        self.implausible = 0
        self.concealed = 0

    def __len__(self) -> int:
        """Frames held for play-out: at most ``horizon``, whatever arrives."""
        return len(self._buffer)

    def push(self, frame: CodedFrame) -> None:
        if frame.index < self._next:
            self.late += 1  # arrived after its play-out time: as good as lost
            return
        if frame.index >= self._next + self.horizon:
            self.implausible += 1  # further ahead than any honest sender can be
            return
        self._buffer.setdefault(frame.index, frame)

    def peek(self, index: int) -> CodedFrame | None:
        """The frame ``index`` if it has arrived and not yet played (a look ahead: nothing is taken)."""
        return self._buffer.get(index)

    def pop(self, until: int) -> list[FaceFrame]:
        out = []
        while self._next < until:
            i = self._next
            got = self._buffer.pop(i, None)
            if got is not None:
                coeffs = self.quantizer.dequantize(got.codes)
                out.append(FaceFrame(i, coeffs, face_found=got.face_found, field=got.field, variant=got.variant))
                self._drawn = (got.field, got.variant)
            else:
                coeffs = self._conceal(i)
                self.concealed += 1
                field, variant = self._drawn
                out.append(FaceFrame(i, coeffs, face_found=True, concealed=True, field=field, variant=variant))
            self._last = coeffs
            self._next += 1
        return out

    def _conceal(self, index: int) -> np.ndarray:
        last = self._fallback if self._last is None else self._last
        later = [k for k in self._buffer if k > index]
        if not later:
            return last.copy()
        k = min(later)
        nxt = self.quantizer.dequantize(self._buffer[k].codes)
        w = 1.0 / (k - index + 1)  # one step of the straight line from the last frame to frame k
        return ((1 - w) * last + w * nxt).astype(np.float32)
