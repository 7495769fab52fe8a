"""RTP payload for words (SyncSC §III-C text coding): interleaved, Huffman coded, with timing and prosody.

Words are numbered by *slot* (0, 1, 2, ... in speaking order) and grouped into sending windows of
``window`` slots. Inside window ``j`` a permutation known to both ends (seeded by ``(seed, j)``) decides
which slots share a packet: packet ``p`` carries the slots ``order[p·wpp:(p+1)·wpp]``, so one lost packet
leaves isolated gaps that the receiver's language model can fill from context on both sides
(``fec.text_concealment``) instead of a run of consecutive missing words.

Payload layout (the words of a packet are written in slot order)::

    byte 0   version (2 bits) = 1 | prosody flag (1) | reserved (1) | words in this window − 1 (4)
    byte 1   KB tag: first byte of the knowledge-base hash
    bits     per word: Huffman text ending in END (``rtp.huffman``)
             timing in ``time_unit`` steps: start − previous word's start (Exp-Golomb order ``start_k``;
             absent for the packet's first word, whose start is the RTP timestamp), then duration
             (Exp-Golomb order ``duration_k``)
             if prosody: F0 code (5 bits) + energy code (4 bits) (``semantics.speech.prosody``)

Where the slots are: packets are numbered without gaps, so the extended RTP sequence number gives the
window ``j`` and the packet ``p`` inside it (every window but the last has ``window`` slots and
``ceil(window / wpp)`` packets), and byte 0 gives the window's size. A receiver thus knows the exact
slot of every word it gets and, from any later packet, that the slots of a wholly lost window existed.
The last window is the only one that can be shorter; its packets carry the RTP marker bit. Each packet
decodes on its own. The RTP timestamp (1 kHz clock, as RFC 4103 uses for text) is the start of the
packet's first word.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from semtalk.records import Word
from semtalk.rtp.bits import BitReader, BitWriter
from semtalk.rtp.huffman import HuffmanCode
from semtalk.rtp.packet import RtpPacket, SequenceUnwrapper
from semtalk.semantics.speech.prosody import ProsodyQuantizer

PAYLOAD_VERSION = 1
MAX_WINDOW = 16
TEXT_CLOCK_RATE = 1000  # RTP timestamp units per second for text (RFC 4103)
HEADER_BITS = 16


@dataclass(frozen=True)
class TextStreamFormat:
    """What sender and receiver agree on at session start (the SDP of the text stream)."""

    kb_tag: int = 0
    window: int = 6
    words_per_packet: int = 2
    prosody: bool = True
    time_unit: float = 0.02  # seconds per timing step
    start_k: int = 4  # Exp-Golomb order of start deltas (a few words apart: ~0.3–1 s)
    duration_k: int = 3  # Exp-Golomb order of durations (~0.1–0.5 s)
    f0_ref: float = 140.0
    payload_type: int = 97
    ssrc: int = 0x5E7A7E01
    first_seq: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.words_per_packet <= self.window <= MAX_WINDOW:
            raise ValueError(f"need 1 <= words_per_packet <= window <= {MAX_WINDOW}")
        if round(self.time_unit * TEXT_CLOCK_RATE) < 1:
            raise ValueError("time_unit must be at least one RTP tick (1 ms)")

    @property
    def packets_per_window(self) -> int:
        return math.ceil(self.window / self.words_per_packet)

    @property
    def ticks_per_unit(self) -> int:
        return round(self.time_unit * TEXT_CLOCK_RATE)

    @property
    def quantizer(self) -> ProsodyQuantizer:
        return ProsodyQuantizer(f0_ref=self.f0_ref)

    def packet_slots(self, window_index: int, n: int, packet: int) -> list[int]:
        """Global slots carried by packet ``packet`` of window ``window_index`` holding ``n`` words, ascending."""
        order = interleave(n, np.random.default_rng([self.seed, window_index]))
        chunk = order[packet * self.words_per_packet:(packet + 1) * self.words_per_packet]
        return sorted(window_index * self.window + int(s) for s in chunk)


def interleave(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random sending order of ``n`` slots: position ``k`` sends slot ``order[k]``."""
    return rng.permutation(n)


def deinterleave(order: np.ndarray) -> np.ndarray:
    """The exact inverse of ``order``: ``x[order][deinterleave(order)] == x``."""
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return inverse


def _write_ue(w: BitWriter, value: int, k: int) -> None:
    """Exp-Golomb of order ``k`` for a non-negative int (order 0 is H.264's ue(v))."""
    q = (value >> k) + 1
    n = q.bit_length()
    w.write(0, n - 1)
    w.write(q, n)
    w.write(value & ((1 << k) - 1), k)


def _read_ue(r: BitReader, k: int) -> int:
    zeros = 0
    while r.read(1) == 0:
        zeros += 1
        if zeros > 24:
            raise ValueError("invalid Exp-Golomb code")
    q = (1 << zeros) | r.read(zeros)
    return ((q - 1) << k) | r.read(k)


class TextPacketizer:
    """Words in speaking order → RTP packets, a window at a time; counts the bits of each field."""

    def __init__(self, fmt: TextStreamFormat = TextStreamFormat(), code: HuffmanCode | None = None):
        self.fmt = fmt
        self.code = code or HuffmanCode.default()
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
        for p in range(math.ceil(n / fmt.words_per_packet)):
            words = [self._words[s - j * fmt.window] for s in fmt.packet_slots(j, n, p)]
            payload, first_unit = self._payload(words, n)
            seq = fmt.first_seq + j * fmt.packets_per_window + p
            pkt = RtpPacket(payload_type=fmt.payload_type, sequence_number=seq & 0xFFFF, marker=final,
                            timestamp=(first_unit * fmt.ticks_per_unit) & 0xFFFFFFFF, ssrc=fmt.ssrc,
                            payload=payload)
            out.append(bytes(pkt))
        self.packets += len(out)
        self.header_bits += HEADER_BITS * len(out)
        self._words = []
        self._window_index += 1
        return out

    def _payload(self, words: list[Word], n: int) -> tuple[bytes, int]:
        fmt, w = self.fmt, BitWriter()
        prev = first = max(round(words[0].start / fmt.time_unit), 0)
        for i, word in enumerate(words):
            mark = w.length
            self.code.encode(word.text, w)
            self.text_bits += w.length - mark
            mark = w.length
            start = max(round(word.start / fmt.time_unit), prev)
            if i:
                _write_ue(w, start - prev, fmt.start_k)
            _write_ue(w, max(round(word.end / fmt.time_unit) - start, 0), fmt.duration_k)
            prev = start
            self.timing_bits += w.length - mark
            if fmt.prosody:
                f0_code, e_code = fmt.quantizer.quantize(word.f0, word.energy)
                w.write(f0_code, fmt.quantizer.f0_bits)
                w.write(e_code, fmt.quantizer.energy_bits)
                self.prosody_bits += fmt.quantizer.bits
        head = (PAYLOAD_VERSION << 6) | (int(fmt.prosody) << 5) | (n - 1)
        return bytes([head, fmt.kb_tag]) + w.to_bytes(), first


def decode_payload(payload: bytes, fmt: TextStreamFormat, window_index: int, packet: int, first_unit: int,
                   code: HuffmanCode) -> list[tuple[int, Word]]:
    """(slot, word) pairs of one payload; ``ValueError`` with a clear message for anything malformed."""
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
    if packet * fmt.words_per_packet >= n:
        raise ValueError(f"packet {packet} is beyond a window of {n} words")
    r, q = BitReader(payload[2:]), fmt.quantizer
    out, prev = [], first_unit
    for i, slot in enumerate(fmt.packet_slots(window_index, n, packet)):
        text = code.decode(r)
        start = prev + (_read_ue(r, fmt.start_k) if i else 0)
        end = start + _read_ue(r, fmt.duration_k)
        f0 = energy = None
        if fmt.prosody:
            f0_code = r.read(q.f0_bits)
            f0, energy = q.dequantize(f0_code, r.read(q.energy_bits))
        out.append((slot, Word(text, start * fmt.time_unit, end * fmt.time_unit, f0, energy)))
        prev = start
    return out


class TextDepacketizer:
    """Bytes from the network → (slot, word) pairs. Never raises: anything malformed is counted and dropped.

    ``n_slots`` is the number of slots the receiver knows exist (lost ones included); ``ended`` is True
    once a packet of the last window has arrived, after which ``n_slots`` is the stream's exact length.
    """

    def __init__(self, fmt: TextStreamFormat = TextStreamFormat(), code: HuffmanCode | None = None):
        self.fmt = fmt
        self.code = code or HuffmanCode.default()
        self._unwrap = SequenceUnwrapper()
        self.n_slots = 0
        self.ended = False
        self.garbage = 0
        self.wrong_kb = 0
        self.foreign = 0

    def __call__(self, data: bytes) -> list[tuple[int, Word]]:
        try:
            pkt = RtpPacket.parse(data)
        except ValueError:
            self.garbage += 1
            return []
        if pkt.ssrc != self.fmt.ssrc or pkt.payload_type != self.fmt.payload_type:
            self.foreign += 1
            return []
        if len(pkt.payload) >= 2 and pkt.payload[1] != self.fmt.kb_tag:
            self.wrong_kb += 1
            return []
        count = self._unwrap.peek(pkt.sequence_number) - self.fmt.first_seq
        window_index, packet = divmod(count, self.fmt.packets_per_window)
        first_unit, rest = divmod(pkt.timestamp, self.fmt.ticks_per_unit)
        try:
            if count < 0:
                raise ValueError("sequence number precedes the stream's first")
            if rest:
                raise ValueError("timestamp is not on a timing step")
            words = decode_payload(pkt.payload, self.fmt, window_index, packet, first_unit, self.code)
        except ValueError:
            self.garbage += 1
            return []
        self._unwrap(pkt.sequence_number)
        n = (pkt.payload[0] & 0x0F) + 1
        self.n_slots = max(self.n_slots, window_index * self.fmt.window + n)
        self.ended = self.ended or pkt.marker
        return words


def assemble(pairs: Iterable[tuple[int, Word]], n_slots: int) -> list[Word | None]:
    """Received words placed in their slots; None marks a slot whose packet was lost."""
    slots: list[Word | None] = [None] * n_slots
    for slot, word in pairs:
        if 0 <= slot < n_slots:
            slots[slot] = word
    return slots
