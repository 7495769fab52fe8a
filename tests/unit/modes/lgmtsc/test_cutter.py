"""Sentences close at a pause once no later word can join them, at the length limits, and at the end."""

from semtalk.modes.lgmtsc.config import MAX_SENTENCE_S, PAUSE_S
from semtalk.modes.lgmtsc.ends import MAX_WORDS, SentenceCutter
from semtalk.records import Word


def words(start: float, n: int, step: float = 0.3) -> list[Word]:
    return [Word(f"w{i}", start + i * step, start + i * step + 0.25) for i in range(n)]


def test_a_pause_closes_a_sentence_only_once_it_is_final():
    cut = SentenceCutter()
    first = words(0.0, 4)  # ends at 1.15
    assert cut.push(first, final_until=1.2) == []  # a word could still follow within the pause
    assert cut.push([], final_until=1.15 + PAUSE_S) == [first]
    second = words(3.0, 3)
    third = words(3.0 + 3 * 0.3 + PAUSE_S, 2)
    assert cut.push(second + third, final_until=0.0) == [second]  # the gap before ``third`` closed ``second``
    assert cut.finish() == [third] and cut.finish() == []


def test_long_speech_is_cut_by_time_and_by_words():
    cut = SentenceCutter()
    out = cut.push(words(0.0, 100, step=0.2), final_until=0.0) + cut.finish()
    assert sum(len(s) for s in out) == 100
    assert all(s[-1].end - s[0].start <= MAX_SENTENCE_S and len(s) <= MAX_WORDS for s in out)
    out = SentenceCutter().push(words(0.0, 100, step=0.01), final_until=0.0)
    assert {len(s) for s in out} == {MAX_WORDS}
