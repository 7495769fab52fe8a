import itertools
import random

import numpy as np
import pytest

from semtalk.records import Word
from semtalk.streams.packet import RtpPacket
from semtalk.streams.text import (
    TextDepacketizer,
    TextPacketizer,
    TextStreamFormat,
    assemble,
    deinterleave,
    interleave,
)

SENTENCE = ("and", "so", "my", "fellow", "americans", "ask", "not", "what", "your", "country", "can", "do", "for",
            "you", "ask", "what", "you", "can")


def _words(n: int = len(SENTENCE)) -> list[Word]:
    rng = np.random.default_rng(0)
    out, t = [], 0.13
    for i in range(n):
        d = float(rng.uniform(0.08, 0.6))
        f0 = None if i % 5 == 4 else float(rng.uniform(80, 300))
        out.append(Word(SENTENCE[i % len(SENTENCE)], t, t + d, f0, float(rng.uniform(-50, -10))))
        t += d + float(rng.choice([0.0, 0.0, 0.05, 0.4]))
    return out


def _send(words: list[Word], fmt: TextStreamFormat) -> tuple[TextPacketizer, list[bytes]]:
    pk = TextPacketizer(fmt)
    pkts = [p for w in words for p in pk.push(w)] + pk.flush()
    return pk, pkts


@pytest.mark.parametrize("n", [1, 5, 12, 40])
@pytest.mark.parametrize("fec_k", [None, 1, 4])
def test_interleave_is_a_permutation_with_exact_inverse(n, fec_k):
    order = interleave(n, np.random.default_rng(n), fec_k)
    assert sorted(order.tolist()) == list(range(n))
    x = np.arange(100, 100 + n)
    assert (x[order][deinterleave(order)] == x).all()
    assert (order[deinterleave(order)] == np.arange(n)).all()


@pytest.mark.parametrize(("window", "n", "spread"), [(12, 12, 2), (12, 10, 1), (8, 8, 1), (16, 16, 2)])
def test_neighbouring_words_go_to_different_fec_blocks(window, n, spread):
    fmt = TextStreamFormat(window=window, fec_k=4)
    for j in range(5):
        block = {s: (j * window + q) // 4 for q, s in enumerate(fmt.send_order(j, n))}
        assert sorted(block) == list(range(j * window, j * window + n))
        for d in range(1, spread + 1):
            assert all(block[s] != block[s + d] for s in sorted(block)[:-d]), (j, d)


def test_interleaving_is_seeded_and_random():
    orders = {TextStreamFormat(seed=seed).send_order(0, 12) for seed in range(10)}
    assert len(orders) > 5
    assert TextStreamFormat(seed=3).send_order(2, 12) == TextStreamFormat(seed=3).send_order(2, 12)


@pytest.mark.parametrize("n_words", [1, 6, 17, 30])
@pytest.mark.parametrize("window", [4, 12])
def test_round_trip_words_timing_and_prosody(n_words, window):
    fmt = TextStreamFormat(window=window, kb_tag=0xA5, seed=3)
    words = _words(n_words)
    pk, pkts = _send(words, fmt)
    assert pk.packets == len(pkts) == n_words
    dp = TextDepacketizer(fmt)
    got = assemble([pair for p in reversed(pkts) for pair in dp(p)], dp.n_slots)
    assert dp.n_slots == n_words and dp.ended == (n_words % fmt.window != 0)
    q = fmt.quantizer
    for w, g in zip(words, got, strict=True):
        assert g is not None and g.text == w.text
        assert abs(g.start - w.start) <= fmt.time_unit / 2 + 1e-9
        assert abs(g.end - w.end) <= fmt.time_unit + 1e-9
        assert (g.f0, g.energy) == q.dequantize(*q.quantize(w.f0, w.energy))
        assert (g.f0 is None) == (w.f0 is None)
        assert abs(g.energy - w.energy) <= q.energy_step_db / 2 + 1e-9


def test_text_plus_timing_stays_under_30_bits_a_word():
    pk, _ = _send(_words(), TextStreamFormat(prosody=False))
    assert (pk.text_bits + pk.timing_bits) / len(SENTENCE) < 30


def test_without_prosody_no_prosody_bits_are_sent():
    fmt = TextStreamFormat(prosody=False)
    pk, pkts = _send(_words(), fmt)
    dp = TextDepacketizer(fmt)
    got = [w for p in pkts for _, w in dp(p)]
    assert pk.prosody_bits == 0 and pk.text_bits > 0 and pk.timing_bits > 0
    assert all(w.f0 is None and w.energy is None for w in got)


def test_a_lost_fec_block_leaves_isolated_gaps():
    fmt = TextStreamFormat(window=12, fec_k=4, seed=1)
    words = _words(30)
    _, pkts = _send(words, fmt)
    dp = TextDepacketizer(fmt)
    lost = {4, 5, 6, 7} | set(range(12, 24))  # the second FEC block of window 0, all of window 1
    slots = assemble([pair for i, p in enumerate(pkts) if i not in lost for pair in dp(p)], dp.n_slots)
    assert len(slots) == 30
    missing = [i for i, s in enumerate(slots) if s is None]
    assert missing == sorted(list(fmt.send_order(0, 12)[4:8]) + list(range(12, 24)))
    assert all(b - a > 2 for a, b in itertools.pairwise(missing[:4]))
    assert all(s.text == words[i].text for i, s in enumerate(slots) if s is not None)


def test_depacketizer_never_raises_on_garbage():
    fmt = TextStreamFormat(kb_tag=7)
    dp = TextDepacketizer(fmt)
    rng = random.Random(0)
    _, pkts = _send(_words(), fmt)
    for _ in range(2000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
        assert dp(data) == [] or all(isinstance(s, int) for s, _ in dp(data))
    for p in pkts:  # bit flips in real packets: dropped or decoded, never an exception
        for _ in range(50):
            b = bytearray(p)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            dp(bytes(b))
    assert dp.garbage > 0


def test_foreign_and_wrong_kb_packets_are_counted():
    fmt = TextStreamFormat(kb_tag=7)
    _, pkts = _send(_words(6), fmt)
    pkt = RtpPacket.parse(pkts[0])
    dp = TextDepacketizer(fmt)
    other_ssrc = RtpPacket(payload_type=pkt.payload_type, sequence_number=0, ssrc=1, payload=pkt.payload)
    other_kb = RtpPacket(payload_type=pkt.payload_type, sequence_number=0, ssrc=fmt.ssrc,
                         payload=pkt.payload[:1] + b"\x08" + pkt.payload[2:])
    assert dp(bytes(other_ssrc)) == [] and dp(bytes(other_kb)) == []
    assert (dp.foreign, dp.wrong_kb, dp.garbage) == (1, 1, 0)


def test_format_is_validated():
    with pytest.raises(ValueError, match="window"):
        TextStreamFormat(window=17)
    with pytest.raises(ValueError, match="fec_k"):
        TextStreamFormat(fec_k=0)


def _moved(packet: bytes, by: int) -> bytes:
    """A copy of ``packet`` with its sequence number moved ``by`` (mod 2**16): what a forger sends."""
    p = RtpPacket.parse(packet)
    return bytes(RtpPacket(payload_type=p.payload_type, sequence_number=(p.sequence_number + by) & 0xFFFF,
                           timestamp=p.timestamp, ssrc=p.ssrc, marker=p.marker, payload=p.payload))


def _check_slots(words: list[Word], slots: list[Word | None]) -> None:
    """Every word received sits in its own slot (timing to the 20-ms step)."""
    assert all(s is None or (s.text == w.text and abs(s.start - w.start) < 0.011)
               for w, s in zip(words, slots[:len(words)], strict=True))


@pytest.mark.parametrize(("forged", "lost", "margin"), [
    ((32767,), 0, 0), ((32767, 2 * 32767), 0, 0), ((3000, 3001), 1, 0), ((40,), 0, 64 + 12)])  # 64: the dropout
def test_forged_packets_cost_at_most_their_own_slots(forged, lost, margin):
    """Forged copies at seq + 32767 (and that again) are refused: the count stays exact and every word where it
    belongs. A forged pair confirms a jump only until the real stream confirms itself again, at the cost of one
    word; a copy forged less than MAX_DROPOUT_WORDS ahead is placed as one, adding at most that many slots."""
    fmt = TextStreamFormat(seed=2)
    words = _words(46)
    _, pkts = _send(words, fmt)
    dp = TextDepacketizer(fmt)
    pairs = [pair for p in pkts[:10] for pair in dp(p)]
    pairs += [pair for by in forged for pair in dp(_moved(pkts[9], by))]
    real = [pair for p in pkts[10:] for pair in dp(p)]
    assert 46 <= dp.n_slots <= 46 + margin and (dp.ended or margin)
    _check_slots(words, assemble(pairs + real, dp.n_slots))
    assert len(real) == 36 - lost and len(pairs) - 10 <= 1  # a forged word lands only in its own slot


def test_first_packets_lost_across_the_wraparound_keep_every_later_word():
    fmt = TextStreamFormat(first_seq=65530, seed=4)
    words = _words(48)
    _, pkts = _send(words, fmt)
    dp = TextDepacketizer(fmt)
    slots = assemble([pair for p in pkts[6:] for pair in dp(p)], dp.n_slots)
    _check_slots(words, slots)
    assert sum(s is not None for s in slots) == 42 and dp.garbage == 0


def test_duplicates_are_delivered_once():
    fmt = TextStreamFormat(seed=5)
    words = _words(30)
    _, pkts = _send(words, fmt)
    dp = TextDepacketizer(fmt)
    pairs = [pair for p in pkts for pair in dp(p) + dp(p)]
    pairs += [pair for p in pkts[::-1] for pair in dp(p)]
    assert sorted(s for s, _ in pairs) == list(range(30))
    assert dp.duplicates == 60 and dp.n_slots == 30


def test_random_payloads_behind_a_valid_header_rarely_pass_as_words():
    """A payload must end where its fields do (then only zero padding): random bytes seldom do."""
    fmt = TextStreamFormat(kb_tag=7)
    dp = TextDepacketizer(fmt)
    rng = np.random.default_rng(0)
    accepted = 0
    for i in range(2000):
        body = bytes([(2 << 6) | (1 << 5) | 11, 7]) + rng.integers(0, 256, int(rng.integers(0, 12)),
                                                                   dtype=np.uint8).tobytes()
        pkt = RtpPacket(payload_type=fmt.payload_type, sequence_number=i, timestamp=20 * i, ssrc=fmt.ssrc,
                        payload=body)
        accepted += len(dp(bytes(pkt)))
    assert accepted + dp.garbage == 2000 and accepted < 2000 * 0.03
