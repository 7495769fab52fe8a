"""RTP payloads of M3E-VSC: keyframes (coded pictures, cut into fragments) forward, and retransmission requests
(a NACK of sentences and keyframes) on the return path. SyncSC's KB refreshes go as keyframes too, their bytes
the frame's coefficients and the picture (``pack_refresh``).

A keyframe is one picture coded by an ``image_codec`` (AVIF by default), sent in fragments of at most
``fragment`` bytes so one radio error costs one fragment's packet, and reassembled whole or not at all. Payload::

    byte 0   version (4 bits) = 1 | codec index in ``KEYFRAME_CODECS`` (4)
    byte 1   KB tag: first byte of the knowledge-base hash
    u16      keyframe id (counts keyframes modulo 2**16)
    u32      the frame's index in the call
    u16      fragment index
    u16      fragments in the keyframe
    bytes    the fragment

The RTP timestamp is the frame's time on the 90 kHz video clock. A resent keyframe is the same fragments again;
the depacketiser forgets an incomplete keyframe once ``MAX_PENDING`` newer ones have started (bounded memory).

A request (return path) asks for sentences and keyframes by number::

    byte 0   version (4 bits) = 1 | 0
    byte 1   KB tag
    u8, u8   how many sentence indices, how many keyframe ids follow
    u16 …    sentence indices (mod 2**16), then keyframe ids
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from semtalk.streams.packet import VIDEO_CLOCK_RATE, FilteredDepacketizer, RtpPacket

PAYLOAD_VERSION = 1
# index on the wire: a new codec goes at the end
KEYFRAME_CODECS = ("avif", "webp", "jpeg2000", "jpeg", "seb", "seb-low", "seb-high")
KEYFRAME_SSRC = 0x3E3E0001
KEYFRAME_PAYLOAD_TYPE = 99
REQUEST_SSRC = 0x3E3E0002
REQUEST_PAYLOAD_TYPE = 100
HEADER = struct.Struct(">BBHIHH")
REQUEST_HEADER = struct.Struct(">BBBB")
MAX_PENDING = 4
MAX_REQUEST = 255  # of each kind in one request


@dataclass(frozen=True)
class Keyframe:
    """One coded keyframe: its id, the frame it is, the codec and the codec's bytes."""

    key_id: int
    frame: int
    codec: str
    data: bytes


class KeyframePacketizer:
    """``push(keyframe)`` → its RTP packets (consecutive sequence numbers; a resend gets new ones)."""

    def __init__(self, kb_tag: int, fps: float, fragment: int = 500) -> None:
        if fragment < 16:
            raise ValueError(f"fragment must be at least 16 bytes, got {fragment}")
        self.kb_tag, self.fps, self.fragment = kb_tag, fps, fragment
        self.seq = 0
        self.packets = 0
        self.payload_bits = 0

    def push(self, key: Keyframe) -> list[bytes]:
        if key.codec not in KEYFRAME_CODECS:
            raise ValueError(f"unknown keyframe codec {key.codec!r}; choose one of {', '.join(KEYFRAME_CODECS)}")
        if not key.data:
            raise ValueError("a keyframe has at least one byte")
        parts = [key.data[i:i + self.fragment] for i in range(0, len(key.data), self.fragment)]
        stamp = round(key.frame / self.fps * VIDEO_CLOCK_RATE) % (1 << 32)
        out = []
        for i, part in enumerate(parts):
            head = HEADER.pack((PAYLOAD_VERSION << 4) | KEYFRAME_CODECS.index(key.codec), self.kb_tag,
                               key.key_id & 0xFFFF, key.frame, i, len(parts))
            out.append(bytes(RtpPacket(payload_type=KEYFRAME_PAYLOAD_TYPE, sequence_number=self.seq, timestamp=stamp,
                                       ssrc=KEYFRAME_SSRC, marker=i == len(parts) - 1, payload=head + part)))
            self.seq = (self.seq + 1) & 0xFFFF
            self.payload_bits += 8 * len(part)
        self.packets += len(out)
        return out

    def flush(self) -> list[bytes]:
        """Nothing is held back: every keyframe goes out whole in ``push`` (the ``Packetizer`` protocol)."""
        return []


class KeyframeDepacketizer(FilteredDepacketizer):
    """``depacketizer(datagram)`` → the keyframes it completes (0 or 1); ``pending`` the ids begun, not complete;
    ``highest`` the highest id any valid fragment named (−1 before any): a keyframe seen only in part is known to
    be missing."""

    def __init__(self, kb_tag: int) -> None:
        super().__init__(KEYFRAME_SSRC, KEYFRAME_PAYLOAD_TYPE, kb_tag)
        self._pending: dict[int, tuple[int, str, list[bytes | None]]] = {}
        self.highest = -1

    @property
    def pending(self) -> list[int]:
        return list(self._pending)

    def __call__(self, datagram: bytes) -> list[Keyframe]:
        pkt = self.filter.admit(datagram)
        if pkt is None:
            return []
        if len(pkt.payload) < HEADER.size:
            self.invalid += 1
            return []
        first_byte, _, key_id, frame, index, count = HEADER.unpack_from(pkt.payload)
        codec = first_byte & 0x0F
        if first_byte >> 4 != PAYLOAD_VERSION or codec >= len(KEYFRAME_CODECS) or not index < count:
            self.invalid += 1
            return []
        self.highest = max(self.highest, key_id)
        frame_, codec_, parts = self._pending.setdefault(key_id, (frame, KEYFRAME_CODECS[codec], [None] * count))
        while len(self._pending) > MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        if (frame_, codec_, len(parts)) != (frame, KEYFRAME_CODECS[codec], count):
            self.invalid += 1
            return []
        parts[index] = pkt.payload[HEADER.size:]
        if any(p is None for p in parts):
            return []
        self._pending.pop(key_id, None)
        return [Keyframe(key_id, frame, codec_, b"".join(parts))]  # type: ignore[arg-type]


def pack_refresh(codes: np.ndarray, picture: bytes) -> bytes:
    """A SyncSC KB refresh (``modes.syncsc.refresh``) as a keyframe's bytes: the frame's quantised coefficients,
    which the renderer warps the picture from, then the coded picture::

        u8       n, the coefficients
        u16 × n  their codes
        bytes    the picture, in the keyframe's codec
    """
    codes = np.asarray(codes)
    if codes.ndim != 1 or not 0 < codes.size < 256 or codes.min() < 0 or codes.max() > 0xFFFF:
        raise ValueError("a refresh carries 1..255 codes of 16 bits")
    return bytes([codes.size]) + codes.astype(">u2").tobytes() + picture


def unpack_refresh(data: bytes, n_coeffs: int) -> tuple[np.ndarray, bytes]:
    """``pack_refresh``'s codes (uint16) and picture bytes; ``ValueError`` if the count is not ``n_coeffs`` or
    no picture follows."""
    if not data or data[0] != n_coeffs or len(data) <= 1 + 2 * n_coeffs:
        raise ValueError(f"not a refresh of {n_coeffs} coefficients")
    codes = np.frombuffer(data, dtype=">u2", count=n_coeffs, offset=1).astype(np.uint16)
    return codes, data[1 + 2 * n_coeffs:]


@dataclass(frozen=True)
class Request:
    """What the receiver asks to be sent again: sentence indices and keyframe ids (each mod 2**16)."""

    sentences: tuple[int, ...] = ()
    keyframes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.sentences) > MAX_REQUEST or len(self.keyframes) > MAX_REQUEST:
            raise ValueError(f"a request asks for at most {MAX_REQUEST} sentences and {MAX_REQUEST} keyframes")

    def packet(self, kb_tag: int, seq: int) -> bytes:
        ids = [*self.sentences, *self.keyframes]
        body = REQUEST_HEADER.pack(PAYLOAD_VERSION << 4, kb_tag, len(self.sentences), len(self.keyframes))
        body += struct.pack(f">{len(ids)}H", *(i & 0xFFFF for i in ids))
        return bytes(RtpPacket(payload_type=REQUEST_PAYLOAD_TYPE, sequence_number=seq & 0xFFFF, timestamp=0,
                               ssrc=REQUEST_SSRC, payload=body))


class RequestDepacketizer(FilteredDepacketizer):
    """``depacketizer(datagram)`` → ``[Request]`` (at most one)."""

    def __init__(self, kb_tag: int) -> None:
        super().__init__(REQUEST_SSRC, REQUEST_PAYLOAD_TYPE, kb_tag)

    def __call__(self, datagram: bytes) -> list[Request]:
        pkt = self.filter.admit(datagram)
        if pkt is None:
            return []
        p = pkt.payload
        if len(p) < REQUEST_HEADER.size or p[0] != PAYLOAD_VERSION << 4:
            self.invalid += 1
            return []
        _, _, n_s, n_k = REQUEST_HEADER.unpack_from(p)
        if len(p) != REQUEST_HEADER.size + 2 * (n_s + n_k):
            self.invalid += 1
            return []
        ids = struct.unpack_from(f">{n_s + n_k}H", p, REQUEST_HEADER.size)
        return [Request(tuple(ids[:n_s]), tuple(ids[n_s:]))]
