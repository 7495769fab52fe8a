"""The algorithms every language-model backend shares: beam correction and deletion-based shortening."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from semtalk.language.base import Item, ScoringKB
from semtalk.language.keywords import KeywordFinder, core
from semtalk.language.ngram import NGramKB
from semtalk.language.shorten import Unit, delete, units

SENTENCE = ("Um, I think that the meeting with the board of directors was, basically, a very big success "
            "for our team in 2024.")


class BigramKB(ScoringKB):
    """A bigram table; pairs it does not hold cost ``other`` nats, so a test sets exactly what the LM says."""

    name = "bigram"

    def __init__(self, table: dict[tuple[str, str], float], other: float = -10.0, **options):
        super().__init__(**options)
        self.table, self.other = table, other
        self.calls: list[Item] = []

    def logprobs(self, items: Sequence[Item]) -> list[list[float]]:
        self.calls.extend(items)
        out = []
        for context, words in items:
            prev = context.split()[-1] if context.split() else "<s>"
            row = []
            for w in words:
                row.append(self.table.get((prev, w), self.other))
                prev = w
            out.append(row)
        return out


def test_correct_follows_the_lm_when_the_channel_is_unsure_and_the_channel_when_it_is_sure():
    kb = BigramKB({("of", "tea"): -1.0, ("of", "tree"): -8.0})
    words = ["a", "cup", "of", "tree"]
    unsure = [[], [], [], [("tree", -0.2), ("tea", -0.9)]]
    sure = [[], [], [], [("tree", 0.0), ("tea", -40.0)]]
    assert kb.correct(words, unsure) == ["a", "cup", "of", "tea"]
    assert kb.correct(words, sure) == words
    assert kb.correct(words, unsure, weight=0.05) == words  # the LM barely counts: the channel wins


def test_correct_weighs_the_fixed_words_after_a_choice():
    kb = BigramKB({("of", "tea"): -1.0, ("of", "tree"): -2.0, ("tree", "grows"): -1.0})
    alternatives = [[], [], [("tea", -0.1), ("tree", -0.1)], []]
    assert kb.correct(["cup", "of", "tea", "grows"], alternatives) == ["cup", "of", "tree", "grows"]
    assert kb.correct(["cup", "of", "tea"], alternatives[:3]) == ["cup", "of", "tea"]


def test_beam_search_finds_what_greedy_misses():
    table = {("<s>", "a"): -1.0, ("<s>", "b"): -2.0, ("b", "c"): -0.5, ("a", "c"): -9.0, ("a", "d"): -9.0}
    alternatives = [[("a", 0.0), ("b", 0.0)], [("c", 0.0), ("d", 0.0)]]
    assert BigramKB(table, beam=1).correct(["a", "d"], alternatives) == ["a", "c"]
    assert BigramKB(table, beam=4).correct(["a", "d"], alternatives) == ["b", "c"]


def test_correct_scores_nothing_without_alternatives_and_checks_lengths():
    kb = BigramKB({})
    assert kb.correct(["x", "y"], [[], []]) == ["x", "y"]
    assert kb.calls == []
    with pytest.raises(ValueError, match="one list of alternatives per word"):
        kb.correct(["x", "y"], [[]])


def test_score_sums_the_words_of_each_candidate():
    kb = BigramKB({("of", "green"): -2.0, ("green", "tea"): -1.0, ("of", "tea"): -1.5})
    assert kb.score("a cup of", ["green tea", "tea"]) == [-3.0, -1.5]


def test_shorten_drops_the_least_informative_words_first():
    kb = BigramKB({}, other=-5.0)  # every word as likely: only the words' information decides
    words = [core(c) for c in kb.shorten(SENTENCE, 0.85).split()]
    assert "Um" not in words
    assert {"meeting", "board", "directors", "success", "team", "2024"} <= set(words)


def test_shorten_drops_hesitations_first_even_against_the_lm():
    kb = BigramKB({("Um,", "I"): -0.1}, other=-5.0)  # the LM would rather keep "Um,"
    assert kb.shorten("Um, I agree with the plan.", 0.95) == "I agree with the plan."


@pytest.fixture(scope="module")
def ngram() -> NGramKB:
    return NGramKB()


@pytest.mark.parametrize("ratio", [0.85, 0.75, 0.6])
def test_shorten_reaches_about_the_ratio_and_keeps_keywords(ngram, ratio):
    out = ngram.shorten(SENTENCE, ratio, keywords=["team"])
    assert ratio - 0.15 <= len(out) / len(SENTENCE) <= ratio
    assert "team" in out and "2024" in out  # the caller's keyword and the sentence's number
    source = iter(core(c).lower() for c in SENTENCE.split())
    assert all(core(c).lower() in source for c in out.split())  # the words kept, in their order
    assert out[0].isupper() and out.endswith(".")
    assert ngram.shorten(SENTENCE, ratio, keywords=["team"]) == out  # deterministic


def test_shorten_keeps_the_input_at_ratio_one_and_refuses_a_ratio_of_zero(ngram):
    assert ngram.shorten(SENTENCE, 1.0) == SENTENCE
    assert ngram.shorten("  ", 0.5) == "  "
    with pytest.raises(ValueError, match="ratio must be positive"):
        ngram.shorten(SENTENCE, 0.0)


def test_shorten_never_drops_a_negation(ngram):
    out = ngram.shorten("I really do not think that the old plan will actually work at all.", 0.5)
    assert "not" in out.split()


def test_keywords_are_numbers_names_and_domain_terms():
    finder = KeywordFinder()
    assert finder("John Smith said on Monday that profits rose by 15 percent in Paris.") == [
        "John", "Smith", "Monday", "15", "percent", "Paris"]
    assert finder("I think the weather is nice.") == []
    assert finder.information("um") == finder.information("the") == 0.0 < finder.information("directors")
    from semtalk.kb.language import DomainLM

    domain = DomainLM.train(["bin blue at f two now", "place red by g nine soon", "lay white with z four please"])
    assert "bin" in KeywordFinder(domain)("bin blue at f two now")


@pytest.mark.parametrize(("sentence", "unit", "expected"), [
    ("The cat, of course, sat.", Unit(2, 3), "The cat sat."),
    ("Yes, the cat sat quickly.", Unit(4, 4), "Yes, the cat sat."),
    ("Basically, the cat sat.", Unit(0, 0), "The cat sat."),
    ("Profits rose by 15 percent (a record).", Unit(5, 6), "Profits rose by 15 percent."),
    ("The cat — a tabby — sat.", Unit(2, 5), "The cat sat."),
    ("Well, you know, I agree.", Unit(1, 2), "Well, I agree."),
])
def test_delete_mends_punctuation_and_capitals(sentence, unit, expected):
    chunks = sentence.split()
    assert unit in units(chunks, protected=())
    state = tuple(enumerate(chunks))
    assert " ".join(text for _, text in delete(state, unit)) == expected


def test_units_skip_protected_words_and_split_no_parenthesis():
    chunks = ["Profits", "rose", "(a", "record)", "in", "Paris."]
    found = units(chunks, protected={5})
    assert Unit(2, 3) in found and Unit(2, 2) not in found and Unit(3, 3) not in found
    assert all(5 not in u.indices for u in found)
