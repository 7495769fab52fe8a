"""The endpoint backend: any OpenAI-compatible server the user runs or rents (vLLM, SGLang, OpenAI).

Scoring uses the legacy ``/v1/completions`` route with ``echo: true, logprobs: 1``: the server returns
the prompt's tokens with their log-probabilities and character offsets, and a word's log-probability is
the sum over the tokens that start inside it (its leading space included). ``max_tokens`` is 1, what
lm-evaluation-harness sends for log-likelihoods, since some servers refuse 0; the generated token is
ignored. llama.cpp's server returns log-probabilities of generated tokens only (ggml-org/llama.cpp#27174),
which is refused here with that reason rather than scored as zero. The first token of a prompt has no
log-probability, so a prompt always starts with a newline (or the KB's domain sentences, as for
SmolLM2) before the context.

Only the standard library speaks HTTP (urllib). The API key comes from an environment variable, never
from an argument that could end in a log or a report, and no message quotes it.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from semtalk.errors import SemtalkError
from semtalk.language.base import Item, ScoringKB
from semtalk.language.ngram import NGramKB

API_KEY_ENV = "SEMTALK_LM_API_KEY"


class EndpointKB(ScoringKB):
    """``LanguageKB`` over an OpenAI-compatible completions endpoint.

    ``endpoint``: the base URL (``http://host:8000/v1``; ``/completions`` is appended); ``model``: the
    served model's name; ``timeout``: seconds per request; ``batch``: prompts per request.
    """

    name = "openai"

    def __init__(self, domain: bytes | None = None, *, endpoint: str, model: str, timeout: float = 30.0,
                 batch: int = 16, beam: int = 4, significance: float = 1.5, max_candidates: int = 8):
        super().__init__(domain, beam=beam, significance=significance, proposer=NGramKB(domain),
                         max_candidates=max_candidates)
        if not endpoint.startswith(("http://", "https://")) or timeout <= 0 or batch < 1:
            raise ValueError("need an http(s) endpoint, timeout > 0 and batch >= 1")
        self.url = endpoint.rstrip("/") + "/completions"
        self.model, self.timeout, self.batch = model, timeout, batch
        self.prefix = f"{self.domain.prompt()}\n" if self.domain else "\n"

    def logprobs(self, items: Sequence[Item]) -> list[list[float]]:
        prompts, spans = [], []  # spans: (start, end) characters of each word, its leading space included
        for context, words in items:
            text = self.prefix + context.strip()
            bounds = []
            for k, w in enumerate(words):
                start = len(text)
                text += (" " if context.strip() or k else "") + w
                bounds.append((start, len(text)))
            prompts.append(text)
            spans.append(bounds)
        out = []
        for first in range(0, len(prompts), self.batch):
            choices = self._complete(prompts[first:first + self.batch])
            out += [_word_logprobs(choice, prompt, bounds) for choice, prompt, bounds
                    in zip(choices, prompts[first:first + self.batch], spans[first:first + self.batch], strict=True)]
        return out

    def _complete(self, prompts: list[str]) -> list[dict[str, Any]]:
        """The ``logprobs`` object of each prompt's choice, in prompt order."""
        body = json.dumps({"model": self.model, "prompt": prompts, "echo": True, "logprobs": 1, "max_tokens": 1,
                           "temperature": 0}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get(API_KEY_ENV):
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                doc = json.loads(response.read())
            choices = sorted(doc["choices"], key=lambda c: c.get("index", 0))
            if len(choices) != len(prompts):
                raise ValueError(f"{len(choices)} choices for {len(prompts)} prompts")
            return [c["logprobs"] for c in choices]
        except urllib.error.HTTPError as exc:
            raise SemtalkError(f"language model endpoint {self.url} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SemtalkError(f"language model endpoint {self.url} is unreachable: {reason}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise SemtalkError(f"language model endpoint {self.url} sent a malformed completion: {exc}") from exc


def _word_logprobs(logprobs: dict[str, Any], prompt: str, bounds: list[tuple[int, int]]) -> list[float]:
    """Sum the echoed tokens' log-probabilities over the words their first character falls in."""
    try:
        tokens, values = logprobs["tokens"], logprobs["token_logprobs"]
        offsets = logprobs.get("text_offset") or _offsets(tokens)
        starts = [a for a, _ in bounds]
        sums, seen = [0.0] * len(bounds), [False] * len(bounds)
        for offset, value in zip(offsets, values, strict=False):
            k = bisect_right(starts, offset) - 1
            if offset >= len(prompt):
                break  # the generated token
            if k >= 0 and offset < bounds[k][1]:
                sums[k] += float(value) if value is not None else 0.0
                seen[k] = True
    except (KeyError, TypeError, ValueError) as exc:
        raise SemtalkError(f"language model endpoint sent malformed log-probabilities: {exc}") from exc
    if not all(seen):
        raise SemtalkError("language model endpoint returned no log-probabilities for the prompt (echo is not "
                           "supported: llama.cpp's server lacks it, vLLM and SGLang have it)")
    return sums


def _offsets(tokens: list[str]) -> list[int]:
    """Character offsets of consecutive tokens, for servers that omit ``text_offset``."""
    out, at = [], 0
    for t in tokens:
        out.append(at)
        at += len(t)
    return out
