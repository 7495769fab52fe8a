"""The sender's motion field (issue 24): what moves the receiver's rendering onto the frame, one per packet.

The sender holds the receiver's KB and renderer (as the KB refresh does), so it renders every frame as the
receiver will and fits one coarse motion field to a packet's frames (``generators.motion_field``); the field
travels in the face packet, under the rate controller and the packet FEC, and the receiver resamples each frame
of the packet with it. It renders from the exact codes, where the receiver renders from the precision level
the rate controller picks afterwards (that choice depends on the field's cost): the two renderings differ by
less than the coefficients' own precision moves SSIM (0.003 from lossless to 0.8 kbps, docs/face-rate.md).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from semtalk.generators.face_renderer import FaceRenderer
from semtalk.generators.motion_field import FieldFitter
from semtalk.records import CodedFrame


class MotionSender:
    """``push(coded, crop)`` → the coded frames of a full packet, each with the packet's field (usually none
    until the packet is full); ``flush()`` → the rest. Frames without a face are rendered as the empty scene at
    the receiver, so they take no part in the fit; a packet of only such frames has no field."""

    def __init__(self, renderer: FaceRenderer, grid: int, frames_per_packet: int):
        self.renderer = renderer
        self.fitter = FieldFitter(grid)
        self.frames_per_packet = frames_per_packet
        self._pending: list[CodedFrame] = []
        self._pairs: list[tuple[np.ndarray, np.ndarray]] = []  # (rendering, crop) of the pending frames with a face

    def push(self, coded: CodedFrame, crop: np.ndarray) -> list[CodedFrame]:
        self._pending.append(coded)
        if coded.face_found:
            kb = self.renderer.kb
            self._pairs.append((self.renderer(kb.quantizer.dequantize(coded.codes)), crop))
        return self.flush() if len(self._pending) >= self.frames_per_packet else []

    def flush(self) -> list[CodedFrame]:
        field = self.fitter.fit(*zip(*self._pairs, strict=True)) if self._pairs else None
        out = [replace(f, field=field) for f in self._pending]
        self._pending, self._pairs = [], []
        return out
