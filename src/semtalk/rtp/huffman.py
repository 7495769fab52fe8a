"""Canonical static Huffman code for words (SyncSC §III-C text coding).

The alphabet is the characters of a shipped English frequency table (``data/english_chars.json``) plus
two control symbols: END, which closes a word so words need no length field, and ESCAPE, which is
followed by the character's raw 21-bit Unicode code point. Any ``str`` therefore round-trips (emoji,
CJK, control characters, even lone surrogates) while common English letters cost about 4 bits.

The code is canonical (codes assigned in order of length, then symbol), so both ends rebuild the same
code from the table alone and only the table's content has to agree, not a tree layout.
"""

from __future__ import annotations

import heapq
import json
from functools import lru_cache
from importlib import resources

from semtalk.rtp.bits import BitReader, BitWriter

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
            if ch in self._codes:
                writer.write(*self._codes[ch])
            else:
                writer.write(*self._codes[ESCAPE])
                writer.write(ord(ch), CODE_POINT_BITS)
        writer.write(*self._codes[END])

    def decode(self, reader: BitReader) -> str:
        """Read one word up to its END; ``ValueError`` for a truncated or invalid code."""
        out = []
        while True:
            sym = self._read_symbol(reader)
            if sym == END:
                return "".join(out)
            if sym == ESCAPE:
                cp = reader.read(CODE_POINT_BITS)
                if cp > MAX_CODE_POINT:
                    raise ValueError("escaped code point is beyond U+10FFFF")
                out.append(chr(cp))
            else:
                out.append(sym)

    def bits(self, text: str) -> int:
        """Bits ``encode`` would write for ``text`` (END included)."""
        esc = self._codes[ESCAPE][1] + CODE_POINT_BITS
        return self._codes[END][1] + sum(self._codes[ch][1] if ch in self._codes else esc for ch in text)

    def _read_symbol(self, reader: BitReader) -> str:
        code = 0
        for n in range(1, self.max_length + 1):
            code = (code << 1) | reader.read(1)
            sym = self._decode.get((n, code))
            if sym is not None:
                return sym
        raise ValueError("invalid Huffman code")


@lru_cache(maxsize=1)
def _default_code() -> HuffmanCode:
    table = json.loads(resources.files("semtalk").joinpath("data/english_chars.json").read_text("utf-8"))
    return HuffmanCode({**table["chars"], END: table["END"], ESCAPE: table["ESCAPE"]})
