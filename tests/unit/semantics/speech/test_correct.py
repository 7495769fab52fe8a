"""Knowledge-base correction of the sender's ASR words (semantics.speech.correct)."""

from __future__ import annotations

import pytest

from semtalk.bench.text import grid_sentences
from semtalk.kb.language import DomainLM
from semtalk.records import Word
from semtalk.semantics.speech.correct import DomainCorrector, phone_distance
from semtalk.text.lm import NGramPredictor

PREPOSITIONS = {"at", "by", "in", "with"}


def _words(text: str, start: float = 0.5, step: float = 0.25) -> list[Word]:
    return [Word(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(text.split())]


@pytest.fixture(scope="module")
def grid() -> DomainCorrector:
    domain = DomainLM.train(grid_sentences())
    return DomainCorrector(NGramPredictor(domain=domain), domain.vocab)


def test_phone_distance_is_zero_for_homophones_half_within_a_class_one_when_unrelated():
    assert phone_distance(("B", "IH", "N"), ("B", "IH", "N")) == 0.0
    assert phone_distance(("B", "IH", "M"), ("B", "IH", "N")) == pytest.approx(0.5 / 3)  # nasal for nasal
    assert phone_distance(("B", "IH", "S"), ("B", "IH", "N")) == pytest.approx(1 / 3)
    assert phone_distance(("AE", "T"), ("S", "M")) == 1.0
    assert phone_distance(("AE", "T"), ("S", "IH", "K", "S")) == pytest.approx(3 / 4)  # 2 half subs + 2 adds
    assert phone_distance((), ("AE",)) == 1.0


def test_misheard_grid_words_become_the_grammar_words_that_sound_the_same(grid):
    heard = _words("been read by k seven now")
    fixed = grid(heard)
    assert [w.text for w in fixed] == ["bin", "red", "by", "k", "seven", "now"]
    assert [(w.start, w.end) for w in fixed] == [(w.start, w.end) for w in heard]


def test_a_swallowed_word_is_put_back_inside_its_neighbours_span(grid):
    heard = _words("lay blue x four now")
    fixed = grid(heard)
    texts = [w.text for w in fixed]
    assert texts[:2] == ["lay", "blue"] and texts[3:] == ["x", "four", "now"] and texts[2] in PREPOSITIONS
    blue, added = fixed[1], fixed[2]
    assert heard[1].start == blue.start < blue.end == added.start < added.end == heard[1].end
    assert fixed[3:] == heard[2:]


def test_a_grammatical_sentence_is_left_alone(grid):
    heard = _words("set white with p two soon")
    assert grid(heard) == heard


def test_open_domain_speech_is_not_rewritten_toward_a_small_domain_text():
    domain = DomainLM.train(["we will meet at the office tomorrow", "the meeting starts at nine"])
    fix = DomainCorrector(NGramPredictor(domain=domain), domain.vocab)
    for text in ("the cat sat on the mat", "we have been reading it all day"):
        assert fix(_words(text)) == _words(text)
    assert [w.text for w in fix(_words("the meting starts at nine"))] == ["the", "meeting", "starts", "at", "nine"]
    assert fix([]) == []


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        DomainCorrector(NGramPredictor(), ("a",), substitute=0.0)
