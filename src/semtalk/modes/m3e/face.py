"""Face guidance of the frames between keyframes (issue 22, item 5; ``--fill face``): SyncSC's coefficient stream
beside M3E's keyframes, and SyncSC's face renderer driven by it.

    sender:   the frame LGM-TSC's tracker already landmarked and cropped (``LgmtscSender.last_tracked``: no
              second landmark run)
              → SyncSC's ``FaceEncoder`` → its ``FacePacketizer`` (its stream format: range coded at its default
              1.6 kbps target) → its packet FEC (``SyncscConfig.code``: RS by default)                  (stream 2)
    receiver: SyncSC's code receiver and ``FaceDepacketizer`` → frame index → codes (a window bounded by the
              play-out: frames already shown are forgotten, frames too far ahead refused);
              frame t between keyframes a < t < b: ``FaceRenderer`` with the decoded keyframes A, B as its only
              warp sources (``set_sources``, with the codes of frames a and b) driven by frame t's codes; with
              one keyframe only (after the last one, or the other missing) from that one

Frame t's codes say where the mouth and the lids are at t, which neither keyframe shows: on the three HDTF clips
this beats eq. 10 by 2.0 dB PSNR between keyframes (``bench/m3e_fill.py``, docs/m3e.md). A frame whose codes, or
whose keyframes' codes, did not arrive, or that has no face, is not rendered here: the receiver falls back to
eq. 10 (``flow``) or holds.
"""

from __future__ import annotations

import math

import numpy as np

from semtalk.kb.knowledge_base import KnowledgeBase
from semtalk.modes.syncsc.mode import FPS, SyncscConfig
from semtalk.streams.face import FaceDepacketizer, FacePacketizer

COEFFICIENTS = 2  # the forward stream of the codes (M3E's keyframes are 0, its text 1)


class CoefficientSender:
    """SyncSC's sender-side face stream from frames already tracked: ``push(tracked)`` → datagrams."""

    def __init__(self, config: SyncscConfig, kb: KnowledgeBase, kb_bytes: bytes) -> None:
        from semtalk.semantics.face.encoder import FaceEncoder

        self.config = config
        self.encoder = FaceEncoder(kb.face_model, kb.quantizer)
        self.stream = config.code().sender(FacePacketizer(config.stream_format(kb, kb_bytes)))
        self.no_face = 0

    def push(self, tracked) -> list[bytes]:
        coded = self.encoder(tracked)
        self.no_face += not coded.face_found
        return self.stream.push(coded)

    def flush(self) -> list[bytes]:
        return self.stream.flush()

    @property
    def payload_bits(self) -> int:
        return self.stream.payload_bits

    @property
    def packets(self) -> int:
        return self.stream.packets


class FaceGuide:
    """The receiver's half: ``receive(datagram)`` keeps the codes that arrive; ``render(t, sources)`` → frame t
    from the keyframes ``sources`` ((frame, picture) pairs), or None when a code it needs is missing;
    ``forget(shown, keys)`` after each frame played bounds what is kept."""

    def __init__(self, config: SyncscConfig, kb: KnowledgeBase, kb_bytes: bytes, latency: float) -> None:
        self.kb = kb
        self.stream = config.code().receiver(FaceDepacketizer(config.stream_format(kb, kb_bytes)),
                                             prior=kb.reference.codes)
        # No honest frame arrives more than the play-out delay ahead (SyncSC's play-out bound); beyond: refused.
        self.horizon = math.ceil((latency + 1) * FPS)
        self.codes: dict[int, np.ndarray] = {}  # frame index → codes (frames with a face only)
        self.shown = 0  # the next frame the receiver plays: codes of earlier frames are of no use
        self.keys: frozenset[int] = frozenset()  # but for the keyframes the receiver keeps (warp sources)
        self.faceless = 0  # frames that arrived flagged without a face
        self.refused = 0  # frames too far ahead of the play-out
        self._renderer = None
        self._key: tuple[int, ...] | None = None

    def receive(self, datagram: bytes) -> None:
        self._keep(self.stream.push(datagram))

    def due(self, until: int) -> None:
        """What a block code can only give now that play-out reaches ``until``."""
        self._keep(self.stream.due(until))

    def _keep(self, frames) -> None:
        for frame in frames:
            if frame.index < self.shown and frame.index not in self.keys:
                continue
            if frame.index > self.shown + self.horizon:
                self.refused += 1
            elif not frame.face_found:
                self.faceless += 1
            else:
                self.codes[frame.index] = frame.codes

    def forget(self, shown: int, keys) -> None:
        """Drop the codes of the frames before ``shown`` (the next frame to play) but for the frames ``keys``
        (the keyframes the receiver still keeps)."""
        self.shown, self.keys = shown, frozenset(keys)
        for index in [i for i in self.codes if i < shown and i not in self.keys]:
            del self.codes[index]

    def render(self, t: int, sources: list[tuple[int, np.ndarray]]) -> np.ndarray | None:
        codes = self.codes.get(t)
        if codes is None or any(f not in self.codes for f, _ in sources):
            return None
        key = tuple(f for f, _ in sources)
        if key != self._key:
            from semtalk.kb.knowledge_base import Keyframe

            self.renderer.set_sources([Keyframe(np.ascontiguousarray(p), self.codes[f]) for f, p in sources])
            self._key = key
        return self.renderer(self.kb.quantizer.dequantize(codes).astype(np.float64))

    @property
    def renderer(self):
        if self._renderer is None:
            from semtalk.generators.face_renderer import FaceRenderer

            self._renderer = FaceRenderer(self.kb)
        return self._renderer
