"""RTP payloads of Wav2Vid's audio stream: one codec frame per packet, digital (Opus) or analog (ASC symbols).

Every packet carries one fixed span of audio, so packets are numbered without gaps and the extended sequence
number is the span's *slot*: the receiver places what arrives and knows what was lost. Payload::

    byte 0   version (4 bits) = 1 | carrier (4): 0 Opus, 1 ASC
    byte 1   KB tag: first byte of the knowledge-base hash
    Opus:    the Opus packet (RFC 7587; RTP clock 48 kHz)
    ASC:     u16 symbol count | complex64 symbols, little-endian (RTP clock 16 kHz)

An ASC packet is *analog*: its first ``DIGITAL_BYTES`` (RTP header and payload header) travel as protected
digital side information, and the symbols after them go through the channel as they are, noise and all
(``channel.analog``). A symbol count that disagrees with the packet's length marks the packet as garbage.
"""

from __future__ import annotations

import struct

import numpy as np

from semtalk.streams.packet import HEADER_SIZE, FilteredDepacketizer, RtpPacket, SequenceUnwrapper

PAYLOAD_VERSION = 1
CARRIERS = ("opus", "asc")
AUDIO_SSRC = 0xA0D10501
PAYLOAD_TYPES = {"opus": 111, "asc": 112}
CLOCK_RATES = {"opus": 48_000, "asc": 16_000}
_HEADER = struct.Struct(">BB")
_COUNT = struct.Struct(">H")
DIGITAL_BYTES = HEADER_SIZE + _HEADER.size + _COUNT.size  # what an analog packet sends digitally


class AudioPacketizer:
    """One RTP packet per span of ``span`` samples at ``rate`` Hz, in order."""

    def __init__(self, carrier: str, kb_tag: int, span: int, rate: int = 16_000, ssrc: int = AUDIO_SSRC) -> None:
        if carrier not in CARRIERS:
            raise ValueError(f"unknown audio carrier {carrier!r}; choose one of {', '.join(CARRIERS)}")
        self.carrier, self.kb_tag, self.ssrc = carrier, kb_tag, ssrc
        self.stamp_step = span * CLOCK_RATES[carrier] // rate
        self.seq = 0
        self.payload_bits = 0
        self.packets = 0

    def push(self, data: bytes | np.ndarray) -> bytes:
        """The packet of the next span: Opus bytes, or complex ASC symbols."""
        head = _HEADER.pack((PAYLOAD_VERSION << 4) | CARRIERS.index(self.carrier), self.kb_tag)
        if self.carrier == "asc":
            symbols = np.asarray(data, dtype="<c8").ravel()
            if symbols.size > 0xFFFF:
                raise ValueError(f"an ASC packet holds at most 65535 symbols, got {symbols.size}")
            body = _COUNT.pack(symbols.size) + symbols.tobytes()
        else:
            body = bytes(data)
        stamp = (self.seq * self.stamp_step) % (1 << 32)
        packet = bytes(RtpPacket(payload_type=PAYLOAD_TYPES[self.carrier], sequence_number=self.seq & 0xFFFF,
                                 timestamp=stamp, ssrc=self.ssrc, payload=head + body))
        self.seq += 1
        self.packets += 1
        self.payload_bits += 8 * len(body)
        return packet


class AudioDepacketizer(FilteredDepacketizer):
    """``depacketizer(datagram)`` → ``[(slot, payload)]``: Opus bytes or complex64 symbols, at most one item."""

    def __init__(self, carrier: str, kb_tag: int, ssrc: int = AUDIO_SSRC) -> None:
        if carrier not in CARRIERS:
            raise ValueError(f"unknown audio carrier {carrier!r}; choose one of {', '.join(CARRIERS)}")
        super().__init__(ssrc, PAYLOAD_TYPES[carrier], kb_tag)
        self.carrier = carrier
        self.slots = SequenceUnwrapper(first=0)

    def __call__(self, datagram: bytes) -> list[tuple[int, bytes | np.ndarray]]:
        pkt = self.filter.admit(datagram)
        if pkt is None:
            return []
        payload = pkt.payload
        if len(payload) < _HEADER.size or payload[0] != (PAYLOAD_VERSION << 4) | CARRIERS.index(self.carrier):
            self.invalid += 1
            return []
        body = payload[_HEADER.size:]
        data: bytes | np.ndarray = body
        if self.carrier == "asc":
            if len(body) < _COUNT.size or len(body) != _COUNT.size + 8 * _COUNT.unpack_from(body)[0]:
                self.invalid += 1
                return []
            data = np.frombuffer(body, dtype="<c8", offset=_COUNT.size).astype(np.complex64)
        slot = self.slots(pkt.sequence_number)
        if slot is None or slot < 0:
            self.invalid += slot is None
            return []
        return [(slot, data)]
