"""TextPC: joint decoding of runs, the duration cue, and the knowledge base's domain LM."""

from __future__ import annotations

import itertools
import math

import pytest

from semtalk.bench.text import GRID_GRAMMAR, grid_sentences
from semtalk.kb.language import DomainLM
from semtalk.records import Word
from semtalk.text.concealment import TextConcealer
from semtalk.text.lm import EOS, LN_SPHINX, DurationPrior, Gap, NGramPredictor, _sphinx_lm


def _chain(words: list[str]) -> float:
    """Natural-log P of words[2:] given words[:2] under the pocketsphinx trigram (brute-force reference)."""
    lm = _sphinx_lm()[0]
    return sum(lm.prob([words[i], words[i - 1], words[i - 2]]) for i in range(2, len(words))) * LN_SPHINX


def test_a_two_word_gap_is_filled_with_the_best_pair():
    vocab = NGramPredictor(vocab_size=40).vocab
    p = NGramPredictor(vocab_size=40, beam=40, duration=None)  # beam = vocabulary: the search is exact
    left, right = ("i", "want"), ("the", "store")
    best = max(itertools.product(vocab, repeat=2), key=lambda pair: _chain([*left, *pair, *right]))
    assert p.predict(Gap(left, right, 2)) == list(best)


def test_joint_decoding_uses_the_right_context_that_greedy_ignores():
    left, right = ("<s>", "i"), ("to", "the")
    joint = NGramPredictor(vocab_size=300, beam=300, duration=None).predict(Gap(left, right, 2))
    greedy = NGramPredictor(vocab_size=300, beam=1, duration=None).predict(Gap(left, right, 2))
    assert _chain([*left, *joint, *right]) >= _chain([*left, *greedy, *right])


def test_the_duration_term_prefers_a_long_word_for_a_long_gap():
    phones = _sphinx_lm()[2]
    p = NGramPredictor()
    short = p.rank(["we", "saw"], ["in", "the"], 1, seconds=0.12)[0]
    long = p.rank(["we", "saw"], ["in", "the"], 1, seconds=1.2)[0]
    assert phones[long] > phones[short]
    prior = DurationPrior()
    assert prior.log_likelihood(1.2, 10) > prior.log_likelihood(1.2, 2)
    assert prior.log_likelihood(0.0, 1) == prior.log_likelihood(prior.floor, 1)


def test_concealer_passes_runs_with_their_duration_to_the_predictor():
    seen: list[Gap] = []

    class Recorder:
        def predict(self, gap: Gap) -> list[str]:
            seen.append(gap)
            return [f"x{i}" for i in range(gap.n)]

    words = [Word(t, 0.5 * i, 0.5 * i + 0.4) for i, t in enumerate(["a", "b", "c", "d", "e", "f"])]
    slots: list[Word | None] = [words[0], None, None, words[3], words[4], None]
    out = TextConcealer(Recorder()).fill(slots)
    assert [w.text for w in out] == ["a", "x0", "x1", "d", "e", "x0"]
    assert seen[0] == Gap(("<s>", "a"), ("d", "e"), 2, pytest.approx(1.5 - 0.4))
    assert seen[1] == Gap(("d", "e"), (EOS,), 1, None)


def test_domain_lm_round_trips_and_rejects_bad_bytes():
    lm = DomainLM.train(["lay blue at f two now", "set red by a one soon"])
    again = DomainLM.parse(bytes(lm))
    assert again.counts == lm.counts and again.vocab == lm.vocab
    total = sum(math.exp(lm.logprob(w, ("lay",))) for w in (*lm.vocab, EOS))
    assert 0.9 < total < 1.0  # the rest is the unknown word's share
    assert lm.logprob("blue", ("lay", "<s>")) > lm.logprob("red", ("lay", "<s>"))
    with pytest.raises(ValueError, match=r"^not a semtalk language model \(bad magic\)$"):
        DomainLM.parse(b"XXXX\x01")
    with pytest.raises(ValueError, match=r"^unsupported language model version$"):
        DomainLM.parse(b"STLM\x09")
    with pytest.raises(ValueError, match=r"^language model body is malformed$"):
        DomainLM.parse(b"STLM\x01garbage")


def test_a_grid_domain_lm_fills_grid_gaps_in_grammar():
    grid = DomainLM.train(grid_sentences())
    p = NGramPredictor(domain=grid)
    assert p.predict(Gap(("<s>", "lay"), ("at", "x4"), 1, 0.3))[0] in GRID_GRAMMAR[1]
    assert p.predict(Gap(("by", "k7"), (EOS,), 1, None))[0] in GRID_GRAMMAR[5]
    assert p.predict(Gap(("blue",), ("f2", "now"), 1, 0.2))[0] in GRID_GRAMMAR[2]


def test_the_kb_file_carries_the_language_model():
    from semtalk.kb.knowledge_base import KnowledgeBase
    from tests.unit.kb.kb_fixtures import make_kb

    kb = make_kb().kb
    kb.language = bytes(DomainLM.train(["bin blue at a one again"]))
    back = KnowledgeBase.from_bytes(kb.to_bytes())
    assert back.language == kb.language
    kb.language = None
    assert KnowledgeBase.from_bytes(kb.to_bytes()).language is None
