"""A jitter buffer that puts RTP packets back in sequence order.

It holds no clock (house rule 4): the receiver pushes packets as they arrive and decides when to
pop, e.g. at each playout deadline. Packets are keyed by their *extended* sequence number (the
16-bit number unwrapped to an ever-increasing int, RFC 3550 A.1), so wraparound needs no special
case anywhere else. Once a sequence number has been popped past, a packet arriving for it is too
late to play and is dropped.
"""

from __future__ import annotations

from semtalk.rtp.packet import RtpPacket, SequenceUnwrapper


class JitterBuffer:
    """Reorders packets by extended sequence number; drops duplicates and late arrivals.

    Counters: ``duplicates`` (same number already buffered), ``late`` (number already popped
    past), ``overflow`` (oldest packets dropped because more than ``capacity`` were held) and
    ``missing`` (numbers popped past without a packet: the loss the player sees).
    """

    def __init__(self, capacity: int = 1024) -> None:
        if capacity < 1:
            raise ValueError(f"jitter buffer capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.duplicates = 0
        self.late = 0
        self.overflow = 0
        self.missing = 0
        self._unwrap = SequenceUnwrapper()
        self._packets: dict[int, RtpPacket] = {}
        self._next: int | None = None  # first extended number not yet popped past

    def __len__(self) -> int:
        return len(self._packets)

    @property
    def next_seq(self) -> int | None:
        """Extended number the next pop starts at; None before the first pop."""
        return self._next

    @property
    def highest_seq(self) -> int | None:
        """Highest extended number pushed so far; None before the first push."""
        return self._unwrap.highest

    def extend(self, seq: int) -> int:
        """The extended number of a 16-bit ``seq``, as ``push`` would key it (does not store)."""
        return self._unwrap.peek(seq)

    def push(self, pkt: RtpPacket) -> None:
        """Buffer one packet unless it is a duplicate or too late to be played."""
        ext = self._unwrap(pkt.sequence_number)
        if self._next is not None and ext < self._next:
            self.late += 1
        elif ext in self._packets:
            self.duplicates += 1
        else:
            self._packets[ext] = pkt
            if len(self._packets) > self.capacity:
                oldest = min(self._packets)
                del self._packets[oldest]
                if self._next is not None:
                    self.missing += oldest - self._next
                self._next = oldest + 1
                self.overflow += 1

    def pop(self, until: int | None = None) -> list[RtpPacket]:
        """Packets with extended number below ``until``, in order; gaps before it are given up.

        ``until=None`` pops everything buffered (end of stream). Every number below ``until``
        counts as played afterwards, so a packet arriving for it later is dropped as late.
        """
        if until is None:
            if not self._packets:
                return []
            until = max(self._packets) + 1
        start = self._next if self._next is not None else min(self._packets, default=until)
        if until <= start:
            return []
        ready = sorted(s for s in self._packets if s < until)
        self.missing += (until - start) - len(ready)
        self._next = until
        return [self._packets.pop(s) for s in ready]

    def pop_contiguous(self) -> list[RtpPacket]:
        """Packets in order from the next expected number up to the first gap (nothing skipped)."""
        if not self._packets:
            return []
        seq = self._next if self._next is not None else min(self._packets)
        out = []
        while seq in self._packets:
            out.append(self._packets.pop(seq))
            seq += 1
        self._next = seq
        return out
