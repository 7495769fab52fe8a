"""What a word is worth: its background information, and the keywords of a sentence.

Sentence compression keeps the words that carry the message. Hori & Furui's speech summarisation (IEICE
Trans. Inf. Syst. E86-D(9), 2003) scores a word's *significance* by how rare it is in general text, and
Clarke & Lapata (JAIR 31, 2008) use the same score beside a trigram's fluency. Here it is the word's
self-information under the generic English unigram (the pocketsphinx LM that ships with semtalk, the same
for every backend), −log P(w) in nats, less ``floor`` so that function words are worth nothing. Fillers
and hedges of spontaneous speech are worth nothing whatever their frequency ("um" is rarer than "the").

Keywords are what ``shorten`` must never drop: numbers (in digits or words), proper nouns (capitalised
inside a sentence; first in it only when rare as a common word or followed by another capitalised word),
and the words the knowledge base's domain text uses far more often than general English (its
``DomainLM``): the private part of the LGM-TSC knowledge base.
"""

from __future__ import annotations

import math
import re
from functools import cached_property

from semtalk.kb.language import DomainLM
from semtalk.text.lm import NGramPredictor

UNKNOWN_INFORMATION = 16.0  # nats: a word the generic LM does not know is as rare as its rarest words
PROPER_FIRST = 10.0  # nats: a capitalised first word this rare as a common word is taken for a name
HESITATIONS = frozenset({"um", "uh", "er", "erm", "ah", "hmm", "mm"})
FILLERS = HESITATIONS | frozenset({
    "basically", "actually", "literally", "really", "very",
    "quite", "just", "simply", "totally", "definitely", "honestly", "obviously", "perhaps", "maybe",
    "somewhat", "rather", "pretty", "okay", "ok", "well", "so", "anyway", "indeed",
})
NUMBERS = frozenset({
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million", "billion",
    "percent", "half", "twice", "first", "second", "third",
})
_CORE = re.compile(r"[A-Za-z0-9']+")


def core(chunk: str) -> str:
    """The word inside a whitespace chunk, punctuation stripped ("(France)," → "France")."""
    return "".join(_CORE.findall(chunk))


class KeywordFinder:
    """Information of words and keywords of sentences, against general English and the KB's domain.

    ``floor``: nats of background information a word has before it counts (≈ the 300 commonest words
    fall below 6.5); ``domain_ratio``: how many times likelier than in general English a domain word must
    be to count as a keyword.
    """

    def __init__(self, domain: DomainLM | None = None, floor: float = 6.5, domain_ratio: float = 10.0):
        self.domain, self.floor, self.domain_ratio = domain, floor, domain_ratio

    @cached_property
    def _generic(self) -> NGramPredictor:
        return NGramPredictor(vocab_size=1, duration=None)

    def information(self, word: str) -> float:
        """Background significance of ``word`` in nats (0 for fillers and the commonest words)."""
        w = core(word).lower()
        return 0.0 if not w or w in FILLERS else max(0.0, self._surprise(w) - self.floor)

    def _surprise(self, low: str) -> float:
        """−log P(w) under the generic unigram, capped at ``UNKNOWN_INFORMATION``."""
        return min(-self._generic.logprob(low, ()), UNKNOWN_INFORMATION)

    def __call__(self, sentence: str) -> list[str]:
        """The keywords of ``sentence`` as written, in order, each once."""
        words = [core(chunk) for chunk in sentence.split()]
        out: list[str] = []
        for i, w in enumerate(words):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if w and w not in out and self._is_keyword(w, first=i == 0, before_name=nxt[:1].isupper()):
                out.append(w)
        return out

    def _is_keyword(self, word: str, first: bool, before_name: bool) -> bool:
        """A number, a domain term, or a name: capitalised ("I" aside), at the start only when it is rare
        as a common word or followed by another capitalised word ("John Smith")."""
        low = word.lower()
        if any(c.isdigit() for c in word) or low in NUMBERS or low in self._domain_words:
            return True
        if not word[0].isupper() or low in FILLERS or word == "I":
            return False
        return not first or before_name or self._surprise(low) >= PROPER_FIRST

    @cached_property
    def _domain_words(self) -> frozenset[str]:
        """Domain words ``domain_ratio`` times likelier under the domain LM than under general English."""
        if self.domain is None:
            return frozenset()
        margin = math.log(self.domain_ratio)
        return frozenset(w for w in self.domain.vocab
                         if self.domain.logprob(w, ()) - self._generic.logprob(w, ()) >= margin)
