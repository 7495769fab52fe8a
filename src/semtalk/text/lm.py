"""The language model behind TextPC and the sender's KB correction (SyncSC §III-C).

The default ``NGramPredictor`` decodes a run *jointly* (a beam search over the trigram states), scoring a
candidate sequence ``w1 … wn`` between left context (l2, l1) and right context (r1, r2) as the noisy
channel

    log P(w1 … wn r1 r2 | l2 l1) + log p(T | w1 … wn)

The first term is the chain rule of the trigram LM over every word that depends on the run. Its default LM
is the English trigram that ships inside the pocketsphinx wheel (``model/en-us/en-us.lm.bin``, a binary
trie). pocketsphinx 5 reads it with ``NGramModel.readfile`` and scores with ``NGramModel.prob(words)``,
which returns log P(words[0] | words[−1] … words[1]), the word first and its history nearest-first, in
log base 1.0001 units, with −2**29 for a word the LM does not know. The trie cannot list its vocabulary,
so the candidates are the words of the CMU dictionary shipped beside it that the LM knows, ranked by
unigram probability, top ``vocab_size`` kept. An optional domain LM (the knowledge base's, see
``kb.language``) is linearly interpolated with it, P = (1 − λ) P_generic + λ P_domain, and adds its
vocabulary to the candidates.

The second term is the duration cue: the time ``T`` between the received neighbours is what the lost words
took to say (SyncSC guides the receiver with the video; word timing is the part of that guidance the text
stream carries itself). ``DurationPrior`` models log T as normal around log(c · phones), the phone count
from the same CMU dictionary.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from semtalk.errors import MissingDependencyError

LOG_ZERO = -(1 << 29)  # what NGramModel.prob returns for an unknown word
LN_SPHINX = math.log(1.0001)  # natural log of one pocketsphinx log unit
BOS, EOS = "<s>", "</s>"
GAP_WORD_SECONDS = 0.3  # duration given to a lost word with no neighbour on one side


@dataclass(frozen=True)
class Gap:
    """A run of ``n`` consecutive lost words as the receiver sees it.

    ``left``: received words before the run, nearest last (``BOS`` when the run starts the stream);
    ``right``: received words after it, nearest first (``EOS`` when it ends the stream); either is cut at
    the next lost word. ``seconds``: time from the end of the word before the run to the start of the
    word after it, None when the run touches an end of the stream.
    """

    left: tuple[str, ...]
    right: tuple[str, ...]
    n: int
    seconds: float | None = None


class WordPredictor(Protocol):
    """What ``TextConcealer`` needs: a trigram here, a masked language model could plug in instead."""

    def predict(self, gap: Gap) -> list[str]:
        """The ``gap.n`` likeliest words for the run, in speaking order."""
        ...


class LanguageModel(Protocol):
    """A word LM that can be interpolated with the generic one (``kb.language.DomainLM``)."""

    vocab: tuple[str, ...]

    def logprob(self, word: str, history: tuple[str, ...]) -> float:
        """Natural-log P(word | history), history nearest-first (may be shorter than the model order)."""
        ...


@dataclass(frozen=True)
class DurationPrior:
    """p(T | words): log T ~ Normal(log(c · phones), σ²), the duration cue of the noisy-channel score.

    Fitted (median and spread of log(T / phones)) on the ASR words of the ``speech/`` clips of the shared
    data, not the benchmark clips: T is previous word end → next word start around each word (37 words,
    out/h8-textpc/fit_duration.py), c = 0.113 s a phone, σ = 0.68. ``floor`` keeps a zero-length hole
    (ASR words that abut) finite.
    """

    seconds_per_phone: float = 0.113
    sigma: float = 0.68
    floor: float = 0.04

    def log_likelihood(self, seconds: float, phones: int) -> float:
        """log p(seconds | phones) up to a constant that is the same for every candidate of one gap."""
        z = (math.log(max(seconds, self.floor)) - math.log(self.seconds_per_phone * max(phones, 1))) / self.sigma
        return -0.5 * z * z


@lru_cache(maxsize=1)
def _sphinx_lm() -> tuple[Any, tuple[str, ...], dict[str, int]]:
    """The pocketsphinx LM, its known dictionary words (most frequent first) and their phone counts."""
    try:
        import pocketsphinx
    except ImportError as exc:
        raise MissingDependencyError("pocketsphinx", "text concealment") from exc
    folder = os.path.join(pocketsphinx.get_model_path(), "en-us")
    lm = pocketsphinx.NGramModel.readfile(os.path.join(folder, "en-us.lm.bin"))
    scored, phones = {}, {}
    with open(os.path.join(folder, "cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, *pron = line.split()
            if "(" in word or not word.replace("'", "").isalpha() or word in scored:
                continue
            phones[word] = len(pron)
            p = lm.prob([word])
            if p > LOG_ZERO:
                scored[word] = p
    return lm, tuple(sorted(scored, key=lambda w: -scored[w])), phones


class NGramPredictor:
    """Joint beam-search fill of a run with the pocketsphinx trigram (+ domain LM) and the duration cue.

    ``beam`` hypotheses survive each slot (beam 1 is the old greedy left-to-right fill); ``duration``
    None switches the duration term off; ``domain`` with weight ``domain_weight`` is the KB's LM.
    """

    def __init__(self, vocab_size: int = 5_000, beam: int = 4, duration: DurationPrior | None = DurationPrior(),
                 domain: LanguageModel | None = None, domain_weight: float = 0.5):
        if beam < 1 or not 0.0 <= domain_weight <= 1.0:
            raise ValueError("need beam >= 1 and 0 <= domain_weight <= 1")
        self.beam, self.duration, self.domain, self.domain_weight = beam, duration, domain, domain_weight
        _, vocab, _ = _sphinx_lm()
        extra = [w for w in (domain.vocab if domain else ()) if w not in vocab[:vocab_size]]
        self.vocab = (*vocab[:vocab_size], *extra)
        self.predict = lru_cache(maxsize=8192)(self._predict)  # the same holes recur over channel seeds

    def rank(self, left: Sequence[str], right: Sequence[str], k: int = 5, seconds: float | None = None) -> list[str]:
        """The ``k`` likeliest single words between ``left`` and ``right``."""
        return [seq[0] for seq, _ in self._search(Gap(tuple(left), tuple(right), 1, seconds), k)]

    def _predict(self, gap: Gap) -> list[str]:
        return list(self._search(gap, 1)[0][0]) if gap.n else []

    def _search(self, gap: Gap, k: int) -> list[tuple[tuple[str, ...], float]]:
        """The ``k`` best (words, score) for the gap: beam search over slots, right context and the
        duration term added at the last slot, where the whole sequence is known."""
        left = tuple(self._known(w) for w in gap.left[-2:])
        right = [self._known(w) for w in gap.right[:2]]
        if None in right:
            right = right[:right.index(None)]
        _, _, phones = _sphinx_lm()
        logp, dur = self.logprob, {}
        timed = self.duration is not None and gap.seconds is not None
        hyps: list[tuple[tuple[str, ...], float, int]] = [((), 0.0, 0)]
        for j in range(gap.n):
            last = j == gap.n - 1
            grown = []
            for words, score, n_ph in hyps:
                ctx = (*left, *words)
                hist, prev = _history(ctx), (ctx[-1] if ctx else None)
                for w in self.vocab:
                    s = score + logp(w, hist)
                    ph = n_ph + phones.get(w, len(w))
                    if last:
                        if right:  # the trigram terms of the right context that depend on w
                            s += logp(right[0], (w,) if prev is None else (w, prev))
                            if len(right) > 1:
                                s += logp(right[1], (right[0], w))
                        if timed:
                            if ph not in dur:
                                dur[ph] = self.duration.log_likelihood(gap.seconds, ph)
                            s += dur[ph]
                    grown.append(((*words, w), s, ph))
            grown.sort(key=lambda h: -h[1])
            hyps = grown[:k if last else self.beam]
        return [(words, score) for words, score, _ in hyps]

    def logprob(self, word: str, hist: tuple[str, ...]) -> float:
        """Natural-log P(word | hist) of the generic LM, interpolated with the domain LM when there is one."""
        g = _sphinx_lm()[0].prob([word, *hist])
        if self.domain is None:
            return g * LN_SPHINX
        p = (1.0 - self.domain_weight) * (math.exp(g * LN_SPHINX) if g > LOG_ZERO else 0.0)
        p += self.domain_weight * math.exp(self.domain.logprob(word, hist))
        return math.log(p) if p > 0.0 else LOG_ZERO * LN_SPHINX

    def _known(self, word: str) -> str | None:
        """The word as the LMs spell it, or None (a break in the context) when no LM knows it."""
        lm, _, _ = _sphinx_lm()
        w = word.lower()
        known = w in (BOS, EOS) or lm.prob([w]) > LOG_ZERO or (self.domain is not None and w in self.domain.vocab)
        return w if known else None


def _history(ctx: tuple[str | None, ...]) -> tuple[str, ...]:
    """The trigram history of the next word, nearest-first, cut at a word no LM knows (None)."""
    hist = []
    for w in reversed(ctx[-2:]):
        if w is None:
            break
        hist.append(w)
    return tuple(hist)
