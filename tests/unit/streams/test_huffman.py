import random

import pytest

from semtalk.streams.bits import BitReader, BitWriter
from semtalk.streams.huffman import END, ESCAPE, ContextHuffmanCode, HuffmanCode


def _random_text(rng: random.Random) -> str:
    pools = [
        "abcdefghijklmnopqrstuvwxyz' ",
        "ABCXYZ0123456789.,!?-",
        "\x00\x01\x1f\x7f\t\n",
        "éüßñ中文日本語한국어😀🎉👍🏽\u200d",
    ]
    n = rng.randrange(0, 20)
    out = []
    for _ in range(n):
        if rng.random() < 0.1:
            out.append(chr(rng.randrange(0, 0x110000)))  # any code point, lone surrogates included
        else:
            out.append(rng.choice(rng.choice(pools)))
    return "".join(out)


@pytest.mark.parametrize("code", [HuffmanCode.default(), ContextHuffmanCode.default()], ids=["order0", "order1"])
def test_arbitrary_unicode_round_trips_and_bits_match(code):
    rng = random.Random(7)
    texts = ["", "the", "🎉", "\ud800", *(_random_text(rng) for _ in range(300))]
    w = BitWriter()
    for t in texts:
        before = w.length
        code.encode(t, w)
        assert w.length - before == code.bits(t)
    r = BitReader(w.to_bytes())
    assert [code.decode(r) for _ in texts] == texts


def test_common_letters_are_cheaper_than_rare_and_escaped():
    code = HuffmanCode.default()
    assert code.bits("e") < code.bits("q") < code.bits("Q") < code.bits("😀")
    assert code.bits("the") < 8 * 3


def test_truncated_input_raises_value_error():
    code = HuffmanCode.default()
    w = BitWriter()
    code.encode("hello", w)
    data = w.to_bytes()
    with pytest.raises(ValueError):
        code.decode(BitReader(data[:1]))


def test_table_without_control_symbols_is_rejected():
    with pytest.raises(ValueError, match="END and ESCAPE"):
        HuffmanCode({"a": 1, END: 1})
    assert HuffmanCode({"a": 1, END: 1, ESCAPE: 1}).bits("a") > 0


def test_context_code_beats_the_single_table_on_english():
    words = ["and", "so", "my", "fellow", "americans", "ask", "not", "what", "your", "country", "quickly"]
    chars = sum(len(w) for w in words)
    order0 = sum(HuffmanCode.default().bits(w) for w in words) / chars
    order1 = sum(ContextHuffmanCode.default().bits(w) for w in words) / chars
    assert order1 < 0.85 * order0
    code = ContextHuffmanCode.default()
    assert code.bits("qu") < code.bits("qa")  # after q, u is nearly free
    assert code.bits("QU") > code.bits("qu")  # case is kept, at a price
