"""The knowledge base's language model: a small domain trigram the receiver's TextPC interpolates.

The issue's knowledge base carries a "language model": what this speaker, or this kind of call, tends
to say. A generic English LM cannot guess the words of a closed vocabulary such as GRID's commands
("bin blue at f two now"); a trigram trained on a text of the domain can. ``semtalk kb build --lm-text
FILE`` trains it and stores it in the KB file; ``fec.text_concealment.NGramPredictor(domain=...)``
interpolates it with the pocketsphinx LM.

Smoothing is interpolated Witten–Bell (Witten & Bell 1991; Chen & Goodman 1998, eq. 17):

    P(w | h) = (c(h w) + T(h) · P(w | h')) / (c(h) + T(h))

with ``T(h)`` the number of distinct words seen after ``h`` and ``h'`` the history without its oldest
word, down to a uniform distribution over the vocabulary plus one unknown word. It needs no tuned
discount, and every word, known or not, keeps a probability above zero.

Bytes: ``b"STLM"`` | u8 version | zlib-compressed UTF-8 JSON {"order", "ngrams": [[words..., count]]}.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

MAGIC = b"STLM"
VERSION = 1
BOS, EOS = "<s>", "</s>"  # the sentence marks the pocketsphinx LM uses too
MAX_ORDER = 8
MAX_BODY = 1 << 24  # bytes of JSON a serialised LM may inflate to


@dataclass(frozen=True)
class DomainLM:
    """N-gram counts of a domain text; ``logprob`` is the ``text_concealment.LanguageModel`` protocol."""

    order: int
    counts: dict[tuple[str, ...], int]  # every n-gram of length 1..order, sentence marks included
    vocab: tuple[str, ...] = field(init=False)
    _ctx: dict[tuple[str, ...], tuple[int, int]] = field(init=False, repr=False)  # history → (c(h), T(h))
    _followers: dict[tuple[str, ...], list[tuple[tuple[str, ...], int]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ctx: dict[tuple[str, ...], list[int]] = {}
        for gram, c in self.counts.items():
            slot = ctx.setdefault(gram[:-1], [0, 0])
            slot[0] += c
            slot[1] += 1
        object.__setattr__(self, "_ctx", {h: (a, b) for h, (a, b) in ctx.items()})
        followers: dict[tuple[str, ...], list[tuple[tuple[str, ...], int]]] = {}
        for gram, c in sorted(self.counts.items()):  # sorted: sampling is reproducible
            if len(gram) == self.order or gram[0] == BOS:
                followers.setdefault(gram[:-1], []).append((gram, c))
        object.__setattr__(self, "_followers", followers)
        words = sorted((g[0] for g in self.counts if len(g) == 1 and g[0] != BOS),
                       key=lambda w: (-self.counts[(w,)], w))
        object.__setattr__(self, "vocab", tuple(w for w in words if w != EOS))

    @classmethod
    def train(cls, sentences: Iterable[str], order: int = 3) -> DomainLM:
        """Counts of the lowercased words of each sentence (one per line of a corpus), with <s> and </s>."""
        if order < 1:
            raise ValueError("order must be at least 1")
        counts: Counter[tuple[str, ...]] = Counter()
        for line in sentences:
            words = re.findall(r"[a-z0-9']+", line.lower())
            if not words:
                continue
            seq = [BOS, *words, EOS]
            for n in range(1, order + 1):
                for i in range(len(seq) - n + 1):
                    gram = tuple(seq[i:i + n])
                    if gram != (BOS,):
                        counts[gram] += 1
        return cls(order, dict(counts))

    def logprob(self, word: str, history: tuple[str, ...]) -> float:
        """Natural-log P(word | history), history nearest-first; an unseen history backs off by itself."""
        hist = tuple(reversed(history[:self.order - 1]))  # oldest first, as the counts store it
        p = 1.0 / (len(self.vocab) + 2)  # uniform over the vocabulary, </s> and one unknown word
        for n in range(len(hist) + 1):
            h = hist[len(hist) - n:]
            seen, followers = self._ctx.get(h, (0, 0))
            if seen:
                p = (self.counts.get((*h, word), 0) + followers * p) / (seen + followers)
        return math.log(p)

    def sample(self, count: int, seed: int = 0, max_words: int = 30) -> list[str]:
        """``count`` sentences drawn from the highest-order counts (no smoothing, so only word sequences
        the domain text holds), the same for the same seed: a prompt that shows the sender's ASR the
        domain's vocabulary and phrasing (``prompt``)."""
        import random

        rng = random.Random(seed)
        out = []
        for _ in range(count):
            seq = [BOS]
            while len(seq) <= max_words:
                h = tuple(seq[-(self.order - 1):]) if self.order > 1 else ()
                nxt = [(g[-1], c) for g, c in self._followers.get(h, ())]
                if not nxt:
                    break
                word = rng.choices([w for w, _ in nxt], weights=[c for _, c in nxt])[0]
                if word == EOS:
                    break
                seq.append(word)
            if len(seq) > 1:
                out.append(" ".join(seq[1:]))
        return out

    def prompt(self, count: int = 4) -> str:
        """A few domain sentences as written text, for Whisper's ``initial_prompt``: on GRID it turns
        "bimblu f2 now" into "bim blue f two now" and "seater" into "c two" (sender WER on the five GRID
        clips of the speech bench: mean 0.23 → 0.13)."""
        return " ".join(s[:1].upper() + s[1:] + "." for s in self.sample(count))

    def __bytes__(self) -> bytes:
        rows = [[*g, c] for g, c in sorted(self.counts.items())]
        body = json.dumps({"order": self.order, "ngrams": rows}, separators=(",", ":")).encode("utf-8")
        return MAGIC + bytes([VERSION]) + zlib.compress(body, 9)

    @classmethod
    def parse(cls, data: bytes) -> DomainLM:
        if data[:4] != MAGIC:
            raise ValueError("not a semtalk language model (bad magic)")
        if len(data) < 5 or data[4] != VERSION:
            raise ValueError("unsupported language model version")
        try:  # at most MAX_BODY bytes inflated: the blob comes from a peer; a longer body fails as JSON
            doc = json.loads(zlib.decompressobj().decompress(data[5:], MAX_BODY).decode("utf-8"))
            order = doc["order"]
            counts = {tuple(str(x) for x in row[:-1]): int(row[-1]) for row in doc["ngrams"]}
        except (zlib.error, ValueError, OverflowError, RecursionError, KeyError, TypeError, IndexError) as exc:
            raise ValueError("language model body is malformed") from exc
        if type(order) is not int or not 1 <= order <= MAX_ORDER:
            raise ValueError(f"language model order must be an integer in 1..{MAX_ORDER}")
        if not all(1 <= len(g) <= order and all(g) and c >= 1 for g, c in counts.items()):  # logprob needs c ≥ 1
            raise ValueError(f"language model n-grams must have 1..{order} non-empty words and counts ≥ 1")
        return cls(order, counts)
