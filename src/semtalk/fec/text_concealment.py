"""Text packet concealment (TextPC, SyncSC §III-C): fill lost words from the words around them.

The default predictor is the English trigram LM that ships inside the pocketsphinx wheel
(``model/en-us/en-us.lm.bin``, a binary trie). pocketsphinx 5 reads it with ``NGramModel.readfile`` and
scores with ``NGramModel.prob(words)``, which returns log P(words[0] | words[−1] … words[1]) — the word
first, then its history nearest-first — in log base 1.0001 units, with −2**29 for a word the LM does not
know. The trie cannot list its vocabulary, so the candidates are the words of the CMU dictionary shipped
beside it that the LM knows, ranked by unigram probability, top ``vocab_size`` kept.

A candidate ``w`` for a gap with left context (l2, l1) and right context (r1, r2) scores

    log P(w | l2 l1) + log P(r1 | l1 w) + log P(r2 | w r1)

the chain rule of the trigram model over the words that depend on ``w``; the LM backs off itself where
a trigram is unseen, and a context word the LM does not know cuts the history at that word.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from semtalk.errors import MissingDependencyError
from semtalk.records import Word

LOG_ZERO = -(1 << 29)  # what NGramModel.prob returns for an unknown word
BOS, EOS = "<s>", "</s>"
GAP_WORD_SECONDS = 0.3  # duration given to a lost word with no neighbour on one side


class WordPredictor(Protocol):
    def rank(self, left: list[str], right: list[str], k: int) -> list[str]:
        """The ``k`` likeliest words between ``left`` and ``right`` (lowercase words, nearest last/first)."""
        ...


@lru_cache(maxsize=1)
def _sphinx_lm() -> tuple[Any, tuple[str, ...]]:
    """The pocketsphinx LM and its known dictionary words, most frequent first (loaded once)."""
    try:
        import pocketsphinx
    except ImportError as exc:
        raise MissingDependencyError("pocketsphinx", "text concealment") from exc
    folder = os.path.join(pocketsphinx.get_model_path(), "en-us")
    lm = pocketsphinx.NGramModel.readfile(os.path.join(folder, "en-us.lm.bin"))
    scored = {}
    with open(os.path.join(folder, "cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word = line.split(" ", 1)[0]
            if "(" in word or not word.replace("'", "").isalpha() or word in scored:
                continue
            p = lm.prob([word])
            if p > LOG_ZERO:
                scored[word] = p
    return lm, tuple(sorted(scored, key=lambda w: -scored[w]))


class NGramPredictor:
    """Ranks candidates with the pocketsphinx trigram LM using both left and right context."""

    def __init__(self, vocab_size: int = 5_000):
        self.vocab_size = vocab_size

    def rank(self, left: list[str], right: list[str], k: int = 5) -> list[str]:
        lm, vocab = _sphinx_lm()
        l2, l1 = ([None, None] + [self._known(x) for x in left[-2:]])[-2:]
        r1, r2 = ([self._known(x) for x in right[:2]] + [None, None])[:2]
        left_hist = [] if l1 is None else [l1] if l2 is None else [l1, l2]

        def score(w: str) -> float:
            s = lm.prob([w, *left_hist])
            if r1:
                s += lm.prob([r1, w, l1] if l1 else [r1, w])
                if r2:
                    s += lm.prob([r2, r1, w])
            return s

        return sorted(vocab[: self.vocab_size], key=score, reverse=True)[:k]

    @staticmethod
    def _known(word: str) -> str | None:
        """The word as the LM spells it, or None (a break in the context) when the LM does not know it."""
        lm, _ = _sphinx_lm()
        w = word.lower()
        return w if w in (BOS, EOS) or lm.prob([w]) > LOG_ZERO else None


@dataclass(frozen=True)
class TextConcealer:
    """Fills lost slots with the predictor's top word; lost timing is shared out between the neighbours."""

    predictor: WordPredictor

    def fill(self, slots: list[Word | None]) -> list[Word]:
        out: list[Word | None] = list(slots)
        for i, w in enumerate(out):
            if w is not None:
                continue
            left = [x.text for x in out[max(0, i - 2):i] if x is not None] if i else [BOS]
            right = []
            for x in slots[i + 1:i + 3]:
                if x is None:
                    break
                right.append(x.text)
            if i + 1 + len(right) == len(slots) and len(right) < 2:
                right.append(EOS)
            text = self.predictor.rank(left, right, 1)[0]
            start, end = _gap_timing(out, slots, i)
            out[i] = Word(text, start, end, concealed=True, timed=False)
        return [w for w in out if w is not None]


def _gap_timing(filled: list[Word | None], slots: list[Word | None], i: int) -> tuple[float, float]:
    """Start and end of lost slot ``i``: an equal share of the time between the received neighbours."""
    a = i
    while a > 0 and slots[a - 1] is None:
        a -= 1
    b = i
    while b + 1 < len(slots) and slots[b + 1] is None:
        b += 1
    run = b - a + 1
    prev = filled[i - 1] if i else None
    t0 = prev.end if prev is not None else None
    nxt = slots[b + 1] if b + 1 < len(slots) else None
    if nxt is not None:
        t1 = nxt.start
        if t0 is None:
            t0 = max(0.0, t1 - GAP_WORD_SECONDS * run)
        share = max(t1 - t0, 0.0) / (b - i + 1)
        return t0, t0 + share
    t0 = t0 or 0.0
    return t0, t0 + GAP_WORD_SECONDS

