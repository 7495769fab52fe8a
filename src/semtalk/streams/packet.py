"""RTP fixed header (RFC 3550 §5.1) as a record that turns bytes into an object and back.

Layout of the 12-byte fixed header, then the optional parts in wire order::

     0                   1                   2                   3
    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    |                           timestamp                           |
    |                             SSRC                              |
    |                  CSRC list (CC × 32 bits)                     |
    | header extension: profile(16) length(16, in words) data ...   |  if X
    | payload ...                     padding ... | padding count   |  if P

Pure: no sockets and no clock. ``parse`` raises ``ValueError`` with an exact message for any bad
input and never another exception type, so a receiver can feed it whatever the channel delivers.
"""

from __future__ import annotations

from dataclasses import dataclass

RTP_VERSION = 2
HEADER_SIZE = 12
SEQ_MOD = 1 << 16
VIDEO_CLOCK_RATE = 90_000  # RTP timestamp units per second for video (RFC 3551 §5)
MAX_DROPOUT = 3000  # RFC 3550 A.1: a sequence number further than this from the highest is a jump

_U32 = 1 << 32


def seq_distance(a: int, b: int) -> int:
    """Signed distance from sequence number ``a`` to ``b`` modulo 2**16, in [-32768, 32767].

    Positive when ``b`` comes after ``a``: ``seq_distance(65535, 0) == 1``. This is the serial-number
    comparison RFC 3550 appendix A.1 relies on to survive the 16-bit wraparound.
    """
    return ((b - a + 0x8000) & 0xFFFF) - 0x8000


class SequenceUnwrapper:
    """Extends 16-bit sequence numbers to ints that keep increasing across wraparounds, and tells which
    numbers an honest stream can send next (RFC 3550 A.1, ``update_seq``).

    Each number is placed nearest to ``highest``, the highest *trusted* one. A number less than
    ``max_dropout`` ahead of it is in order (the gap was lost) and becomes the highest; one less than
    ``max_dropout`` behind is late or a duplicate. Anything further is a jump: ``__call__`` returns None
    and the reference stays, so one forged packet can neither make the real ones look stale nor shift
    where they land. A jump is trusted only once a later jump follows it in order (RFC 3550's ``bad_seq``:
    the source restarted); that packet then moves the reference, back down too.

    RFC 3550 takes only ``MAX_MISORDER`` = 100 packets behind as late; here the window is as wide behind as
    ahead, so the real packets behind a forged one that moved the reference keep their places.
    ``first``: where the session says the stream starts (SDP); the reference starts just before it, so
    packets are placed right however many of the first are lost.
    """

    def __init__(self, max_dropout: int = MAX_DROPOUT, first: int | None = None) -> None:
        if not 0 < max_dropout < 1 << 15:
            raise ValueError(f"max_dropout must be in [1, 32767], got {max_dropout}")
        self.max_dropout = max_dropout
        self.highest: int | None = None if first is None else first - 1
        self._candidate: int | None = None  # the last jump: confirmed by a number in order after it

    def __call__(self, seq: int) -> int | None:
        """The extended number of ``seq``, or None for an unconfirmed jump; moves the reference."""
        ext = self.peek(seq)
        if self.highest is None or abs(ext - self.highest) < self.max_dropout:
            self.highest = ext if self.highest is None else max(self.highest, ext)
            return ext
        if self._candidate is not None and 0 < seq_distance(self._candidate, seq) < self.max_dropout:
            self.highest, self._candidate = ext, None
            return ext
        self._candidate = seq & 0xFFFF
        return None

    def peek(self, seq: int) -> int:
        """The extended number ``seq`` would get, without moving the reference."""
        if self.highest is None:
            return seq & 0xFFFF
        return self.highest + seq_distance(self.highest & 0xFFFF, seq & 0xFFFF)


@dataclass(frozen=True, kw_only=True)
class RtpPacket:
    """One RTP packet. ``bytes(pkt)`` serialises it; ``RtpPacket.parse`` reads it back.

    ``padding`` is the number of padding bytes including the final count byte (0 = none); the
    filler is written as zeros. ``extension`` is the raw header extension (profile, length, data)
    kept opaque: semtalk ignores it but tolerates it, and keeps it so packets round-trip exactly.
    """

    payload_type: int = 0
    sequence_number: int = 0
    timestamp: int = 0
    ssrc: int = 0
    marker: bool = False
    csrc: tuple[int, ...] = ()
    payload: bytes = b""
    padding: int = 0
    extension: bytes | None = None

    def __post_init__(self) -> None:
        # Normalise list/bytearray arguments so the record stays hashable and immutable.
        object.__setattr__(self, "csrc", tuple(self.csrc))
        object.__setattr__(self, "payload", bytes(self.payload))
        _check_range("payload_type", self.payload_type, 128)
        _check_range("sequence_number", self.sequence_number, SEQ_MOD)
        _check_range("timestamp", self.timestamp, _U32)
        _check_range("ssrc", self.ssrc, _U32)
        _check_range("padding", self.padding, 256)
        if len(self.csrc) > 15:
            raise ValueError(f"RTP packet can carry at most 15 CSRCs, got {len(self.csrc)}")
        for c in self.csrc:
            _check_range("csrc", c, _U32)
        if self.extension is not None:
            ext = bytes(self.extension)
            object.__setattr__(self, "extension", ext)
            if len(ext) < 4 or len(ext) != 4 + 4 * int.from_bytes(ext[2:4], "big"):
                raise ValueError("RTP header extension must be profile, length in words, then those words")

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Read one packet; raises ``ValueError`` (only) when ``data`` is not a valid RTP packet."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError(f"RTP packet must be bytes, got {type(data).__name__}")
        data = bytes(data)
        size = len(data)
        if size < HEADER_SIZE:
            raise ValueError(f"RTP packet has {size} bytes, fewer than the {HEADER_SIZE}-byte header")
        version = data[0] >> 6
        if version != RTP_VERSION:
            raise ValueError(f"RTP version is {version}, expected {RTP_VERSION}")
        has_padding = bool(data[0] & 0x20)
        has_extension = bool(data[0] & 0x10)
        cc = data[0] & 0x0F
        pos = HEADER_SIZE + 4 * cc
        if size < pos:
            raise ValueError(f"RTP packet truncated: {cc} CSRCs need {pos} bytes, got {size}")
        csrc = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(HEADER_SIZE, pos, 4))
        extension = None
        if has_extension:
            if size < pos + 4:
                raise ValueError(f"RTP packet truncated: header extension needs {pos + 4} bytes, got {size}")
            end = pos + 4 + 4 * int.from_bytes(data[pos + 2 : pos + 4], "big")
            if size < end:
                raise ValueError(f"RTP packet truncated: header extension needs {end} bytes, got {size}")
            extension = data[pos:end]
            pos = end
        padding = 0
        if has_padding:
            padding = data[-1]
            if padding == 0 or padding > size - pos:
                raise ValueError(
                    f"RTP padding count {padding} is invalid for {size - pos} bytes after the header"
                )
        return cls(
            payload_type=data[1] & 0x7F,
            sequence_number=int.from_bytes(data[2:4], "big"),
            timestamp=int.from_bytes(data[4:8], "big"),
            ssrc=int.from_bytes(data[8:12], "big"),
            marker=bool(data[1] & 0x80),
            csrc=csrc,
            payload=data[pos : size - padding],
            padding=padding,
            extension=extension,
        )

    def __bytes__(self) -> bytes:
        first = (RTP_VERSION << 6) | (0x20 if self.padding else 0) | (0x10 if self.extension else 0)
        parts = [
            bytes([first | len(self.csrc), (0x80 if self.marker else 0) | self.payload_type]),
            self.sequence_number.to_bytes(2, "big"),
            self.timestamp.to_bytes(4, "big"),
            self.ssrc.to_bytes(4, "big"),
            *(c.to_bytes(4, "big") for c in self.csrc),
            self.extension or b"",
            self.payload,
        ]
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


def _check_range(name: str, value: int, limit: int) -> None:
    if not isinstance(value, int) or not 0 <= value < limit:
        raise ValueError(f"RTP {name} must be an int in [0, {limit - 1}], got {value!r}")


class StreamFilter:
    """The first step of every depacketiser: parse, and count and drop what is not this stream's.

    Unparsable bytes count as ``garbage``, another SSRC or payload type as ``foreign``, and a packet whose
    KB tag (payload byte 1, in every semtalk payload) names another knowledge base as ``wrong_kb``.
    """

    def __init__(self, ssrc: int, payload_type: int, kb_tag: int):
        self._ssrc, self._payload_type, self._kb_tag = ssrc, payload_type, kb_tag
        self.garbage = 0
        self.foreign = 0
        self.wrong_kb = 0

    @property
    def ssrc(self) -> int:
        return self._ssrc

    def admit(self, data: bytes) -> RtpPacket | None:
        """The packet if it belongs to this stream and KB, else None (and the reason counted)."""
        try:
            pkt = RtpPacket.parse(data)
        except ValueError:
            self.garbage += 1
            return None
        if pkt.ssrc != self._ssrc or pkt.payload_type != self._payload_type:
            self.foreign += 1
            return None
        if len(pkt.payload) >= 2 and pkt.payload[1] != self._kb_tag:
            self.wrong_kb += 1
            return None
        return pkt


class FilteredDepacketizer:
    """Base of a depacketiser behind a ``StreamFilter``: ``invalid`` counts packets of this stream whose payload
    does not hold together, and ``garbage`` adds them to what the filter could not parse."""

    def __init__(self, ssrc: int, payload_type: int, kb_tag: int) -> None:
        self.filter = StreamFilter(ssrc, payload_type, kb_tag)
        self.invalid = 0

    @property
    def ssrc(self) -> int:
        return self.filter.ssrc

    @property
    def garbage(self) -> int:
        return self.filter.garbage + self.invalid

    @property
    def wrong_kb(self) -> int:
        return self.filter.wrong_kb
