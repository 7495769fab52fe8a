"""The language-model knowledge base: one interface, the algorithms over it, three ways to score.

LGM-TSC gives the receiver a private knowledge base built on a large language model, which picks the
reading of an ambiguous or corrupted sentence that makes sense, and lets the sender condense what it sends.
``LanguageKB`` is that component: ``score`` candidate continuations, ``correct`` a sentence among the
alternatives a channel or ASR offers for its words, ``shorten`` a sentence to a target length keeping its
keywords. ``ScoringKB`` implements ``correct`` and ``shorten`` once, on a single primitive, ``logprobs``
(natural-log P of each word of a continuation given a context), so the backends differ only in how they
score: the n-gram LM (``ngram``), SmolLM2 from its packaged GGUF (``smollm``), or an OpenAI-compatible
endpoint (``endpoint``). A small instruction LLM scores candidates far better than it rewrites, so both
algorithms only ever ask it to score.

``correct`` is the noisy channel of ASR error correction: the sequence W maximising
Σ log p(channel | wᵢ) + weight · log P(W), by beam search. ``shorten`` is deletion-based compression
(``shorten``) that maximises Hori & Furui's summarisation score (IEICE Trans. Inf. Syst. E86-D(9), 2003)

    J(y) = log P(y) + significance · Σ_{w∈y} I(w)

with ``I`` the background information of a word (``keywords.KeywordFinder``): hesitations ("um") first,
then greedily, one unit at a time, the deletion with the largest gain in J per character saved, until
the sentence is ``ratio`` of its characters. The fluency part of the gain counts only the words that
stay (a deletion always makes the sentence likelier by the log-probability of the words it removes,
which would favour dropping the rarest, most informative words). For an LLM, a cheap ``proposer`` (the
n-gram) ranks every deletion and the LLM scores only the best few, in one batch a step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import product
from typing import ClassVar, Protocol

from semtalk.kb.language import DomainLM
from semtalk.language import shorten as deletion
from semtalk.language.keywords import HESITATIONS, KeywordFinder, core

Item = tuple[str, Sequence[str]]  # (context, words that continue it)
Alternatives = Sequence[Sequence[tuple[str, float]]]  # per word: (alternative, channel log-prob)


class LanguageKB(Protocol):
    """What a mode asks of the language-model knowledge base."""

    name: str

    def score(self, context: str, candidates: Sequence[str]) -> list[float]:
        """Natural-log P(candidate | context) of each candidate continuation, comparable across them."""
        ...

    def correct(self, words: Sequence[str], alternatives: Alternatives, weight: float = 1.0) -> list[str]:
        """The likeliest reading: per word, one of its (alternative, channel log-prob); none: it stays."""
        ...

    def shorten(self, sentence: str, ratio: float, keywords: Collection[str] = ()) -> str:
        """``sentence`` with words deleted to about ``ratio`` of its characters, keeping ``keywords``."""
        ...

    def keywords(self, sentence: str) -> list[str]:
        """The words of ``sentence`` that ``shorten`` always keeps (numbers, names, domain terms)."""
        ...


class ScoringKB(ABC):
    """``correct``, ``shorten`` and ``score`` on top of a backend's ``logprobs``.

    ``domain``: the KB's serialised ``DomainLM`` (``kb.language``), the private part of the knowledge
    base: it adds domain keywords, and each backend uses it in its own way. ``beam``: hypotheses kept by
    ``correct``; ``significance``: the weight of background information against fluency in ``shorten``.
    A slow scorer (an LLM) names a cheap ``proposer`` (the n-gram): each step of ``shorten`` it ranks every
    deletion and only its ``max_candidates`` best are scored by this one (without one, all are).
    """

    name: ClassVar[str]

    def __init__(self, domain: bytes | None = None, *, beam: int = 4, significance: float = 1.5,
                 proposer: ScoringKB | None = None, max_candidates: int = 8):
        if beam < 1 or significance < 0 or max_candidates < 1:
            raise ValueError("need beam >= 1, significance >= 0 and max_candidates >= 1")
        self.domain = DomainLM.parse(domain) if domain else None
        self.beam, self.significance = beam, significance
        self.proposer, self.max_candidates = proposer, max_candidates
        self.finder = KeywordFinder(self.domain)

    @abstractmethod
    def logprobs(self, items: Sequence[Item]) -> list[list[float]]:
        """For each (context, words): natural-log P(words[i] | context, words[:i]) of every word, the words
        being whitespace-free chunks that follow the context after single spaces (an empty context is the
        start of a sentence)."""

    def score(self, context: str, candidates: Sequence[str]) -> list[float]:
        return [sum(row) for row in self.logprobs([(context, c.split()) for c in candidates])]

    def keywords(self, sentence: str) -> list[str]:
        return self.finder(sentence)

    def correct(self, words: Sequence[str], alternatives: Alternatives, weight: float = 1.0) -> list[str]:
        """Beam search over the alternatives; a run of fixed words is scored in one call, and only while
        more than one hypothesis is alive (a shared prefix cannot change their order)."""
        if len(alternatives) != len(words):
            raise ValueError("need one list of alternatives per word")
        hyps: list[tuple[tuple[str, ...], float]] = [((), 0.0)]
        i = 0
        while i < len(words):
            if alternatives[i]:
                pairs = list(product(hyps, alternatives[i]))
                rows = self.logprobs([(" ".join(h), w.split()) for (h, _), (w, _) in pairs])
                hyps = [((*h, w), s + c + weight * sum(row))
                        for ((h, s), (w, c)), row in zip(pairs, rows, strict=True)]
                i += 1
            else:
                j = next((k for k in range(i, len(words)) if alternatives[k]), len(words))
                run = tuple(words[i:j])
                rows = self.logprobs([(" ".join(h), run) for h, _ in hyps]) if len(hyps) > 1 else [[0.0]]
                hyps = [((*h, *run), s + weight * sum(row)) for (h, s), row in zip(hyps, rows, strict=True)]
                i = j
            hyps = sorted(hyps, key=lambda hyp: -hyp[1])[:self.beam]  # stable: ties keep the given order
        return list(hyps[0][0])

    def shorten(self, sentence: str, ratio: float, keywords: Collection[str] = ()) -> str:
        """Greedy deletion (module docstring); ``keywords`` join the sentence's own (``keywords``)."""
        if ratio <= 0:
            raise ValueError("ratio must be positive")
        chunks = sentence.split()
        if ratio >= 1 or not chunks:
            return sentence
        keep = {core(w).lower() for k in (*keywords, *self.keywords(sentence)) for w in k.split()}
        protected = {i for i, c in enumerate(chunks) if core(c).lower() in keep}
        search = _Deletions(chunks, deletion.units(chunks, protected),
                            [self.significance * self.finder.information(c) for c in chunks])
        state: deletion.Chunks = tuple(enumerate(chunks))
        mine = search.fluency(self, state)
        cheap = search.fluency(self.proposer, state) if self.proposer else {}
        target = ratio * len(" ".join(chunks))
        while (excess := len(deletion.render(state)) - target) > 0:
            options = [u for u in search.units if deletion.applicable(state, u)]
            hesitations = [u for u in options if all(core(chunks[i]).lower() in HESITATIONS for i in u.indices)]
            if hesitations:  # "um", "uh" go first, as in speech summarisation (Hori & Furui 2003)
                options = hesitations[:1]
            elif self.proposer:
                ranked = search.ranked(self.proposer, state, cheap, options, excess)
                options = [u for u, _, _ in ranked[:self.max_candidates]]
            if not options:
                break
            _, state, row = search.ranked(self, state, mine, options, excess)[0]
            mine = {i: lp for (i, _), lp in zip(state, row, strict=True)}
            cheap = search.fluency(self.proposer, state) if self.proposer else {}
        return deletion.render(state)


@dataclass(frozen=True)
class _Deletions:
    """The deletions ``shorten`` may make in one sentence, and the information each chunk holds."""

    chunks: Sequence[str]
    units: list[deletion.Unit]
    lost: list[float]  # significance · I(w) of each chunk

    @staticmethod
    def fluency(kb: ScoringKB, state: deletion.Chunks) -> dict[int, float]:
        """log P of each word of the sentence under ``kb``, by its original index."""
        row = kb.logprobs([("", [text for _, text in state])])[0]
        return {i: lp for (i, _), lp in zip(state, row, strict=True)}

    def ranked(self, kb: ScoringKB, state: deletion.Chunks, fluency: dict[int, float],
               options: Sequence[deletion.Unit], excess: float,
               ) -> list[tuple[deletion.Unit, deletion.Chunks, list[float]]]:
        """(unit, the sentence without it, its log-probs under ``kb``), the largest gain in J per character
        saved first, ties to the earlier unit. Characters beyond the ``excess`` over the target earn
        nothing, so that a long unit that would overshoot competes on its whole cost."""
        shorter = [deletion.delete(state, u) for u in options]
        rows = kb.logprobs([("", [text for _, text in s]) for s in shorter])
        gains = []
        for s, row, u in zip(shorter, rows, options, strict=True):
            kept = sum(lp - fluency[i] for (i, _), lp in zip(s, row, strict=True))
            saved = min(sum(len(self.chunks[i]) + 1 for i in u.indices), excess)
            gains.append((kept - sum(self.lost[i] for i in u.indices)) / saved)
        best = sorted(range(len(options)), key=lambda k: (-gains[k], k))
        return [(options[k], shorter[k], rows[k]) for k in best]
