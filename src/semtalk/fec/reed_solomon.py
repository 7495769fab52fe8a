"""Systematic Reed–Solomon erasure FEC over blocks of RTP packets (RFC 5510 style, via ``zfec``).

The sender groups ``k`` source packets with consecutive sequence numbers into a block and, after
the block's last packet, sends ``n - k`` repair packets. Any ``k`` of the block's ``n`` packets
restore all of it (RS codes are MDS, RFC 5510 §8). Source packets go out unchanged, so a
receiver without FEC still plays them.

Source symbol ``i`` of a block is source packet ``i`` prefixed by its 2-byte length and zero-padded
to the longest packet of the block, so a restored packet is byte-exact. A repair packet is an RTP
packet of its own stream (``repair_ssrc``, ``repair_payload_type``) whose payload is::

    first source seq (16 bits) | k (8) | n (8) | encoding symbol id (8) | repair symbol

Its ``k`` and ``n`` are the block's own: a block closed early (end of stream, or a jump in the
source sequence numbers) has ``k' < k`` packets and ``n' = k' + ceil(k' (n - k) / k)``, which keeps
at least the full block's protection. One FEC instance protects one source stream (one SSRC),
because block membership is told by sequence number alone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from functools import lru_cache

import zfec

from semtalk.fec.base import PacketCode
from semtalk.streams.packet import RtpPacket, SequenceUnwrapper

DEFAULT_REPAIR_SSRC = 0xFEC0FEC0
REPAIR_HEADER = struct.Struct("!HBBB")  # first source seq, k, n, encoding symbol id
MAX_N = 255  # n and the symbol id must fit the 8-bit header fields


@dataclass(frozen=True)
class ReedSolomonFec(PacketCode):
    """Config of the RS scheme; ``encoder()`` and ``decoder()`` make the stateful halves.

    ``n = round(k / code_rate)``; ``code_rate`` is then stored as ``k / n``, the rate actually sent.
    """

    k: int = 4
    code_rate: float = 0.5
    repair_ssrc: int = DEFAULT_REPAIR_SSRC
    repair_payload_type: int = 127
    n: int = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"FEC block size k must be an int of at least 1, got {self.k!r}")
        if not 0.0 < self.code_rate <= 1.0:
            raise ValueError(f"FEC code_rate must be in (0, 1], got {self.code_rate}")
        if not self.k / self.code_rate < MAX_N + 0.5:
            raise ValueError(
                f"FEC k={self.k} at code_rate={self.code_rate} needs n={self.k / self.code_rate:.0f} "
                f"packets per block; the 8-bit repair header allows at most {MAX_N}"
            )
        if not 0 <= self.repair_ssrc < 1 << 32:
            raise ValueError(f"FEC repair_ssrc must be a 32-bit unsigned int, got {self.repair_ssrc}")
        if not 0 <= self.repair_payload_type < 128:
            raise ValueError(f"FEC repair_payload_type must be in [0, 127], got {self.repair_payload_type}")
        n = round(self.k / self.code_rate)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "code_rate", self.k / n)

    def block_n(self, k: int) -> int:
        """Packets sent for a block of ``k`` source packets (fewer than ``self.k`` when closed early)."""
        return k + -(-k * (self.n - self.k) // self.k)

    def encoder(self) -> RsEncoder:
        return RsEncoder(self)

    def decoder(self, ssrc: int | None = None, window: int = 2048) -> RsDecoder:
        return RsDecoder(self, window, ssrc)


class RsEncoder:
    """Sender half: passes source packets on and appends repair packets after each block."""

    def __init__(self, fec: ReedSolomonFec) -> None:
        self._fec = fec
        self._block: list[bytes] = []
        self._first = 0  # sequence number of the block's first packet
        self._timestamp = 0  # of the block's latest packet; repair packets carry it
        self._ssrc: int | None = None
        self._repair_seq = 0

    @property
    def code_rate(self) -> float:
        return self._fec.code_rate

    def set_code_rate(self, code_rate: float) -> float:
        """Protect the blocks from the next one on at ``code_rate`` (the live sender's closed-loop FEC: the rate
        follows the loss RTCP reports); the rate in force, k/n, which may differ from the one asked for."""
        new = replace(self._fec, code_rate=code_rate)
        if new.n != self._fec.n:
            self._fec = new
        return self._fec.code_rate

    def push(self, packet: bytes) -> list[bytes]:
        """Return ``packet`` plus, if it completes a block, the block's repair packets.

        A packet whose sequence number does not follow the block's last one closes the block
        first (its repair packets come before ``packet``). Raises ``ValueError`` for a packet
        that is not RTP, is longer than 65535 bytes, or belongs to a second stream.
        """
        pkt = RtpPacket.parse(packet)
        data = bytes(packet)
        if len(data) > 0xFFFF:
            raise ValueError(f"FEC source packet has {len(data)} bytes; the length prefix allows 65535")
        if self._ssrc is None:
            if pkt.ssrc == self._fec.repair_ssrc:
                raise ValueError(f"source SSRC {pkt.ssrc:#010x} equals the FEC repair_ssrc; choose another")
            self._ssrc = pkt.ssrc
        elif pkt.ssrc != self._ssrc:
            raise ValueError(
                f"FEC encoder protects one stream (SSRC {self._ssrc:#010x}), got SSRC {pkt.ssrc:#010x}; "
                "use one encoder per stream"
            )
        out = []
        if self._block and pkt.sequence_number != (self._first + len(self._block)) & 0xFFFF:
            out += self.flush()
        if not self._block:
            self._first = pkt.sequence_number
        self._block.append(data)
        self._timestamp = pkt.timestamp
        out.append(data)
        if len(self._block) == self._fec.k:
            out += self.flush()
        return out

    def flush(self) -> list[bytes]:
        """Close the current block, however few packets it has; return its repair packets."""
        block, self._block = self._block, []
        if not block:
            return []
        fec = self._fec
        k = len(block)
        n = fec.block_n(k)
        if n == k:
            return []
        size = 2 + max(len(p) for p in block)
        symbols = tuple(_source_symbol(p, size) for p in block)
        repairs = _zfec_encoder(k, n).encode(symbols, tuple(range(k, n)))
        out = []
        for esi, symbol in zip(range(k, n), repairs, strict=True):
            payload = REPAIR_HEADER.pack(self._first, k, n, esi) + bytes(symbol)
            repair = RtpPacket(
                payload_type=fec.repair_payload_type,
                sequence_number=self._repair_seq,
                timestamp=self._timestamp,
                ssrc=fec.repair_ssrc,
                payload=payload,
            )
            out.append(bytes(repair))
            self._repair_seq = (self._repair_seq + 1) & 0xFFFF
        return out


@dataclass
class _Block:
    k: int
    n: int
    size: int  # symbol length in bytes
    repairs: dict[int, bytes] = field(default_factory=dict)  # encoding symbol id -> repair symbol
    done: bool = False


class RsDecoder:
    """Receiver half: passes source packets on once and restores lost ones from repair packets.

    Tolerates loss, reordering, duplicates and sequence wraparound; garbage is counted and ignored,
    never raised. The protected stream is ``ssrc``, the one agreed at session start (without it, the SSRC of
    the first source packet, which one forged packet ahead of the stream would take over); packets of other
    streams pass through unprotected. Memory is bounded: packets and blocks more than ``window``
    sequence numbers behind the newest are forgotten, and packets that old are dropped as stale.
    A source packet half the window or more from the newest is a jump (RFC 3550 A.1) and dropped
    unless the next one confirms it: a forged packet that far ahead would otherwise push every real
    packet out of the window, and one less far ahead still leaves them half of it.

    Counters: ``recovered``, ``garbage`` (jumps included), ``duplicates`` (packets or repair symbols
    seen before), ``stale`` (older than the window).
    """

    def __init__(self, fec: ReedSolomonFec, window: int = 2048, ssrc: int | None = None) -> None:
        if not fec.n <= window < 1 << 15:
            raise ValueError(f"FEC decoder window must be in [{fec.n}, 32767], got {window}")
        self._fec = fec
        self.window = window
        self.recovered = 0
        self.garbage = 0
        self.duplicates = 0
        self.stale = 0
        self._ssrc = ssrc
        self._unwrap = SequenceUnwrapper(max(window // 2, 2))
        self._sources: dict[int, bytes] = {}  # extended seq -> packet, delivered already
        self._blocks: dict[int, _Block] = {}  # extended seq of the first source packet -> block
        self._block_of: dict[int, int] = {}  # extended seq -> first seq of its block
        self._pruned_at: int | None = None

    def __len__(self) -> int:
        """Source packets held (for deduplication and decoding); bounded by the window."""
        return len(self._sources)

    def push(self, packet: bytes) -> list[bytes]:
        """Return source packets newly available: ``packet`` itself and/or restored ones."""
        try:
            pkt = RtpPacket.parse(packet)
        except ValueError:
            self.garbage += 1
            return []
        data = bytes(packet)
        if pkt.ssrc == self._fec.repair_ssrc and pkt.payload_type == self._fec.repair_payload_type:
            return self._push_repair(pkt.payload)
        if self._ssrc is None:
            self._ssrc = pkt.ssrc
        if pkt.ssrc != self._ssrc:
            return [data]
        seq = self._unwrap.peek(pkt.sequence_number)
        floor = self._floor()
        if self._unwrap(pkt.sequence_number) is None:
            # Dropped, but the unwrapper saw it: a stream that a forged jump left behind the window confirms
            # itself with its next packet instead of staying stale.
            if seq < floor:
                self.stale += 1
            else:
                self.garbage += 1
            return []
        self._prune()
        if seq in self._sources:
            self.duplicates += 1
            return []
        self._sources[seq] = data
        first = self._block_of.get(seq)
        return [data] + (self._decode(first) if first is not None else [])

    def _push_repair(self, payload: bytes) -> list[bytes]:
        if len(payload) < REPAIR_HEADER.size + 2:
            self.garbage += 1
            return []
        first16, k, n, esi = REPAIR_HEADER.unpack_from(payload)
        symbol = payload[REPAIR_HEADER.size :]
        # k is bounded by the session's (a larger k would claim, and block, up to 255 sequence numbers); n may be
        # any rate's, because the live sender adapts its code rate to the loss RTCP reports (``call.live``).
        if not 1 <= k <= self._fec.k or not k < n <= MAX_N or not k <= esi < n:
            self.garbage += 1
            return []
        # Only packets of the protected stream move the sequence reference, so a stray repair
        # header cannot shift where later packets are placed.
        highest = self._unwrap.highest
        if highest is None:
            self._unwrap((first16 + k - 1) & 0xFFFF)  # nothing came before: the block sets the reference
        first = self._unwrap.peek((first16 + k - 1) & 0xFFFF) - (k - 1)
        if highest is not None and first + k - 1 > highest + self.window:
            self.garbage += 1  # a block that far ahead of the stream is not ours
            return []
        self._prune()
        if first < self._floor():
            self.stale += 1
            return []
        block = self._blocks.get(first)
        if block is None:
            if any(s in self._block_of for s in range(first, first + k)):
                self.garbage += 1  # overlaps another block: not from our encoder
                return []
            block = self._blocks[first] = _Block(k, n, len(symbol))
            self._block_of.update(dict.fromkeys(range(first, first + k), first))
        elif (block.k, block.n, block.size) != (k, n, len(symbol)):
            self.garbage += 1
            return []
        if block.done:
            return []
        if esi in block.repairs:
            self.duplicates += 1
            return []
        block.repairs[esi] = symbol
        return self._decode(first)

    def _decode(self, first: int) -> list[bytes]:
        """Restore the block's missing packets once any k of its n symbols are here."""
        block = self._blocks[first]
        if block.done:
            return []
        have = [s for s in range(first, first + block.k) if s in self._sources]
        if len(have) + len(block.repairs) < block.k:
            return []
        block.done = True
        repairs, block.repairs = block.repairs, {}
        if len(have) == block.k:
            return []
        symbols, ids = [], []
        for s in have:
            if len(self._sources[s]) + 2 > block.size:
                self.garbage += 1  # the repair symbols cannot belong to this packet
                return []
            symbols.append(_source_symbol(self._sources[s], block.size))
            ids.append(s - first)
        for esi in sorted(repairs)[: block.k - len(have)]:
            symbols.append(repairs[esi])
            ids.append(esi)
        decoded = _zfec_decoder(block.k, block.n).decode(tuple(symbols), tuple(ids))
        out = []
        for i, symbol in enumerate(decoded):
            seq = first + i
            if seq in self._sources:
                continue
            restored = self._restore(bytes(symbol), seq)
            if restored is None:
                self.garbage += 1
                continue
            self._sources[seq] = restored
            self.recovered += 1
            out.append(restored)
        return out

    def _restore(self, symbol: bytes, seq: int) -> bytes | None:
        """The packet inside a decoded symbol, or None if it is not the one expected there."""
        length = int.from_bytes(symbol[:2], "big")
        if length + 2 > len(symbol):
            return None
        packet = symbol[2 : 2 + length]
        try:
            pkt = RtpPacket.parse(packet)
        except ValueError:
            return None
        if pkt.sequence_number != seq & 0xFFFF or pkt.ssrc != (self._ssrc or pkt.ssrc):
            return None
        self._ssrc = pkt.ssrc
        self._unwrap(pkt.sequence_number)
        return packet

    def _floor(self) -> int:
        highest = self._unwrap.highest
        return -(1 << 62) if highest is None else highest - self.window

    def _prune(self) -> None:
        """Forget what fell below the window; done in steps of window/4 to stay O(1) amortised."""
        floor = self._floor()
        if self._pruned_at is not None and floor - self._pruned_at < self.window // 4:
            return
        self._pruned_at = floor
        for seq in [s for s in self._sources if s < floor]:
            del self._sources[seq]
        for first in [f for f in self._blocks if f < floor]:
            block = self._blocks.pop(first)
            for seq in range(first, first + block.k):
                self._block_of.pop(seq, None)


def _source_symbol(packet: bytes, size: int) -> bytes:
    return len(packet).to_bytes(2, "big") + packet + bytes(size - 2 - len(packet))


@lru_cache(maxsize=64)
def _zfec_encoder(k: int, n: int) -> zfec.Encoder:
    return zfec.Encoder(k, n)


@lru_cache(maxsize=64)
def _zfec_decoder(k: int, n: int) -> zfec.Decoder:
    return zfec.Decoder(k, n)
