"""Knowledge-base correction of the sender's ASR words: a noisy channel over the KB's domain LM.

Whisper prompted with domain sentences still mishears a closed vocabulary: on GRID it sent "bim blue f
two now" for "bin blue at f two now" and "been read by k seven now" for "bin red by k seven now". The
prompt only biases the decoder; the knowledge base also holds the domain's word statistics
(``kb.language.DomainLM``), and the classic way to use them is to rescore what was heard (the ASR
error-correction step of text-only semantic communication, where the KB corrects the text before it is
sent). ``DomainCorrector`` finds the word sequence W that maximises

    log P(W) + Σ log p(heard | W)

``P`` is the LM TextPC uses (the pocketsphinx trigram interpolated with the domain LM), so a word the
generic LM knows stays likely and an open-domain KB rarely moves anything. The channel ``p(heard | W)``
is an edit model over pronunciations (ARPAbet, CMU dictionary or espeak-ng, ``align.pronounce``):
keeping a heard word costs nothing, replacing it by a domain word costs ``substitute`` nats per
phone-level edit distance (a vowel for a vowel, or a consonant of the same manner, counts half), and
adding a domain word Whisper swallowed costs ``insert`` nats. Homophones ("been" → "bin") are free to
change, a word that sounds different has to be much likelier to win. Heard words are never dropped: an
LM always prefers fewer words, and in a probe it cut "the cat sat on the mat" to "the the".

Only the text changes; times come from the heard words (an added word takes the later part of its left
neighbour's span) and are refined afterwards by the forced alignment of ``align.align_words``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from semtalk.records import Word
from semtalk.text.lm import BOS, EOS, LanguageModel

_VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
_MANNER = {**{p: "stop" for p in ("P", "B", "T", "D", "K", "G")},
           **{p: "nasal" for p in ("M", "N", "NG")},
           **{p: "fricative" for p in ("F", "V", "TH", "DH", "S", "Z", "SH", "ZH", "HH")},
           **{p: "affricate" for p in ("CH", "JH")},
           **{p: "approximant" for p in ("L", "R", "W", "Y")}}


def _phone_class(phone: str) -> str:
    return "vowel" if phone in _VOWELS else _MANNER.get(phone, phone)


def phone_distance(a: Sequence[str], b: Sequence[str]) -> float:
    """Weighted Levenshtein distance of two phone strings over the longer length (0 same, 1 unrelated)."""
    if not a or not b:
        return 1.0
    row = [float(j) for j in range(len(b) + 1)]
    for i, pa in enumerate(a, 1):
        prev, row[0] = row[0], float(i)
        for j, pb in enumerate(b, 1):
            sub = 0.0 if pa == pb else 0.5 if _phone_class(pa) == _phone_class(pb) else 1.0
            prev, row[j] = row[j], min(row[j] + 1.0, row[j - 1] + 1.0, prev + sub)
    return row[-1] / max(len(a), len(b))


@dataclass(frozen=True)
class _Hyp:
    words: tuple[str, ...]  # the corrected words so far
    source: tuple[int | None, ...]  # index of the heard word each one replaces (None: added)
    score: float


class DomainCorrector:
    """``corrector(words)`` returns the words with the likeliest domain reading of what was heard.

    ``lm`` scores word sequences (``NGramPredictor(domain=...)``: generic + domain LM); ``vocab`` are the
    domain words a heard word may become (``DomainLM.vocab``; the ``max_vocab`` most frequent are kept).
    ``substitute`` is the channel cost in nats of a full phone-distance unit, ``insert`` the cost of an
    added word.
    """

    def __init__(self, lm: LanguageModel, vocab: Sequence[str], *, substitute: float = 20.0, insert: float = 5.0,
                 beam: int = 16, max_vocab: int = 100, max_distance: float = 0.5):
        if substitute <= 0 or insert <= 0 or beam < 1 or not 0 < max_distance <= 1:
            raise ValueError("need substitute > 0, insert > 0, beam >= 1 and 0 < max_distance <= 1")
        self.lm, self.vocab = lm, tuple(vocab[:max_vocab])
        self.substitute, self.insert, self.beam, self.max_distance = substitute, insert, beam, max_distance
        self._candidates = lru_cache(maxsize=4096)(self._near)

    def __call__(self, words: list[Word]) -> list[Word]:
        if not words or not self.vocab:
            return words
        best = self._search([w.text for w in words])
        return _retime(words, best.words, best.source)

    def _search(self, texts: list[str]) -> _Hyp:
        """The best reading, scored to the end of the sentence."""
        hyps = [_Hyp((), (), 0.0)]
        for j, heard in enumerate(texts):
            hyps = self._prune(hyps + [self._add(h, w) for h in hyps for w in self.vocab])  # a swallowed word
            grown = []
            for h in hyps:
                for cand, dist in self._candidates(heard):
                    grown.append(_Hyp((*h.words, cand), (*h.source, j),
                                      h.score + self._logp(cand, h.words) - self.substitute * dist))
            hyps = self._prune(grown)
        hyps = self._prune(hyps + [self._add(h, w) for h in hyps for w in self.vocab])
        return max(hyps, key=lambda h: h.score + self._logp(EOS, h.words))

    def _add(self, h: _Hyp, word: str) -> _Hyp:
        return _Hyp((*h.words, word), (*h.source, None), h.score + self._logp(word, h.words) - self.insert)

    def _prune(self, hyps: list[_Hyp]) -> list[_Hyp]:
        """The ``beam`` best, one per trigram state (the last two words): the rest can never overtake it."""
        best: dict[tuple[str, ...], _Hyp] = {}
        for h in hyps:
            key = h.words[-2:]
            if key not in best or h.score > best[key].score:
                best[key] = h
        return sorted(best.values(), key=lambda h: -h.score)[:self.beam]

    def _logp(self, word: str, words: tuple[str, ...]) -> float:
        hist = tuple(reversed((BOS, *words)[-2:]))
        return self.lm.logprob(word, hist)

    def _near(self, heard: str) -> tuple[tuple[str, float], ...]:
        """The heard word itself and the domain words that sound within ``max_distance`` of it."""
        from semtalk.semantics.speech.align import pronounce

        said = pronounce(heard)
        near = [(heard, 0.0)]
        for w in self.vocab:
            if w != heard:
                d = phone_distance(said, pronounce(w))
                if d <= self.max_distance:
                    near.append((w, d))
        return tuple(near)


def _retime(heard: list[Word], texts: tuple[str, ...], source: tuple[int | None, ...]) -> list[Word]:
    """Corrected words with the heard words' times; an added word splits its left neighbour's span
    (or the right one's at the start) in proportion to the two words' lengths in letters."""
    out: list[Word] = []
    for k, (text, j) in enumerate(zip(texts, source, strict=True)):
        if j is not None:
            out.append(heard[j] if heard[j].text == text else replace(heard[j], text=text))
            continue
        if out:
            prev = out[-1]
            cut = prev.start + (prev.end - prev.start) * len(prev.text) / (len(prev.text) + len(text))
            out[-1] = replace(prev, end=cut)
            out.append(Word(text, cut, prev.end))
        else:
            nxt = next((heard[s] for s in source[k:] if s is not None), heard[0])
            out.append(Word(text, max(0.0, nxt.start - 0.2), nxt.start))
    return out
