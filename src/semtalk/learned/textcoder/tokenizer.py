"""The text coder's vocabulary: byte-level BPE (HF ``tokenizers``) on lower-cased, whitespace-normalised text.

Byte-level BPE never meets an unknown character, so any text round-trips exactly in its normalised form
(``normalize``); lower-casing and folding typographic quotes and dashes spend the small vocabulary on words
rather than on spellings of one word. Token strings are read back through the GPT-2 byte ↔ character table,
so a token that holds half of a UTF-8 character still has exact bytes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

TOKENIZER = "textcoder_tokenizer.json"
_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-",
                       "\u00a0": " "})


def normalize(text: str) -> str:
    """The form the coder reproduces: NFKC, typographic quotes and dashes folded to ASCII, lower case, single
    spaces, no leading or trailing space."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).lower().split())


def _byte_chars() -> dict[str, int]:
    """GPT-2's printable stand-in character for every byte (``tokenizers``' ByteLevel alphabet), inverted."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


class TextTokenizer:
    """A trained byte-level BPE: ``encode`` (normalises first) and ``decode``, plus each token's bytes."""

    def __init__(self, json: str):
        from tokenizers import Tokenizer

        self.json = json
        self.sha256 = hashlib.sha256(json.encode()).hexdigest()
        self._tok = Tokenizer.from_str(json)
        table = _byte_chars()
        vocab = self._tok.get_vocab()
        self.token_bytes: list[bytes] = [b""] * len(vocab)
        for piece, i in vocab.items():
            self.token_bytes[i] = bytes(table[c] for c in piece)

    def __len__(self) -> int:
        return len(self.token_bytes)

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(normalize(text)).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch([normalize(t) for t in texts])]

    def decode(self, ids: Iterable[int]) -> str:
        """Token ids → text; bytes that are not UTF-8 (a character cut between tokens) become U+FFFD."""
        return b"".join(self.token_bytes[i] for i in ids).decode("utf-8", errors="replace")


def train_tokenizer(texts: Iterable[str], vocab: int) -> TextTokenizer:
    """Learn ``vocab`` byte-level BPE tokens (256 bytes + merges) from ``texts``; deterministic."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator((normalize(t) for t in texts), trainer=trainer)
    return TextTokenizer(tok.to_str())


@lru_cache(maxsize=1)
def load_tokenizer() -> TextTokenizer:
    """The shipped tokenizer, read once from the installed package."""
    from importlib.resources import files

    return TextTokenizer((files("semtalk") / "weights" / TOKENIZER).read_text(encoding="utf-8"))
