"""RTP payload for words (SyncSC §III-C text coding): interleaved, Huffman coded, with timing and prosody.

One word per packet. Words are numbered by *slot* (0, 1, 2, ... in speaking order) and grouped into
sending windows of ``window`` slots; inside a window a seeded permutation (``interleave``) decides the
order the word packets are sent in. The permutation is aware of the Reed–Solomon blocks the sender's FEC
cuts the packet stream into (``fec_k`` consecutive packets each): it puts neighbouring words, and where
the window allows words two apart, into *different* FEC blocks. A failed block then leaves isolated gaps
with received words on both sides, which the receiver's language model can fill (``fec.text_concealment``),
instead of a run of consecutive missing words. The price is latency: a window is sent once its last word
is spoken, so the first word waits up to ``window`` words (12 words ≈ 4 s of speech).

Payload layout::

    byte 0   version (2 bits) = 2 | prosody flag (1) | reserved (1) | words in this window − 1 (4)
    byte 1   KB tag: first byte of the knowledge-base hash
    bits     Huffman text ending in END (``rtp.huffman.ContextHuffmanCode``)
             duration in ``time_unit`` steps, Exp-Golomb of order ``duration_k``
             if prosody: F0 code (5 bits) + energy code (4 bits) (``semantics.speech.prosody``)

The word's start is the RTP timestamp (1 kHz clock, as RFC 4103 uses for text, on a ``time_unit`` grid),
so timing costs only the duration in the payload. Packets are numbered without gaps, so the extended
RTP sequence number gives the window and the position inside it (every window but the last holds
``window`` words), and byte 0 gives the window's size: a receiver knows the exact slot of every word it
gets and, from any later packet, that the slots of a wholly lost window existed. Only the last window
can be shorter; its packets carry the RTP marker bit. Each packet decodes on its own.

The receiver trusts a sequence number only within ``MAX_DROPOUT_WORDS`` of the highest it trusts
(``packet.SequenceUnwrapper``, RFC 3550 A.1), and takes the slot count from that highest packet alone:
a forged or duplicated packet costs at most its own slot, never the count or the place of the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from semtalk.records import Word
from semtalk.semantics.speech.prosody import ProsodyQuantizer
from semtalk.streams.bits import BitReader, BitWriter
from semtalk.streams.huffman import ContextHuffmanCode, WordCoder
from semtalk.streams.packet import RtpPacket, SequenceUnwrapper, StreamFilter

PAYLOAD_VERSION = 2
MAX_WINDOW = 16
TEXT_CLOCK_RATE = 1000  # RTP timestamp units per second for text (RFC 4103)
HEADER_BITS = 16
MAX_DROPOUT_WORDS = 64  # RFC 3550's MAX_DROPOUT for a word stream (~20 s of speech): the most one forged packet adds


@dataclass(frozen=True)
class TextStreamFormat:
    """What sender and receiver agree on at session start (the SDP of the text stream).

    ``fec_k`` must be the source packets per block of the FEC under the stream (``NetworkConfig.fec_k``);
    a window that is a multiple of it, at least twice over, keeps every pair of neighbouring words
    in different FEC blocks.
    """

    kb_tag: int = 0
    window: int = 12
    fec_k: int = 4
    prosody: bool = True
    time_unit: float = 0.02  # seconds per timing step
    duration_k: int = 4  # Exp-Golomb order of durations: chosen on the LRS2/GRID/jfk ASR words (median 13 steps)
    f0_ref: float = 140.0
    payload_type: int = 97
    ssrc: int = 0x5E7A7E01
    first_seq: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.window <= MAX_WINDOW:
            raise ValueError(f"need 1 <= window <= {MAX_WINDOW}")
        if self.fec_k < 1:
            raise ValueError("fec_k must be at least 1")
        if round(self.time_unit * TEXT_CLOCK_RATE) < 1:
            raise ValueError("time_unit must be at least one RTP tick (1 ms)")

    @property
    def ticks_per_unit(self) -> int:
        return round(self.time_unit * TEXT_CLOCK_RATE)

    @property
    def quantizer(self) -> ProsodyQuantizer:
        return ProsodyQuantizer(f0_ref=self.f0_ref)

    def send_order(self, window_index: int, n: int) -> tuple[int, ...]:
        """Global slots of window ``window_index`` (``n`` words) in the order their packets are sent."""
        base = window_index * self.window
        order = _order(n, self.fec_k, base % self.fec_k, self.seed, window_index)
        return tuple(base + s for s in order)


@lru_cache(maxsize=4096)
def _order(n: int, fec_k: int, offset: int, seed: int, window_index: int) -> tuple[int, ...]:
    return tuple(int(s) for s in interleave(n, np.random.default_rng([seed, window_index]), fec_k, offset))


def interleave(n: int, rng: np.random.Generator, fec_k: int | None = None, offset: int = 0) -> np.ndarray:
    """A random sending order of ``n`` slots, position ``q`` sends slot ``order[q]``, that keeps
    neighbouring slots out of the same FEC block.

    Position ``q`` falls in block ``(offset + q) // fec_k`` (``offset``: packets of the window's first
    block sent before it). Slots are dealt in speaking order to the block with the most room left that
    neither of the two previous slots went to (else not the previous one, else any), ties broken by
    ``rng``; each block then sends its slots in a random order. One block (``fec_k`` None or ≥ the
    window) gives a plain random permutation.
    """
    fec_k = fec_k or n + offset
    blocks = (np.arange(n) + offset) // max(fec_k, 1)
    room = {int(b): int(c) for b, c in zip(*np.unique(blocks, return_counts=True), strict=True)}
    members: dict[int, list[int]] = {b: [] for b in room}
    recent: list[int] = []
    for s in range(n):
        open_blocks = [b for b in rng.permutation(list(room)) if room[int(b)] > 0]
        for avoid in (recent[-2:], recent[-1:], []):
            choice = [int(b) for b in open_blocks if b not in avoid]
            if choice:
                break
        b = max(choice, key=lambda x: room[x])  # first of the shuffled maxima
        room[b] -= 1
        members[b].append(s)
        recent.append(b)
    return np.concatenate([rng.permutation(members[b]) for b in sorted(members)]).astype(np.int64)


def deinterleave(order: np.ndarray) -> np.ndarray:
    """The exact inverse of ``order``: ``x[order][deinterleave(order)] == x``."""
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return inverse


class TextPacketizer:
    """Words in speaking order → RTP packets, a window at a time; counts the bits of each field."""

    def __init__(self, fmt: TextStreamFormat = TextStreamFormat(), code: WordCoder | None = None):
        self.fmt = fmt
        self.code = code or ContextHuffmanCode.default()
        self._words: list[Word] = []
        self._window_index = 0
        self.text_bits = 0
        self.timing_bits = 0
        self.prosody_bits = 0
        self.header_bits = 0
        self.packets = 0

    def push(self, word: Word) -> list[bytes]:
        """Packets of the window this word completes (none until it is full)."""
        self._words.append(word)
        return self._emit(final=False) if len(self._words) == self.fmt.window else []

    def flush(self) -> list[bytes]:
        """Packets of the last, possibly partial, window (marked with the RTP marker bit)."""
        return self._emit(final=True) if self._words else []

    def _emit(self, final: bool) -> list[bytes]:
        fmt, n, j = self.fmt, len(self._words), self._window_index
        out = []
        for q, slot in enumerate(fmt.send_order(j, n)):
            word = self._words[slot - j * fmt.window]
            start = max(round(word.start / fmt.time_unit), 0)
            seq = (fmt.first_seq + j * fmt.window + q) & 0xFFFF
            pkt = RtpPacket(payload_type=fmt.payload_type, sequence_number=seq, marker=final,
                            timestamp=(start * fmt.ticks_per_unit) & 0xFFFFFFFF, ssrc=fmt.ssrc,
                            payload=self._payload(word, start, n))
            out.append(bytes(pkt))
        self.packets += len(out)
        self.header_bits += HEADER_BITS * len(out)
        self._words = []
        self._window_index += 1
        return out

    def _payload(self, word: Word, start: int, n: int) -> bytes:
        fmt, w = self.fmt, BitWriter()
        self.code.encode(word.text, w)
        self.text_bits += w.length
        mark = w.length
        w.write_ue(max(round(word.end / fmt.time_unit) - start, 0), fmt.duration_k)
        self.timing_bits += w.length - mark
        if fmt.prosody:
            f0_code, e_code = fmt.quantizer.quantize(word.f0, word.energy)
            w.write(f0_code, fmt.quantizer.f0_bits)
            w.write(e_code, fmt.quantizer.energy_bits)
            self.prosody_bits += fmt.quantizer.bits
        head = (PAYLOAD_VERSION << 6) | (int(fmt.prosody) << 5) | (n - 1)
        return bytes([head, fmt.kb_tag]) + w.to_bytes()


def decode_payload(payload: bytes, fmt: TextStreamFormat, window_index: int, position: int, start: int,
                   code: WordCoder) -> tuple[int, Word]:
    """(slot, word) of one payload; ``ValueError`` with a clear message for anything malformed."""
    if len(payload) < 2:
        raise ValueError("text payload shorter than its 2-byte header")
    if payload[0] >> 6 != PAYLOAD_VERSION:
        raise ValueError(f"text payload version {payload[0] >> 6} is not {PAYLOAD_VERSION}")
    if bool(payload[0] >> 5 & 1) != fmt.prosody:
        raise ValueError("text payload prosody flag differs from the stream format")
    if payload[1] != fmt.kb_tag:
        raise ValueError("text payload was coded for another knowledge base")
    n = (payload[0] & 0x0F) + 1
    if n > fmt.window:
        raise ValueError(f"text window of {n} words exceeds the format's {fmt.window}")
    if position >= n:
        raise ValueError(f"packet {position} is beyond a window of {n} words")
    r, q = BitReader(payload[2:]), fmt.quantizer
    text = code.decode(r)
    end = start + r.read_ue(fmt.duration_k)
    f0 = energy = None
    if fmt.prosody:
        f0_code = r.read(q.f0_bits)
        f0, energy = q.dequantize(f0_code, r.read(q.energy_bits))
    r.end()
    slot = fmt.send_order(window_index, n)[position]
    return slot, Word(text, start * fmt.time_unit, end * fmt.time_unit, f0, energy)


class TextDepacketizer(StreamFilter):
    """Bytes from the network → (slot, word) pairs. Never raises: anything malformed is counted and dropped.

    ``n_slots`` is the number of slots the receiver knows exist (lost ones included); ``ended`` is True
    once a packet of the last window has arrived, after which ``n_slots`` is the stream's exact length.
    Both come from the highest trusted packet, so a jump in sequence numbers (counted as garbage until a
    second packet confirms it) cannot inflate them. Each slot is delivered once; ``duplicates`` counts
    the packets dropped for a slot already delivered.
    """

    def __init__(self, fmt: TextStreamFormat = TextStreamFormat(), code: WordCoder | None = None):
        super().__init__(fmt.ssrc, fmt.payload_type, fmt.kb_tag)
        self.fmt = fmt
        self.code = code or ContextHuffmanCode.default()
        self._unwrap = SequenceUnwrapper(MAX_DROPOUT_WORDS, first=fmt.first_seq)
        self._delivered: set[int] = set()  # stream positions handed out (recent ones: older are refused)
        self.n_slots = 0
        self.ended = False
        self.duplicates = 0

    def __call__(self, data: bytes) -> list[tuple[int, Word]]:
        pkt = self.admit(data)
        if pkt is None:
            return []
        ext = self._unwrap.peek(pkt.sequence_number)
        count = ext - self.fmt.first_seq
        window_index, position = divmod(count, self.fmt.window)
        start, rest = divmod(pkt.timestamp, self.fmt.ticks_per_unit)
        try:
            if count < 0:
                raise ValueError("sequence number precedes the stream's first")
            if rest:
                raise ValueError("timestamp is not on a timing step")
            pair = decode_payload(pkt.payload, self.fmt, window_index, position, start, self.code)
        except ValueError:
            self.garbage += 1
            return []
        if self._unwrap(pkt.sequence_number) is None:
            self.garbage += 1  # no honest stream jumps that far
            return []
        if count in self._delivered:
            self.duplicates += 1
            return []
        self._delivered.add(count)
        if len(self._delivered) > 4 * MAX_DROPOUT_WORDS:  # forget slots a jump behind (refused anyway)
            self._delivered = {c for c in self._delivered if c > count - 2 * MAX_DROPOUT_WORDS}
        if ext == self._unwrap.highest:  # the newest packet tells the stream's length so far
            self.n_slots = window_index * self.fmt.window + (pkt.payload[0] & 0x0F) + 1
            self.ended = pkt.marker
        return [pair]


def assemble(pairs: Iterable[tuple[int, Word]], n_slots: int) -> list[Word | None]:
    """Received words placed in their slots; None marks a slot whose packet was lost."""
    slots: list[Word | None] = [None] * n_slots
    for slot, word in pairs:
        if 0 <= slot < n_slots:
            slots[slot] = word
    return slots
