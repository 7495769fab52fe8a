"""The text coder as a codec: text → exact complex symbols (``encode``), received symbols → text and, per token,
its top candidates with log-probabilities (``decode``); numpy in and out.

A text of n tokens takes n · ``symbols_per_token`` unit-power complex symbols and nothing else: the receiver
reads n off the symbol count, cuts it into the same pieces (``config.pieces``) and decodes each alone. The
candidates let a language model rescore the uncertain positions later (the receiver's knowledge-base
correction); ``word_alternatives`` turns them into alternatives per word.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from semtalk.learned.textcoder.config import pieces
from semtalk.learned.textcoder.tokenizer import TextTokenizer, load_tokenizer
from semtalk.learned.weights import shipped

if TYPE_CHECKING:
    import torch

    from semtalk.learned.textcoder.model import TextCoderModel

WEIGHTS = "textcoder.pt"
TOP_K = 5  # candidates kept per token position
BATCH_PIECES = 64  # pieces per network call: bounds the memory of the (pieces × tokens × vocab) logits


@dataclass(frozen=True)
class Decoded:
    """What the receiver read: the text, its tokens, and per token the ``TOP_K`` (token string, log-probability)
    candidates, best first (the first is the decoded token); ``candidate_ids`` are their token ids."""

    text: str
    tokens: list[int]
    candidates: list[list[tuple[str, float]]]
    candidate_ids: list[list[int]]


class TextCoder:
    """A trained ``TextCoderModel`` (eval mode) and its tokenizer behind numpy ``encode`` / ``decode``."""

    def __init__(self, model: TextCoderModel, tokenizer: TextTokenizer):
        if len(tokenizer) != model.cfg.vocab:
            raise ValueError(f"the tokenizer has {len(tokenizer)} tokens, the model {model.cfg.vocab}")
        self.model, self.tokenizer = model.eval(), tokenizer
        self.m = model.cfg.symbols_per_token

    def tokens(self, text: str) -> list[int]:
        """The token ids ``text`` is sent as (after ``tokenizer.normalize``)."""
        return self.tokenizer.encode(text)

    def symbols_for(self, text: str) -> int:
        """Complex symbols ``encode(text)`` takes: tokens × symbols per token."""
        return len(self.tokens(text)) * self.m

    def _split(self, n: int) -> list[tuple[int, int]]:
        return list(itertools.pairwise(np.cumsum([0, *pieces(n, self.model.cfg.max_tokens)]).tolist()))

    def encode(self, text: str) -> np.ndarray:
        """Text → complex64 symbols (``symbols_for(text)``,), each piece at unit mean power; deterministic."""
        import torch

        from semtalk.learned.textcoder.model import to_air

        ids = self.tokens(text)
        if not ids:
            return np.zeros(0, np.complex64)
        spans = self._split(len(ids))
        tokens, lengths = _pad([ids[a:b] for a, b in spans])
        with torch.no_grad():
            s = self.model.transmit(tokens, lengths)
            air = [to_air(s[i, :b - a]) for i, (a, b) in enumerate(spans)]
        return torch.cat(air).numpy().astype(np.complex64)

    def decode(self, symbols: np.ndarray) -> Decoded:
        """Received (equalised) symbols → ``Decoded``; their count must be a whole number of tokens."""
        return self.decode_batch([symbols])[0]

    def decode_batch(self, received: list[np.ndarray]) -> list[Decoded]:
        """``decode`` of several texts' symbols in one network call."""
        import torch

        from semtalk.learned.textcoder.model import from_air

        rows, owners = [], []
        for k, symbols in enumerate(received):
            s = torch.from_numpy(np.asarray(symbols, np.complex64).reshape(-1))
            if s.numel() % self.m:
                raise ValueError(f"{s.numel()} symbols are not a whole number of tokens of {self.m} symbols")
            for a, b in self._split(s.numel() // self.m):
                rows.append(from_air(s[a * self.m:b * self.m], b - a))
                owners.append(k)
        if not rows:
            return [Decoded("", [], [], []) for _ in received]
        values, indices = [], []
        with torch.no_grad():
            for i in range(0, len(rows), BATCH_PIECES):
                batch = rows[i:i + BATCH_PIECES]
                lengths = torch.tensor([len(r) for r in batch])
                padded = torch.zeros(len(batch), int(lengths.max()), self.m, dtype=torch.complex64)
                for j, r in enumerate(batch):
                    padded[j, :len(r)] = r
                top = torch.log_softmax(self.model.receive(padded, lengths), -1).topk(TOP_K, -1)
                values += [v[:n] for v, n in zip(top.values.tolist(), lengths.tolist(), strict=True)]
                indices += [t[:n] for t, n in zip(top.indices.tolist(), lengths.tolist(), strict=True)]
        cand_ids: list[list[list[int]]] = [[] for _ in received]
        cands: list[list[list[tuple[str, float]]]] = [[] for _ in received]
        for owner, vs, ts in zip(owners, values, indices, strict=True):
            cand_ids[owner] += ts
            cands[owner] += [[(self.tokenizer.decode([t]), v) for t, v in zip(ti, vi, strict=True)]
                             for ti, vi in zip(ts, vs, strict=True)]
        return [Decoded(self.tokenizer.decode(row[0] for row in ci), [row[0] for row in ci], c, ci)
                for ci, c in zip(cand_ids, cands, strict=True)]


def _pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    lengths = torch.tensor([len(s) for s in seqs])
    tokens = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(seqs):
        tokens[i, :len(s)] = torch.tensor(s)
    return tokens, lengths


def word_alternatives(decoded: Decoded, k: int = 5, tokenizer: TextTokenizer | None = None,
                      ) -> list[list[tuple[str, float]]]:
    """Per whitespace-separated word of ``decoded.text``, up to ``k`` alternative spellings with log-probabilities,
    best first; the first is the decoded word.

    A word is the run of tokens from one that starts with a space to the next; its alternatives come from a
    beam over those positions' candidates, scored as the sum of the tokens' log-probabilities (the decoder
    predicts positions independently) and deduplicated by keeping a spelling's best path, so the decoded
    spelling (every position's best token) always leads.
    """
    tok = tokenizer or load_tokenizer()
    words: list[tuple[list[int], bool]] = []  # (positions, has a non-space byte)
    for pos, t in enumerate(decoded.tokens):
        raw = tok.token_bytes[t]
        if not words or (raw[:1].isspace() and words[-1][1]):
            words.append(([], False))
        words[-1] = (words[-1][0] + [pos], words[-1][1] or bool(raw.strip()))
    out = []
    for positions, content in words:
        if not content:
            continue
        beam: list[tuple[bytes, float]] = [(b"", 0.0)]
        for pos in positions:
            options = [(tok.token_bytes[t], lp) for t, (_, lp) in
                       zip(decoded.candidate_ids[pos], decoded.candidates[pos], strict=True)]
            beam = sorted(((b + o, lp + olp) for b, lp in beam for o, olp in options), key=lambda x: -x[1])[:4 * k]
        best: dict[str, float] = {}
        for b, lp in beam:
            word = b.decode("utf-8", errors="replace").strip()
            if word and word not in best:
                best[word] = lp
        out.append(list(best.items())[:k])
    return out


UNSURE_NATS = 4.0  # a word is open to correction when its runner-up is within this many nats of it
LM_WEIGHT = 0.25  # the LM's log-prob against the decoder's in the receiver's correction
SURE_SHARE = 0.5  # a sentence is open to correction only when at least this share of its tokens is read surely
SURE_LOGPROB = float(np.log(0.5))  # log(1/2): a token is read surely when its best candidate is more likely than not


def sure_share(decoded: Decoded) -> float:
    """The share of ``decoded``'s tokens whose best candidate has probability above 1/2 (1 for no tokens)."""
    if not decoded.candidates:
        return 1.0
    return float(np.mean([c[0][1] > SURE_LOGPROB for c in decoded.candidates]))


def unsure_alternatives(decoded: Decoded, k: int = 5, tokenizer: TextTokenizer | None = None,
                        ) -> list[list[tuple[str, float]]]:
    """``word_alternatives`` kept only for the words the decoder was unsure of (runner-up within ``UNSURE_NATS``);
    the rest get none, so a language model can only change what the channel left in doubt.

    And none at all when fewer than ``SURE_SHARE`` of the sentence's tokens were read surely: the n-gram judges
    a word by its neighbours, and when most of them are wrong its fluent guess is worse than the decoder's own
    (issue 20: ungated, on 100 BBC articles below 4 dB, the correction lowered the similarity by up to 0.012 and
    the topic accuracy by up to 0.08). The gate needs no SNR: it reads the sentence it corrects, so a
    faded block on Rayleigh closes only its own sentences. With the gate and ``LM_WEIGHT`` 0.25, over three draws
    of 100 held-out articles at -4 to 4 dB on AWGN and Rayleigh (30 cells), the correction lowered the similarity
    in one cell (-0.0009) and the accuracy in two (one article each), against 7 and 11 cells ungated at weight
    0.5, and kept most of the gain at 2-4 dB (docs/lgmtsc.md, Fig. 9). Alternatives without a letter or digit are
    dropped (the n-gram once preferred "!" to a garbled "americans")."""
    alternatives = word_alternatives(decoded, k, tokenizer)
    if sure_share(decoded) < SURE_SHARE:
        return [[] for _ in alternatives]
    out = []
    for alts in alternatives:
        words = [a for a in alts if a is alts[0] or any(c.isalnum() for c in a[0])]  # a word never becomes "!"
        out.append(words if len(words) > 1 and words[0][1] - words[1][1] < UNSURE_NATS else [])
    return out


def from_bundle(bundle: dict, tokenizer: TextTokenizer) -> TextCoder:
    """A ``TextCoder`` (float32, eval mode) from a weights bundle and the tokenizer it was trained with."""
    from semtalk.learned.textcoder.config import TextCoderConfig
    from semtalk.learned.textcoder.model import TextCoderModel

    if bundle["tokenizer_sha256"] != tokenizer.sha256:
        raise ValueError("the text coder's weights were trained with another tokenizer")
    model = TextCoderModel(TextCoderConfig(**bundle["config"]))
    model.load_state_dict({k: v.float() for k, v in bundle["state"].items()})
    return TextCoder(model, tokenizer)


@lru_cache(maxsize=1)
def load_textcoder() -> TextCoder:
    """The shipped text coder and tokenizer (float32 on CPU, eval mode), built once."""
    return from_bundle(shipped(WEIGHTS), load_tokenizer())
