"""RTP payload for Wav2Vid's video clips (the paper's DVST role): a short clip coded by a real codec, cut into
fragments small enough that one radio error costs little, reassembled whole or not at all.

A clip is the codec's packets, one per frame (low delay: no reordering), serialised as ``u32 length | bytes`` per
frame and cut into fragments of at most ``fragment`` bytes. Payload of each RTP packet::

    byte 0     version (4 bits) = 1 | codec index (4)
    byte 1     KB tag: first byte of the knowledge-base hash
    u16        clip id (counts clips modulo 2**16)
    u32        index of the clip's first frame
    u16        frames in the clip
    u16        fragment index
    u16        fragments in the clip
    bytes      the fragment

The RTP timestamp is the first frame's time on the 90 kHz video clock; the marker bit is set on the last fragment.

A **reuse** record (the clip cache, ``modes/wav2vid/pose.py``) is the same header with 0 frames, fragment 0 of 1,
codec index 0 and no body: "from frame ``first`` on, animate clip ``clip id`` again". It is 14 bytes of payload, one
packet, and goes under the same FEC as the fragments. A record with 0 frames that breaks any of these is invalid.

A clip is decodable only whole (its first frame is an I-frame, the rest reference it), so the depacketiser yields a
clip once all its fragments are in, and forgets an incomplete one once ``MAX_PENDING`` newer clips have started:
memory stays bounded whatever is lost or forged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from semtalk.streams.packet import VIDEO_CLOCK_RATE, FilteredDepacketizer, RtpPacket

PAYLOAD_VERSION = 1
CLIP_CODECS = ("x265", "svtav1", "x264")
CLIP_SSRC = 0x57A2C11B
CLIP_PAYLOAD_TYPE = 98
HEADER = struct.Struct(">BBHIHHH")
FRAME_LENGTH = struct.Struct(">I")
MAX_PENDING = 4  # incomplete clips kept while newer ones arrive
MAX_CLIP_FRAMES = 250


@dataclass(frozen=True)
class Reuse:
    """A control record: from frame ``first`` on the receiver animates its cached clip ``clip_id`` again."""

    clip_id: int
    first: int

    @property
    def bytes(self) -> int:
        """What it costs: the header is all of it."""
        return HEADER.size


@dataclass(frozen=True)
class Clip:
    """One coded clip: codec packets of frames ``first`` … ``first + len(packets) − 1``."""

    clip_id: int
    first: int
    codec: str
    packets: tuple[bytes, ...]

    @property
    def n_frames(self) -> int:
        return len(self.packets)

    @property
    def bytes(self) -> int:
        return sum(map(len, self.packets))


class ClipPacketizer:
    """``push(clip)`` → RTP packets with consecutive sequence numbers."""

    def __init__(self, kb_tag: int, fps: float, fragment: int = 500, ssrc: int = CLIP_SSRC,
                 payload_type: int = CLIP_PAYLOAD_TYPE) -> None:
        if fragment < 16:
            raise ValueError(f"fragment must be at least 16 bytes, got {fragment}")
        self.kb_tag, self.fps, self.fragment = kb_tag, fps, fragment
        self.ssrc, self.payload_type = ssrc, payload_type
        self.seq = 0
        self.packets = 0
        self.payload_bits = 0

    def push(self, clip: Clip) -> list[bytes]:
        if clip.codec not in CLIP_CODECS:
            raise ValueError(f"unknown clip codec {clip.codec!r}")
        if not 1 <= clip.n_frames <= MAX_CLIP_FRAMES:
            raise ValueError(f"a clip has 1..{MAX_CLIP_FRAMES} frames, got {clip.n_frames}")
        body = b"".join(FRAME_LENGTH.pack(len(p)) + p for p in clip.packets)
        parts = [body[i:i + self.fragment] for i in range(0, len(body), self.fragment)]
        stamp = self._stamp(clip.first)
        out = []
        for i, part in enumerate(parts):
            header = HEADER.pack((PAYLOAD_VERSION << 4) | CLIP_CODECS.index(clip.codec), self.kb_tag,
                                 clip.clip_id & 0xFFFF, clip.first, clip.n_frames, i, len(parts))
            out.append(self._packet(stamp, header + part, marker=i == len(parts) - 1))
            self.payload_bits += 8 * len(part)
        return out

    def push_reuse(self, reuse: Reuse) -> list[bytes]:
        """The one RTP packet of a reuse record."""
        header = HEADER.pack(PAYLOAD_VERSION << 4, self.kb_tag, reuse.clip_id & 0xFFFF, reuse.first, 0, 0, 1)
        self.payload_bits += 8 * HEADER.size
        return [self._packet(self._stamp(reuse.first), header, marker=True)]

    def _stamp(self, frame: int) -> int:
        """The RTP timestamp of ``frame`` on the 90 kHz video clock."""
        return round(frame / self.fps * VIDEO_CLOCK_RATE) % (1 << 32)

    def _packet(self, stamp: int, payload: bytes, marker: bool) -> bytes:
        """One RTP packet of this stream, with the next sequence number."""
        packet = bytes(RtpPacket(payload_type=self.payload_type, sequence_number=self.seq, timestamp=stamp,
                                 ssrc=self.ssrc, marker=marker, payload=payload))
        self.seq = (self.seq + 1) & 0xFFFF
        self.packets += 1
        return packet


@dataclass
class _Pending:
    first: int
    n_frames: int
    codec: str
    parts: list[bytes | None]


class ClipDepacketizer(FilteredDepacketizer):
    """``depacketizer(datagram)`` → the clips it completes and the reuse records it reads (0 or 1); counts what it
    refuses."""

    def __init__(self, kb_tag: int, ssrc: int = CLIP_SSRC, payload_type: int = CLIP_PAYLOAD_TYPE) -> None:
        super().__init__(ssrc, payload_type, kb_tag)  # invalid: a clip header or body that does not hold together
        self._pending: dict[int, _Pending] = {}
        self._done: list[int] = []  # recent complete clip ids: a duplicate fragment must not start a clip again

    def __call__(self, datagram: bytes) -> list[Clip | Reuse]:
        pkt = self.filter.admit(datagram)
        if pkt is None:
            return []
        if len(pkt.payload) < HEADER.size:
            self.invalid += 1
            return []
        first_byte, _, clip_id, first, n_frames, index, count = HEADER.unpack_from(pkt.payload)
        codec = first_byte & 0x0F
        if n_frames == 0 and first_byte == PAYLOAD_VERSION << 4 and (index, count) == (0, 1) \
                and len(pkt.payload) == HEADER.size:
            return [Reuse(clip_id, first)]
        if first_byte >> 4 != PAYLOAD_VERSION or codec >= len(CLIP_CODECS) or not 1 <= n_frames <= MAX_CLIP_FRAMES \
                or not index < count:
            self.invalid += 1
            return []
        if clip_id in self._done:
            return []
        pending = self._pending.get(clip_id)
        if pending is None:
            pending = self._pending[clip_id] = _Pending(first, n_frames, CLIP_CODECS[codec], [None] * count)
            while len(self._pending) > MAX_PENDING:
                del self._pending[next(iter(self._pending))]
        if (pending.first, pending.n_frames, len(pending.parts)) != (first, n_frames, count):
            self.invalid += 1
            return []
        pending.parts[index] = pkt.payload[HEADER.size:]
        if any(p is None for p in pending.parts):
            return []
        del self._pending[clip_id]
        self._done = [*self._done[-MAX_PENDING:], clip_id]
        packets = _split(b"".join(pending.parts), n_frames)  # type: ignore[arg-type]
        if packets is None:
            self.invalid += 1
            return []
        return [Clip(clip_id, first, pending.codec, packets)]


def _split(body: bytes, n_frames: int) -> tuple[bytes, ...] | None:
    """The per-frame packets of a clip body, or None unless it holds exactly ``n_frames`` of them."""
    out, pos = [], 0
    for _ in range(n_frames):
        if pos + FRAME_LENGTH.size > len(body):
            return None
        (size,) = FRAME_LENGTH.unpack_from(body, pos)
        pos += FRAME_LENGTH.size
        if pos + size > len(body):
            return None
        out.append(body[pos:pos + size])
        pos += size
    return tuple(out) if pos == len(body) else None
