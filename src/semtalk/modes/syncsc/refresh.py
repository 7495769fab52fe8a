"""KB refresh (issue 24, item 4): new keyframes during the call, when the KB's no longer serve.

The renderer warps the KB's keyframes, taken in the first seconds; hair that swings and a head that turns
beyond them are what its SSIM loses most (docs/face-rate.md). The sender holds the same KB and renderer as the
receiver, so it predicts each frame's rendering from the coefficients it sends; when the prediction's SSIM
against the frame falls below ``refresh_ssim`` and the budget allows, it sends the frame itself as a keyframe
(an image codec, ``streams.keyframe`` fragments under the call's packet FEC, with the frame's codes:
``pack_refresh``). Both ends then warp from the KB's keyframes and the last ``keep`` (8) refreshes, the
receiver from the refresh's own frame on (it plays later than the sender sends, so a refresh that arrives
has arrived by then). A lost refresh costs only the frames it would have improved.

The budget is a token bucket of ``refresh_kbps``: credit grows by the rate each frame, and a refresh goes out
only when the credit pays for its payload bits, so the rate never exceeds the budget. The bucket holds one
second of the rate plus the cost of the last refresh coded (a picture costs several seconds of a small budget):
credit saved while the KB serves well buys one refresh, not a burst of them. No prediction is made while the
credit is below that last cost.
"""

from __future__ import annotations

import numpy as np

from semtalk import registry
from semtalk.fec.base import PacketFec, ProtectedReceiver
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.metrics.video import ssim
from semtalk.modes.syncsc.config import REFRESH_CODECS, RefreshConfig
from semtalk.streams.keyframe import Keyframe as CodedKeyframe
from semtalk.streams.keyframe import KeyframeDepacketizer, KeyframePacketizer, pack_refresh, unpack_refresh


class RefreshSender:
    """``push(index, crop, codes, face)`` → the refresh's packets (usually none)."""

    def __init__(self, config: RefreshConfig, kb: KnowledgeBase, kb_tag: int, code: PacketFec):
        self.config, self.kb = config, kb
        self.renderer = FaceRenderer(kb)
        self.packets = KeyframePacketizer(kb_tag, config.fps)
        self.fec = code.encoder()
        self.codec = registry.get("image_codec", config.codec)()
        # A frame whose eyes are closing is no source: a warp cannot open them again (``RendererConfig.eye_weight``),
        # and the renderer paints a blink's lids itself.
        ears = [kb.quantizer.dequantize(k.codes)[kb.face_model.n_expr] for k in kb.keyframes]
        self.blinking = (1.0 - self.renderer.config.lid_closure) * float(np.median(ears))
        self.pool: list[Keyframe] = []
        self.credit = 0.0  # bits
        self.cost = 0  # payload bits of the last refresh coded (sent or not)
        self.frames: list[int] = []  # the frames sent as refreshes
        self.checked = 0  # frames whose rendering was predicted

    @property
    def bits(self) -> int:
        """Payload bits of every refresh sent: its fragments' bytes, as ``KeyframePacketizer`` counts them (the
        fragment headers, like the RTP headers, are not payload)."""
        return self.packets.payload_bits

    def push(self, index: int, crop: np.ndarray, codes: np.ndarray, face: bool = True) -> list[bytes]:
        """Frame ``index`` as captured (``crop``) and as coded (``codes``); ``face`` False: no face was found, so
        the frame is no source (the credit still grows)."""
        per_frame = 1000.0 * self.config.kbps / self.config.fps
        self.credit = min(self.credit + per_frame, per_frame * self.config.fps + self.cost)
        if not face or self.credit < self.cost or index % self.config.check_every:
            return []
        coeffs = self.kb.quantizer.dequantize(codes)
        if coeffs[self.kb.face_model.n_expr] < self.blinking:
            return []
        self.checked += 1
        predicted = self.renderer(coeffs)
        if ssim(crop, predicted) >= self.config.ssim:
            return []
        data = self.codec.encode(crop, self.config.quality)
        payload = pack_refresh(codes, data)
        self.cost = 8 * len(payload)  # what ``KeyframePacketizer`` counts: the fragments, not their headers
        if self.cost > self.credit:
            return []
        self._keep(Keyframe(self.codec.decode(data), np.array(codes, dtype=np.uint16)))
        key = CodedKeyframe(len(self.frames) & 0xFFFF, index, self.config.codec, payload)
        out = [d for p in self.packets.push(key) for d in self.fec.push(p)] + self.fec.flush()
        self.frames.append(index)
        self.credit -= self.cost
        return out

    def _keep(self, key: Keyframe) -> None:
        self.pool = [*self.pool, key][-self.config.keep:]
        self.renderer.set_sources([*self.kb.keyframes, *self.pool])


class RefreshReceiver:
    """``receive(datagram)`` as refreshes arrive; ``due(index)`` before frame ``index`` plays: True when the
    renderer's sources (``sources``) changed."""

    def __init__(self, config: RefreshConfig, kb: KnowledgeBase, kb_tag: int, code: PacketFec):
        self.config, self.kb = config, kb
        packets = KeyframeDepacketizer(kb_tag)
        self.stream = ProtectedReceiver(code.decoder(packets.ssrc), packets)
        self.waiting: list[tuple[int, Keyframe]] = []  # arrived, not yet due: (frame, keyframe)
        self.pool: list[Keyframe] = []
        self.frames: list[int] = []  # the refreshes' frames, as they became due
        self.invalid = 0  # complete keyframes that were not refreshes of this KB's coefficients

    @property
    def sources(self) -> list[Keyframe]:
        return [*self.kb.keyframes, *self.pool]

    def receive(self, datagram: bytes) -> None:
        for key in self.stream.push(datagram):
            try:
                codes, data = unpack_refresh(key.data, self.kb.face_model.n_coeffs)
                if codes.max() > self.kb.quantizer.levels or key.codec not in REFRESH_CODECS:
                    raise ValueError("codes beyond the quantiser, or not a refresh codec")
                picture = registry.get("image_codec", key.codec)().decode(data)
                if picture.shape != (self.kb.crop.size, self.kb.crop.size, 3):
                    raise ValueError(f"a refresh of {picture.shape}, not the crop's size")
            except ValueError:
                self.invalid += 1
                continue
            self.waiting.append((key.frame, Keyframe(picture, codes)))
            self.waiting = sorted(self.waiting, key=lambda w: w[0])[-self.config.keep:]

    def due(self, index: int) -> bool:
        ready = [w for w in self.waiting if w[0] <= index]
        if not ready:
            return False
        self.waiting = [w for w in self.waiting if w[0] > index]
        self.frames += [frame for frame, _ in ready]
        self.pool = [*self.pool, *(key for _, key in ready)][-self.config.keep:]
        return True


def refresh_section(sender: RefreshSender, receiver: RefreshReceiver, stream, seconds: float) -> dict:
    """The report's ``refresh``: what was sent, what arrived in time to be used, and the rate (``stream``: the
    link's counts of the refresh stream)."""
    config = sender.config
    return {"kbps_budget": config.kbps, "ssim_threshold": config.ssim, "codec": config.codec,
            "quality": config.quality, "keep": config.keep,
            "sent": len(sender.frames), "frames_sent": sender.frames, "used": len(receiver.frames),
            "frames_used": receiver.frames, "invalid": receiver.invalid, "checked_frames": sender.checked,
            "payload_kbps": round(sender.bits / max(seconds, 1e-9) / 1000, 3),
            "channel_kbps": round(8 * stream.bytes / max(seconds, 1e-9) / 1000, 3),
            "packets_sent": stream.packets, "packets_lost": stream.lost,
            "packets_recovered": receiver.stream.recovered}
