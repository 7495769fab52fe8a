"""The n-gram backend: the pocketsphinx trigram, interpolated with the KB's domain LM (``text.lm``).

Fast (a C lookup per word) and always installed, so it is the default and the fallback when no LLM is
available. Words are lowercased and stripped of punctuation as the LM spells them; a chunk with no word
in it ("—") costs nothing, and one that ends in ".", "!" or "?" also pays for the sentence end (``</s>``),
so that the LM sees a sentence cut after "for" as the broken sentence it is. A word no LM knows costs
``unknown`` nats instead of pocketsphinx's −2²⁹ log units, which would outweigh everything else in a
sentence, and breaks the trigram history as in TextPC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import takewhile

from semtalk.language.base import Item, ScoringKB
from semtalk.text.lm import BOS, EOS, NGramPredictor

_WORD = re.compile(r"[a-z0-9']+")
_END = re.compile(r"[.!?][\"')\]]*$")  # a chunk that ends a sentence
_NEVER = -1000.0  # nats: below this pocketsphinx has no probability for the word (it returns −2²⁹ units)


class NGramKB(ScoringKB):
    """``LanguageKB`` over ``NGramPredictor.logprob``; ``domain_weight``: λ of the domain LM's mixture."""

    name = "ngram"

    def __init__(self, domain: bytes | None = None, *, domain_weight: float = 0.5, unknown: float = -18.0,
                 beam: int = 4, significance: float = 1.5):
        super().__init__(domain, beam=beam, significance=significance)
        self.unknown = unknown
        self.lm = NGramPredictor(vocab_size=1, duration=None, domain=self.domain, domain_weight=domain_weight)

    def logprobs(self, items: Sequence[Item]) -> list[list[float]]:
        return [self._row(context, words) for context, words in items]

    def _row(self, context: str, words: Sequence[str]) -> list[float]:
        hist: list[str | None] = [BOS]
        for chunk in context.split():
            self._chunk(chunk, hist)
        return [self._chunk(chunk, hist) for chunk in words]

    def _chunk(self, chunk: str, hist: list[str | None]) -> float:
        """log P of the chunk's words after ``hist`` (extended), and of the sentence end its "." marks."""
        total = sum(self._next(w, hist) for w in _WORD.findall(chunk.lower()))
        if _END.search(chunk):
            total += self._next(EOS, hist)
            hist[:] = [BOS]  # the next word starts a sentence
        return total

    def _next(self, word: str, hist: list[str | None]) -> float:
        """log P(word | the last two words of ``hist``), floored; appends the word (None when unknown)."""
        lp = self.lm.logprob(word, tuple(takewhile(lambda w: w is not None, reversed(hist[-2:]))))
        hist.append(word if lp > _NEVER else None)
        return max(lp, self.unknown)
