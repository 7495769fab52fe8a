"""Canonical static Huffman codes for words (SyncSC §III-C text coding).

The alphabet is the characters of a shipped English frequency table (``data/english_chars.json``) plus
two control symbols: END, which closes a word so words need no length field, and ESCAPE, which is
followed by the character's raw 21-bit Unicode code point. Any ``str`` therefore round-trips (emoji,
CJK, control characters, even lone surrogates) while common English letters cost about 4 bits.

The code is canonical (codes assigned in order of length, then symbol), so both ends rebuild the same
code from the table alone and only the table's content has to agree, not a tree layout.

``ContextHuffmanCode`` (the default for text packets) is the order-1 version: one static code per
previous character (``data/english_bigrams.json``, same source), so "q" makes "u" nearly free and a
word's start favours "t", "a", "w". On English speech it costs ~3.4 bits a character against ~4.2 for
the single table, which stays as the fallback for contexts the bigram table lacks (digits, symbols).
"""

from __future__ import annotations

import heapq
import json
from functools import lru_cache
from importlib import resources
from typing import Protocol

from semtalk.streams.bits import BitReader, BitWriter

END = "<END>"
ESCAPE = "<ESC>"
CODE_POINT_BITS = 21  # 0x10FFFF, the largest Unicode code point, fits in 21 bits
MAX_CODE_POINT = 0x10FFFF


def _code_lengths(freq: dict[str, int]) -> dict[str, int]:
    """Huffman code length of every symbol (ties broken by symbol so the result is deterministic)."""
    heap: list[tuple[int, str, list[str]]] = [(f, s, [s]) for s, f in freq.items()]
    heapq.heapify(heap)
    lengths = dict.fromkeys(freq, 0)
    while len(heap) > 1:
        fa, ka, a = heapq.heappop(heap)
        fb, kb, b = heapq.heappop(heap)
        for s in a + b:
            lengths[s] += 1
        heapq.heappush(heap, (fa + fb, min(ka, kb), a + b))
    return {s: max(n, 1) for s, n in lengths.items()}


class WordCoder(Protocol):
    """A prefix code for whole words: what the text packetizer needs."""

    def encode(self, text: str, writer: BitWriter) -> None: ...

    def decode(self, reader: BitReader) -> str: ...

    def bits(self, text: str) -> int: ...


class HuffmanCode:
    """A canonical prefix code over characters plus END and ESCAPE; ``encode``/``decode`` one word."""

    def __init__(self, freq: dict[str, int]):
        if END not in freq or ESCAPE not in freq:
            raise ValueError("a Huffman table needs END and ESCAPE symbols")
        lengths = _code_lengths(freq)
        self._codes: dict[str, tuple[int, int]] = {}
        self._decode: dict[tuple[int, int], str] = {}
        code, prev_len = 0, 0
        for sym in sorted(lengths, key=lambda s: (lengths[s], s)):
            n = lengths[sym]
            code <<= n - prev_len
            self._codes[sym] = (code, n)
            self._decode[(n, code)] = sym
            code, prev_len = code + 1, n
        self.max_length = prev_len

    @classmethod
    def default(cls) -> HuffmanCode:
        """The code built from the shipped English character table (built once, shared)."""
        return _default_code()

    def encode(self, text: str, writer: BitWriter) -> None:
        """Write ``text`` followed by END; a character outside the table goes as ESCAPE + code point."""
        for ch in text:
            self.encode_char(ch, writer)
        self.encode_end(writer)

    def encode_end(self, writer: BitWriter) -> None:
        writer.write(*self._codes[END])

    def encode_char(self, ch: str, writer: BitWriter) -> None:
        if ch in self._codes:
            writer.write(*self._codes[ch])
        else:
            writer.write(*self._codes[ESCAPE])
            writer.write(ord(ch), CODE_POINT_BITS)

    def decode(self, reader: BitReader) -> str:
        """Read one word up to its END; ``ValueError`` for a truncated or invalid code."""
        out = []
        while (ch := self.decode_char(reader)) is not None:
            out.append(ch)
        return "".join(out)

    def decode_char(self, reader: BitReader) -> str | None:
        """One character, or None at END."""
        sym = self._read_symbol(reader)
        if sym == END:
            return None
        if sym == ESCAPE:
            cp = reader.read(CODE_POINT_BITS)
            if cp > MAX_CODE_POINT:
                raise ValueError("escaped code point is beyond U+10FFFF")
            return chr(cp)
        return sym

    def bits(self, text: str) -> int:
        """Bits ``encode`` would write for ``text`` (END included)."""
        return self.end_bits + sum(self.char_bits(ch) for ch in text)

    @property
    def end_bits(self) -> int:
        return self._codes[END][1]

    def char_bits(self, ch: str) -> int:
        return self._codes[ch][1] if ch in self._codes else self._codes[ESCAPE][1] + CODE_POINT_BITS

    def _read_symbol(self, reader: BitReader) -> str:
        code = 0
        for n in range(1, self.max_length + 1):
            code = (code << 1) | reader.read(1)
            sym = self._decode.get((n, code))
            if sym is not None:
                return sym
        raise ValueError("invalid Huffman code")


class ContextHuffmanCode:
    """Order-1 static Huffman: the code for each character is chosen by the character before it.

    The context is the previous character lowercased ("" at the start of a word); a context without a
    table of its own, and the character after an escape, use ``fallback``. Every table holds every
    symbol of the fallback, so context only changes code lengths, never what can be coded.
    """

    def __init__(self, contexts: dict[str, HuffmanCode], fallback: HuffmanCode):
        self._contexts = contexts
        self.fallback = fallback

    @classmethod
    def default(cls) -> ContextHuffmanCode:
        """The code built from the shipped English bigram table (built once, shared)."""
        return _default_context_code()

    def _code(self, prev: str) -> HuffmanCode:
        return self._contexts.get(prev.lower(), self.fallback)

    def encode(self, text: str, writer: BitWriter) -> None:
        prev = ""
        for ch in text:
            self._code(prev).encode_char(ch, writer)
            prev = ch
        self._code(prev).encode_end(writer)

    def decode(self, reader: BitReader) -> str:
        out, prev = [], ""
        while (ch := self._code(prev).decode_char(reader)) is not None:
            out.append(ch)
            prev = ch
        return "".join(out)

    def bits(self, text: str) -> int:
        n, prev = 0, ""
        for ch in text:
            n += self._code(prev).char_bits(ch)
            prev = ch
        return n + self._code(prev).end_bits


def _table(name: str) -> dict:
    return json.loads(resources.files("semtalk").joinpath(f"data/{name}").read_text("utf-8"))


@lru_cache(maxsize=1)
def _order0() -> dict[str, int]:
    table = _table("english_chars.json")
    return {**table["chars"], END: table["END"], ESCAPE: table["ESCAPE"]}


@lru_cache(maxsize=1)
def _default_code() -> HuffmanCode:
    return HuffmanCode(_order0())


@lru_cache(maxsize=1)
def _default_context_code() -> ContextHuffmanCode:
    """Each context's counts, completed with the order-0 share of the symbols it never saw."""
    base = _order0()
    base_total = sum(base.values())
    contexts = {}
    for ctx, counts in _table("english_bigrams.json")["contexts"].items():
        scale = sum(counts.values()) / base_total
        contexts[ctx] = HuffmanCode({s: counts.get(s) or max(1, round(f * scale)) for s, f in base.items()})
    return ContextHuffmanCode(contexts, _default_code())
