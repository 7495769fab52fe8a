"""Property tests of the word depacketiser on a hostile channel: what it delivers, not only that it survives."""

from __future__ import annotations

import string
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from semtalk.records import Word
from semtalk.streams.text import MAX_DROPOUT_WORDS, TextDepacketizer, TextPacketizer, TextStreamFormat
from tests.unit.streams.fuzz import delivered, forged, fuzz, rebuilt, with_forgeries

MAX_WORDS = MAX_DROPOUT_WORDS - 4  # a reordered honest stream stays within the dropout


@st.composite
def text_streams(draw, max_words: int = MAX_WORDS) -> tuple[TextStreamFormat, list[Word], dict[bytes, tuple]]:
    """A word stream and, per packet, the (slot, word) a receiver decodes from it alone."""
    fmt = TextStreamFormat(window=draw(st.sampled_from([1, 4, 12, 16])), kb_tag=draw(st.integers(0, 255)),
                           prosody=draw(st.booleans()), seed=draw(st.integers(0, 99)),
                           first_seq=draw(st.one_of(st.sampled_from([0, 65530]), st.integers(0, 0xFFFF))))
    words, t = [], 0.0
    for _ in range(draw(st.integers(1, max_words))):
        text = draw(st.text(string.ascii_lowercase + "'", min_size=1, max_size=9))
        t += draw(st.sampled_from([0.0, 0.02, 0.3]))
        d = draw(st.sampled_from([0.04, 0.2, 0.6]))
        words.append(Word(text, t, t + d, draw(st.sampled_from([None, 90.0, 210.0])), -20.0))
        t += d
    pk = TextPacketizer(fmt)
    packets = [p for w in words for p in pk.push(w)] + pk.flush()
    reference = TextDepacketizer(fmt)
    decoded = {p: reference(p)[0] for p in packets}
    assert sorted(decoded[p][0] for p in packets) == list(range(len(words)))
    assert all(decoded[p][1].text == words[decoded[p][0]].text for p in packets)
    return fmt, words, decoded


def receive(fmt: TextStreamFormat, datagrams: list[bytes]) -> tuple[TextDepacketizer, dict[int, list[Word]]]:
    dp = TextDepacketizer(fmt)
    slots = defaultdict(list)
    for d in datagrams:
        got = dp(d)
        assert len(got) <= 1
        for slot, word in got:
            slots[slot].append(word)
    return dp, slots


@fuzz(150)
@given(text_streams(), st.data())
def test_honest_stream_with_loss_duplicates_and_reordering(stream, data):
    """~6,700 packets a run. Every packet that arrives gives its word once, in its slot, exactly as sent; the slot
    count never exceeds the stream's and is exact once its last packet is in."""
    fmt, words, decoded = stream
    packets = list(decoded)
    arrived = data.draw(delivered(packets))
    dp, slots = receive(fmt, arrived)
    assert {s: w for s, (w,) in slots.items()} == {decoded[p][0]: decoded[p][1] for p in arrived}
    assert dp.duplicates == len(arrived) - len(set(arrived)) and dp.garbage == 0
    assert dp.n_slots <= len(words)
    if packets[-1] in arrived:  # a full last window goes out unmarked: the sender cannot know it is the last
        assert (dp.n_slots, dp.ended) == (len(words), len(words) % fmt.window != 0)


@pytest.mark.xfail(strict=False, reason="issue 25: two forged pairs, one confirming a jump of about 32768, can move "
                   "the reference so honest words land 65536 off (seq_distance is ambiguous at 32768); which examples "
                   "hypothesis draws depends on the collected tests, so this fails in some runs, not all")
@fuzz(150)
@given(text_streams(), st.data())
def test_forged_packets_cost_at_most_their_own_slots(stream, data):
    """~8,400 packets a run (both receptions), 1-4 of each stream forged (some as pairs that confirm a jump), the
    stream's last two packets after them. Against the same lossy stream without them, k forged packets leave at most
    k slots wrong or empty, and the slot count stays under the stream's length plus one dropout and window."""
    fmt, words, decoded = stream
    packets = list(decoded)
    honest = data.draw(delivered(packets[:-2], reorder=False)) + packets[-2:]
    mixed, k = data.draw(with_forgeries(honest, packets, tail=2))
    _, baseline = receive(fmt, honest)
    dp, slots = receive(fmt, mixed)
    right = {s for s, got in slots.items() if got == baseline.get(s)}
    assert len(set(baseline) - right) <= k
    assert dp.n_slots <= len(words) + MAX_DROPOUT_WORDS + fmt.window


@pytest.mark.xfail(strict=True, reason="issue 25: a forged pair that confirms a jump after the stream's last "
                   "packet sets n_slots from the forged packet (2049 slots and more), and no honest packet "
                   "comes to set it back; SequenceUnwrapper's restart rule cannot tell it from a real jump. The speech "
                   "receiver bounds the slots by the call's length instead (test_speech.py, MAX_WORDS_PER_S)")
def test_a_forged_pair_after_the_last_packet_leaves_the_slot_count_alone():
    fmt = TextStreamFormat(window=4)
    pk = TextPacketizer(fmt)
    packets = [p for i in range(10) for p in pk.push(Word("a", 0.2 * i, 0.2 * i + 0.1))] + pk.flush()
    dp, _ = receive(fmt, [*packets, *(rebuilt(packets[-1], sequence_number=2048 + 8 + i) for i in (0, 1))])
    assert dp.n_slots == 10


@fuzz(150)
@given(text_streams(max_words=12), st.data())
def test_garbage_is_counted_and_never_outnumbers_what_was_fed(stream, data):
    """~1,700 packets a run, every one forged or random: each gives at most one word and is counted once."""
    fmt, _, decoded = stream
    junk = data.draw(st.lists(forged(list(decoded)), min_size=1, max_size=40))
    dp, slots = receive(fmt, junk)
    words = sum(len(w) for w in slots.values())
    assert words + dp.garbage + dp.foreign + dp.wrong_kb + dp.duplicates == len(junk)
