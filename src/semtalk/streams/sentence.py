"""RTP payloads of LGM-TSC's text stream: one sentence per packet, as a learned coder's analog symbols or as bytes.

LGM-TSC sends nothing but text. Each sentence goes once, when the sender has recognised and shortened it; the
packet tells when the sentence was said, so the receiver can speak it at the same time and the talking head
stays with the call. Header and payload::

    RTP      sequence number = the sentence's index; timestamp = its start in ms (clock 1 kHz)
    byte 0   version (4 bits) = 1 | coder (4): 0 learned (analog symbols), 1 huffman, 2 brotli, 3 5bit
    byte 1   KB tag: first byte of the knowledge-base hash
    u16      the coded sentence's length: symbols (learned) or bytes (digital)
    learned: complex64 symbols, little-endian: the sentence's symbols, then as many of them again, cyclically, as
             the sender's symbol budget leaves room for (a shortened sentence fills the full sentence's slot; the
             receiver averages the copies: ``combine``)
    digital: the coded text (``encode_text``)

The header is exactly ``streams.audio.DIGITAL_BYTES`` long, the part of an analog packet the link sends as
protected digital side information (``channel.analog``); the symbols after it reach the receiver noisy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from semtalk.streams.audio import DIGITAL_BYTES
from semtalk.streams.bits import BitReader, BitWriter
from semtalk.streams.packet import HEADER_SIZE, FilteredDepacketizer, RtpPacket, SequenceUnwrapper

PAYLOAD_VERSION = 1
TEXT_CODERS = ("learned", "huffman", "brotli", "5bit")
DIGITAL_CODERS = TEXT_CODERS[1:]
SENTENCE_SSRC = 0x7E47C0DE
PAYLOAD_TYPE = 113
_HEADER = struct.Struct(">BBH")
assert HEADER_SIZE + _HEADER.size == DIGITAL_BYTES, "an analog packet's digital part is its headers"

# 5 bits a character (the "5bit" baseline): a-z, space, apostrophe, digits as words are spelt by the ASR, and an end
FIVE_BIT = " abcdefghijklmnopqrstuvwxyz'.,?"
_FIVE_END = 31


@dataclass(frozen=True)
class Sentence:
    """One sentence as it travels: its index, when it was said (s), and its payload (analog complex symbols,
    repeats included, or the coded text's bytes); ``length``: the coded sentence's symbols or bytes."""

    index: int
    start: float
    coder: str
    payload: bytes | np.ndarray
    length: int


def repeat(symbols: np.ndarray, budget: int) -> np.ndarray:
    """``symbols`` followed by cyclic copies up to ``budget`` symbols in all (at least the symbols themselves)."""
    s = np.asarray(symbols, dtype=np.complex64).ravel()
    return np.resize(s, max(budget, s.size)) if s.size else s


def combine(received: np.ndarray, length: int) -> np.ndarray:
    """The ``length`` symbols of a packet sent with ``repeat``: the average of each symbol's received copies
    (equal-gain combining of the equalised copies: an SNR gain of the repetition factor on AWGN)."""
    y = np.asarray(received, dtype=np.complex64).ravel()
    if length <= 0 or y.size < length:
        raise ValueError(f"a packet of {y.size} symbols cannot hold a sentence of {length}")
    slot = np.arange(y.size) % length
    total = np.bincount(slot, weights=y.real, minlength=length) + 1j * np.bincount(slot, weights=y.imag,
                                                                                  minlength=length)
    return (total / np.bincount(slot, minlength=length)).astype(np.complex64)


def encode_text(text: str, coder: str) -> bytes:
    """``text`` in a digital coder: semtalk's order-1 Huffman code (word count, then words), Brotli (quality 11) or
    5 bits a character up to an end code. Characters 5 bits cannot carry are dropped (the text is ASR output:
    lowercase words)."""
    if coder == "brotli":
        import brotli

        return brotli.compress(text.encode("utf-8"), quality=11)
    writer = BitWriter()
    if coder == "huffman":
        from semtalk.streams.huffman import ContextHuffmanCode

        code, words = ContextHuffmanCode.default(), text.split()
        writer.write_ue(len(words))
        for word in words:
            code.encode(word, writer)
    elif coder == "5bit":
        for ch in text.lower():
            if ch in FIVE_BIT:
                writer.write(FIVE_BIT.index(ch), 5)
        writer.write(_FIVE_END, 5)
    else:
        raise ValueError(f"unknown digital text coder {coder!r}; choose one of {', '.join(DIGITAL_CODERS)}")
    return writer.to_bytes()


def decode_text(data: bytes, coder: str) -> str | None:
    """The text of ``encode_text``'s bytes; None when they do not decode (a corrupted packet)."""
    try:
        if coder == "brotli":
            import brotli

            return brotli.decompress(data).decode("utf-8")
        reader = BitReader(data)
        if coder == "huffman":
            from semtalk.streams.huffman import ContextHuffmanCode

            code, words = ContextHuffmanCode.default(), []
            n_words = reader.read_ue()
            for _ in range(n_words):
                words.append(code.decode(reader))
            reader.end()
            return " ".join(words)
        chars = []
        while (value := reader.read(5)) != _FIVE_END:
            chars.append(FIVE_BIT[value])
        return "".join(chars)
    except Exception:  # any malformed payload (brotli.error, UnicodeDecodeError, a Huffman code that runs out)
        return None


class SentencePacketizer:
    """``push(sentence)`` → its RTP packet."""

    def __init__(self, kb_tag: int, ssrc: int = SENTENCE_SSRC) -> None:
        self.kb_tag, self.ssrc = kb_tag, ssrc
        self.packets = 0
        self.payload_bits = 0

    def push(self, sentence: Sentence) -> bytes:
        if sentence.coder not in TEXT_CODERS:
            raise ValueError(f"unknown text coder {sentence.coder!r}")
        if not 0 <= sentence.length <= 0xFFFF:
            raise ValueError(f"a sentence packet holds a coded length up to 65535, got {sentence.length}")
        head = _HEADER.pack((PAYLOAD_VERSION << 4) | TEXT_CODERS.index(sentence.coder), self.kb_tag,
                            sentence.length)
        body = (np.asarray(sentence.payload, dtype="<c8").tobytes() if sentence.coder == "learned"
                else bytes(sentence.payload))
        self.packets += 1
        self.payload_bits += 8 * len(body)
        return bytes(RtpPacket(payload_type=PAYLOAD_TYPE, sequence_number=sentence.index & 0xFFFF,
                               timestamp=round(sentence.start * 1000) % (1 << 32), ssrc=self.ssrc,
                               payload=head + body))


class SentenceDepacketizer(FilteredDepacketizer):
    """``depacketizer(datagram)`` → ``[Sentence]`` (at most one); malformed packets are counted as garbage."""

    def __init__(self, coder: str, kb_tag: int, ssrc: int = SENTENCE_SSRC) -> None:
        if coder not in TEXT_CODERS:
            raise ValueError(f"unknown text coder {coder!r}")
        super().__init__(ssrc, PAYLOAD_TYPE, kb_tag)
        self.coder = coder
        self.index = SequenceUnwrapper(first=0)

    def __call__(self, datagram: bytes) -> list[Sentence]:
        pkt = self.filter.admit(datagram)
        if pkt is None:
            return []
        payload = pkt.payload
        body = payload[_HEADER.size:]
        index = self.index(pkt.sequence_number) if len(payload) >= _HEADER.size else None
        length = _HEADER.unpack_from(payload)[2] if len(payload) >= _HEADER.size else -1
        units = len(body) // 8 if self.coder == "learned" else len(body)
        if (index is None or payload[0] != (PAYLOAD_VERSION << 4) | TEXT_CODERS.index(self.coder)
                or (self.coder == "learned" and len(body) % 8) or not 0 <= length <= units):
            self.invalid += 1
            return []
        data = np.frombuffer(body, dtype="<c8").astype(np.complex64) if self.coder == "learned" else bytes(body)
        return [Sentence(index, pkt.timestamp / 1000, self.coder, data, length)]
