"""The 5-bit alphabet code M3E offers (``streams.sentence``): its alphabet round-trips, other characters are not
carried, and a payload cut short is refused."""

from __future__ import annotations

from semtalk.streams.sentence import FIVE_BIT, decode_text, encode_text


def test_the_5bit_code_round_trips_its_alphabet_at_5_bits_a_character():
    data = encode_text(FIVE_BIT, "5bit")
    assert decode_text(data, "5bit") == FIVE_BIT
    assert len(data) == -(-5 * (len(FIVE_BIT) + 1) // 8)  # the characters and the end code, nothing else


def test_the_5bit_code_rejects_characters_outside_its_alphabet():
    assert decode_text(encode_text("Café: 42 €!", "5bit"), "5bit") == "caf  "  # lower-cased; é : 4 2 € ! dropped
    assert encode_text("é€!", "5bit") == encode_text("", "5bit")


def test_a_5bit_payload_without_its_end_code_does_not_decode():
    data = encode_text("hello world", "5bit")
    assert decode_text(data[:3], "5bit") is None
