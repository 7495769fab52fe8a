"""The sender's analysis by synthesis (issue 24): for each packet, the rendering variant and the motion field that
bring the receiver's frames closest to the captured ones.

The sender holds the receiver's KB and renderer (as the KB refresh does), so it renders every frame as the
receiver will, each of the ways the renderer knows (``FaceRenderer.variant_weights``: the default blend, fewer
keyframes, one keyframe alone). At the end of a packet it fits a motion field to each variant's renderings
(``generators.motion_field``) and sends the pair whose frames come closest to the captured ones (mean SSIM) once
the field is applied as the receiver applies it (the first half of a packet drawn as the last one was takes
part of that packet's field: ``SyncscReceiver._field``). Both travel in the face packet, under the rate controller and
the packet FEC. The renderings use the exact codes, where the receiver renders from the
precision level the rate controller picks afterwards (that choice depends on the field's cost): rendering from the
last packet's level instead measured no better (KatieHill 0.7299 → 0.7272, Radio34 0.8263 → 0.8251).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from semtalk.generators.face_renderer import FaceRenderer
from semtalk.generators.motion_field import FieldFitter, apply_field, packet_offset, towards
from semtalk.metrics.video import ssim
from semtalk.records import CodedFrame
from semtalk.streams.facecode import VARIANTS


class MotionSender:
    """``push(coded, crop)`` → the coded frames of a full packet, each with the packet's variant and field (usually
    none until the packet is full); ``flush()`` → the rest. Frames without a face are drawn as the empty scene at
    the receiver, so they take no part; a packet of only such frames goes with the default variant and no field.

    The variants are compared on ``PROBES`` frames of the packet (its first, middle and last), each drawn every way
    as it arrives; the chosen variant's field is then fitted to all the packet's frames. Comparing on every frame
    gains 0.0005–0.0016 SSIM on the HDTF clips at 2.75 times the cost (docs/face-rate.md)."""

    def __init__(self, renderer: FaceRenderer, grid: int, frames_per_packet: int):
        self.renderer = renderer
        self.fitter = FieldFitter(grid)
        self.frames_per_packet = frames_per_packet
        self.probes = {0, frames_per_packet // 2, frames_per_packet - 1}  # positions in a packet
        self._pending: list[CodedFrame] = []
        # Per pending frame with a face: its coefficients, the crop, where the eyes are drawn, its offset from the
        # packet's middle (``packet_offset``), and on a probe frame its renderings (one per variant).
        self._seen: list[tuple[np.ndarray, np.ndarray, list[np.ndarray], float, list[np.ndarray] | None]] = []
        self._last: tuple[int, np.ndarray | None] = (0, None)  # the last packet's variant and field
        self._closed: set[int] = set()  # variants that cannot open the eyes of some pending frame

    def push(self, coded: CodedFrame, crop: np.ndarray) -> list[CodedFrame]:
        self._pending.append(coded)
        if coded.face_found:
            coeffs = self.renderer.kb.quantizer.dequantize(coded.codes)
            variants = range(min(self.renderer.n_variants, VARIANTS))
            self._closed |= {v for v in variants if not self.renderer.opens_eyes(coeffs, v)}
            offset = packet_offset(coded.index, self.frames_per_packet)[1]
            probe = coded.index % self.frames_per_packet in self.probes
            renders = self.renderer.render_variants(coeffs, variants) if probe else None
            self._seen.append((coeffs, crop, self.renderer.eyes(coeffs), offset, renders))
        return self.flush() if len(self._pending) >= self.frames_per_packet else []

    def flush(self) -> list[CodedFrame]:
        variant, field = self._choose() if self._seen else (0, None)
        out = [replace(f, field=field, variant=variant) for f in self._pending]
        self._last = (variant, field)
        self._pending, self._seen, self._closed = [], [], set()
        return out

    def _choose(self) -> tuple[int, np.ndarray]:
        probes = [s for s in self._seen if s[4] is not None]
        if not probes:  # a short last packet, or faces only between the probe positions
            variants = range(min(self.renderer.n_variants, VARIANTS))
            probes = [(c, crop, eyes, t, self.renderer.render_variants(c, variants))
                      for c, crop, eyes, t, _ in self._seen]
        n = min(len(p[4]) for p in probes)  # a refresh mid-packet adds variants to later frames
        best = (-np.inf, 0)
        # A keyframe that would keep an eye half shut is no candidate: SSIM barely sees the eyes; the blinks do
        # (KatieHill's blink correlation 0.66 without this, 0.79 with it).
        for v in (v for v in range(n) if v not in self._closed):
            field = self.fitter.fit([p[4][v] for p in probes], [p[1] for p in probes])
            before = self._last[1] if self._last[0] == v else None
            score = np.mean([ssim(crop, apply_field(renders[v], towards(field, before if t < 0 else None, t), eyes))
                             for _, crop, eyes, t, renders in probes])
            if score > best[0]:
                best = (score, v)
        v = best[1]
        rendered = [r[v] if r is not None and len(r) > v else self.renderer(c, v) for c, _, _, _, r in self._seen]
        return v, self.fitter.fit(rendered, [s[1] for s in self._seen])
