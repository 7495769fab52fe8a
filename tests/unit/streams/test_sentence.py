"""LGM-TSC's sentence packets: header fields survive, digital coders round-trip, repeats combine, garbage is
counted and never raises."""

import numpy as np
import pytest

from semtalk.streams.audio import DIGITAL_BYTES
from semtalk.streams.sentence import (
    DIGITAL_CODERS,
    Sentence,
    SentenceDepacketizer,
    SentencePacketizer,
    combine,
    decode_text,
    encode_text,
    repeat,
)

TEXT = "the prime minister's plan costs 4.5 billion, doesn't it?"


@pytest.mark.parametrize("coder", DIGITAL_CODERS)
def test_digital_coders_round_trip(coder):
    expected = TEXT if coder != "huffman" else " ".join(TEXT.split())
    if coder == "5bit":
        expected = "".join(c for c in TEXT if c in " abcdefghijklmnopqrstuvwxyz'.,?")
    assert decode_text(encode_text(TEXT, coder), coder) == expected
    assert decode_text(encode_text("", coder), coder) == ""


def test_huffman_and_5bit_are_smaller_than_utf8():
    assert len(encode_text(TEXT, "5bit")) < len(TEXT)
    assert len(encode_text(TEXT, "huffman")) < len(TEXT)


@pytest.mark.parametrize("coder", DIGITAL_CODERS)
def test_corrupted_bytes_decode_to_none_or_text(coder):
    rng = np.random.default_rng(0)
    for _ in range(200):
        data = rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8).tobytes()
        assert decode_text(data, coder) is None or isinstance(decode_text(data, coder), str)


def test_learned_packet_round_trip_with_repeats():
    symbols = (np.arange(12) + 1j * np.arange(12)).astype(np.complex64)
    sent = repeat(symbols, 30)
    assert sent.size == 30 and np.array_equal(sent[12:24], symbols)
    packet = SentencePacketizer(kb_tag=7).push(Sentence(3, 12.345, "learned", sent, symbols.size))
    got = SentenceDepacketizer("learned", kb_tag=7)(packet)
    assert len(got) == 1
    s = got[0]
    assert (s.index, s.start, s.length) == (3, 12.345, 12)
    assert np.array_equal(combine(s.payload, s.length), symbols)
    # the analog channel perturbs what follows the digital header, which is the RTP and payload headers exactly
    assert len(packet) - DIGITAL_BYTES == 8 * sent.size


def test_combine_averages_the_copies():
    y = np.array([1, 2, 3, 3, 4, 5], dtype=np.complex64)
    assert np.allclose(combine(y, 3), [2, 3, 4])
    assert np.allclose(combine(y[:4], 3), [2, 2, 3])
    with pytest.raises(ValueError):
        combine(y, 7)


def test_digital_packet_and_refusals():
    data = encode_text(TEXT, "brotli")
    packet = SentencePacketizer(kb_tag=1).push(Sentence(0, 0.5, "brotli", data, len(data)))
    d = SentenceDepacketizer("brotli", kb_tag=1)
    assert decode_text(d(packet)[0].payload, "brotli") == TEXT
    assert SentenceDepacketizer("brotli", kb_tag=2)(packet) == []  # another KB
    assert SentenceDepacketizer("5bit", kb_tag=1)(packet) == []  # another coder
    bad = SentenceDepacketizer("brotli", kb_tag=1)
    assert bad(packet[:13]) == [] and bad(b"\x00" * 5) == []
    assert bad.garbage == 2


def test_length_beyond_the_payload_is_invalid():
    symbols = np.ones(4, np.complex64)
    packet = bytearray(SentencePacketizer(kb_tag=0).push(Sentence(0, 0.0, "learned", symbols, 4)))
    packet[14:16] = (9).to_bytes(2, "big")  # claims 9 symbols in a packet of 4
    d = SentenceDepacketizer("learned", kb_tag=0)
    assert d(bytes(packet)) == [] and d.garbage == 1
