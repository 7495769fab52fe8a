"""RTCP (RFC 3550 §6): sender and receiver reports, APP and BYE, compound packets, and the reception
statistics a receiver keeps per source to fill its report blocks.

    SR   header(PT 200) | sender SSRC | NTP ts (64) | RTP ts | packet count | octet count | report blocks
    RR   header(PT 201) | sender SSRC | report blocks
    block  SSRC | fraction lost (8) | cumulative lost (24, signed) | ext. highest seq | jitter | LSR | DLSR
    BYE  header(PT 203) | SSRCs          APP  header(PT 204, subtype) | SSRC | name (4 ASCII) | data

Pure: no sockets and no clock. Times are arguments, in seconds on the caller's clock (``wall`` times are Unix
seconds, which the NTP timestamp carries). ``parse_compound`` raises ``ValueError`` only, whatever the bytes.
The interarrival jitter is RFC 3550 A.8's estimator, fraction lost A.3's, and the round-trip time §6.4.1's
``A - LSR - DLSR``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from semtalk.streams.packet import SequenceUnwrapper

SR, RR, SDES, BYE, APP = 200, 201, 202, 203, 204
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
_BLOCK = struct.Struct("!IB3sIIII")


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 §4: on a port that carries both, RTCP is what has a second byte (the packet type) in 192..223."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def ntp_timestamp(wall: float) -> int:
    """The 64-bit NTP timestamp (32.32 fixed point, seconds since 1900) of Unix time ``wall``."""
    return round((wall + NTP_EPOCH_OFFSET) * (1 << 32)) & ((1 << 64) - 1)


def ntp_seconds(ntp: int) -> float:
    """Unix time of a 64-bit NTP timestamp (inverse of ``ntp_timestamp``)."""
    return ntp / (1 << 32) - NTP_EPOCH_OFFSET


def ntp_middle(ntp: int) -> int:
    """The middle 32 bits (16.16 seconds) that LSR, DLSR and the RTT computation use."""
    return (ntp >> 16) & 0xFFFFFFFF


@dataclass(frozen=True)
class ReportBlock:
    """One reception report (RFC 3550 §6.4.1). ``fraction_lost`` is in 1/256; ``jitter`` in RTP clock units;
    ``lsr`` the middle 32 bits of the last SR's NTP time; ``dlsr`` the delay since it, in 1/65536 s."""

    ssrc: int
    fraction_lost: int = 0
    cumulative_lost: int = 0
    highest_seq: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    def __bytes__(self) -> bytes:
        lost = max(-(1 << 23), min((1 << 23) - 1, self.cumulative_lost)) & 0xFFFFFF
        return _BLOCK.pack(self.ssrc, self.fraction_lost, lost.to_bytes(3, "big"), self.highest_seq & 0xFFFFFFFF,
                           self.jitter & 0xFFFFFFFF, self.lsr, self.dlsr)

    @classmethod
    def parse(cls, data: bytes) -> ReportBlock:
        ssrc, fraction, lost, highest, jitter, lsr, dlsr = _BLOCK.unpack(data)
        cumulative = int.from_bytes(lost, "big")
        if cumulative & 0x800000:
            cumulative -= 1 << 24
        return cls(ssrc, fraction, cumulative, highest, jitter, lsr, dlsr)

    def round_trip(self, arrival_wall: float) -> float | None:
        """Seconds ``A - LSR - DLSR`` for a report that arrived at Unix time ``arrival_wall`` (None before any SR)."""
        if self.lsr == 0:
            return None
        a = ntp_middle(ntp_timestamp(arrival_wall))
        return ((a - self.lsr - self.dlsr) & 0xFFFFFFFF) / 65536.0


@dataclass(frozen=True)
class SenderReport:
    ssrc: int
    ntp: int
    rtp_timestamp: int
    packets: int
    octets: int
    blocks: tuple[ReportBlock, ...] = ()

    def payload(self) -> bytes:
        return struct.pack("!IQIII", self.ssrc, self.ntp, self.rtp_timestamp & 0xFFFFFFFF, self.packets & 0xFFFFFFFF,
                           self.octets & 0xFFFFFFFF) + b"".join(map(bytes, self.blocks))

    def __bytes__(self) -> bytes:
        return _packet(SR, len(self.blocks), self.payload())


@dataclass(frozen=True)
class ReceiverReport:
    ssrc: int
    blocks: tuple[ReportBlock, ...] = ()

    def __bytes__(self) -> bytes:
        return _packet(RR, len(self.blocks), struct.pack("!I", self.ssrc) + b"".join(map(bytes, self.blocks)))


@dataclass(frozen=True)
class Bye:
    ssrcs: tuple[int, ...]

    def __bytes__(self) -> bytes:
        return _packet(BYE, len(self.ssrcs), b"".join(struct.pack("!I", s) for s in self.ssrcs))


@dataclass(frozen=True)
class App:
    """Application-defined (§6.7): semtalk's ``name`` is ``STLK``; its data is padded to 32-bit words."""

    ssrc: int
    name: bytes
    data: bytes = b""
    subtype: int = 0

    def __bytes__(self) -> bytes:
        if len(self.name) != 4:
            raise ValueError(f"RTCP APP name must be 4 bytes, got {self.name!r}")
        data = self.data + bytes(-len(self.data) % 4)
        return _packet(APP, self.subtype, struct.pack("!I", self.ssrc) + self.name + data)


def _packet(packet_type: int, count: int, payload: bytes) -> bytes:
    if not 0 <= count < 32:
        raise ValueError(f"RTCP count must be in [0, 31], got {count}")
    if len(payload) % 4:
        raise ValueError("RTCP payload must be whole 32-bit words")
    return struct.pack("!BBH", 0x80 | count, packet_type, len(payload) // 4) + payload


def compound(*packets) -> bytes:
    """A compound RTCP packet (§6.1): the packets back to back, a report first."""
    return b"".join(map(bytes, packets))


def parse_compound(data: bytes) -> list[SenderReport | ReceiverReport | Bye | App]:
    """Every packet of a compound RTCP packet (SDES and unknown types skipped); ``ValueError`` for bad bytes."""
    data = bytes(data)
    out: list = []
    pos = 0
    if len(data) < 4:
        raise ValueError(f"RTCP packet has {len(data)} bytes, fewer than the 4-byte header")
    while pos < len(data):
        if len(data) - pos < 4:
            raise ValueError("RTCP compound packet ends inside a header")
        first, packet_type, words = struct.unpack_from("!BBH", data, pos)
        if first >> 6 != 2:
            raise ValueError(f"RTCP version is {first >> 6}, expected 2")
        end = pos + 4 + 4 * words
        if end > len(data):
            raise ValueError(f"RTCP packet length {4 * words} runs past the datagram")
        body = data[pos + 4:end]
        if first & 0x20:  # padding: only the last packet may have it (§6.4.1)
            if end != len(data) or not body or not 0 < body[-1] <= len(body):
                raise ValueError("RTCP padding is invalid")
            body = body[:-body[-1]]
        out.append(_parse_one(first & 0x1F, packet_type, body))
        pos = end
    return [p for p in out if p is not None]


def _parse_one(count: int, packet_type: int, body: bytes):
    def blocks(offset: int) -> tuple[ReportBlock, ...]:
        if len(body) < offset + 24 * count:
            raise ValueError(f"RTCP report claims {count} blocks, has room for {(len(body) - offset) // 24}")
        return tuple(ReportBlock.parse(body[offset + 24 * i:offset + 24 * (i + 1)]) for i in range(count))

    if packet_type == SR:
        if len(body) < 24:
            raise ValueError("RTCP SR shorter than its sender info")
        ssrc, ntp, rtp, packets, octets = struct.unpack_from("!IQIII", body)
        return SenderReport(ssrc, ntp, rtp, packets, octets, blocks(24))
    if packet_type == RR:
        if len(body) < 4:
            raise ValueError("RTCP RR without its SSRC")
        return ReceiverReport(struct.unpack_from("!I", body)[0], blocks(4))
    if packet_type == BYE:
        if len(body) < 4 * count:
            raise ValueError("RTCP BYE shorter than its SSRC list")
        return Bye(tuple(struct.unpack_from(f"!{count}I", body)))
    if packet_type == APP:
        if len(body) < 8:
            raise ValueError("RTCP APP shorter than its SSRC and name")
        return App(struct.unpack_from("!I", body)[0], body[4:8], body[8:], subtype=count)
    if not 192 <= packet_type <= 223:
        raise ValueError(f"RTCP packet type {packet_type} is outside 192..223")
    return None  # SDES and feedback types: valid, not used here


@dataclass
class ReceptionStats:
    """What a receiver knows of one source (RFC 3550 A.1, A.3, A.8), enough for its report block.

    ``arrived(seq, timestamp, arrival)``: ``arrival`` in seconds on the receiver's clock; ``clock_rate`` converts
    it to RTP units. ``sender_report(ntp, arrival)`` records the last SR (for LSR/DLSR).
    """

    ssrc: int
    clock_rate: int
    received: int = 0
    jitter: float = 0.0  # RTP units, A.8
    _unwrap: SequenceUnwrapper = field(default_factory=SequenceUnwrapper)
    _base: int | None = None
    _highest: int | None = None
    _transit: float | None = None
    _expected_prior: int = 0
    _received_prior: int = 0
    _lsr: int = 0
    _lsr_arrival: float = 0.0

    def arrived(self, seq: int, timestamp: int, arrival: float) -> None:
        ext = self._unwrap(seq)
        if ext is None:
            return
        self.received += 1
        if self._base is None or ext < self._base:  # the lowest seen: a reordered start is not counted lost
            self._base = ext
        self._highest = ext if self._highest is None else max(self._highest, ext)
        transit = arrival * self.clock_rate - timestamp
        if self._transit is not None:
            d = abs(transit - self._transit)
            self.jitter += (d - self.jitter) / 16.0
        self._transit = transit

    @property
    def expected(self) -> int:
        return 0 if self._base is None else self._highest - self._base + 1

    @property
    def lost(self) -> int:
        """Cumulative lost (A.3): expected − received, negative with duplicates."""
        return self.expected - self.received

    @property
    def jitter_seconds(self) -> float:
        return self.jitter / self.clock_rate

    def sender_report(self, ntp: int, arrival: float) -> None:
        self._lsr, self._lsr_arrival = ntp_middle(ntp), arrival

    def block(self, now: float) -> ReportBlock:
        """The report block at ``now`` (receiver's clock); starts the next fraction-lost interval."""
        expected, received = self.expected, self.received
        expected_interval = expected - self._expected_prior
        lost_interval = expected_interval - (received - self._received_prior)
        self._expected_prior, self._received_prior = expected, received
        fraction = 0 if expected_interval <= 0 or lost_interval <= 0 else (lost_interval << 8) // expected_interval
        dlsr = 0 if self._lsr == 0 else round((now - self._lsr_arrival) * 65536) & 0xFFFFFFFF
        return ReportBlock(self.ssrc, min(fraction, 255), self.lost, self._highest or 0, round(self.jitter),
                           self._lsr, dlsr)
