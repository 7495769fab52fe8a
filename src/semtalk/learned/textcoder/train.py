"""Train the text coder on CPU within a time budget (``semtalk train textcoder``).

Data: ``text.corpora.training_sentences()`` (BBC News training split + gensim's English corpora), tokenised by
a byte-level BPE learnt from them first; each sentence is cut into the pieces ``encode`` would send. Batches
hold pieces of similar length up to ``batch_tokens`` padded tokens. Loss: token cross-entropy. Channel, drawn
per piece: SNR uniform in ``snr_db``, AWGN for ``awgn_share`` of the pieces, else block Rayleigh (coherence
100, perfect CSI, MMSE). AdamW, warm-up then cosine decay to 5 %; without ``steps`` the schedule is sized to
the budget from the speed of the steps ``PROBE`` (``learned.schedule``), and the budget stops training anyway.
Evaluation: held-out BBC test-split sentences, never trained on.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from semtalk.learned.schedule import StepBudget, optimise, warmup_cosine
from semtalk.learned.textcoder.code import TextCoder
from semtalk.learned.textcoder.config import TextCoderConfig, pieces
from semtalk.learned.textcoder.tokenizer import TOKENIZER, TextTokenizer, normalize, train_tokenizer
from semtalk.phy.analog import transmit
from semtalk.text.corpora import bbc_split, sentences, training_sentences

if TYPE_CHECKING:
    from torch import Tensor

    from semtalk.learned.textcoder.model import TextCoderModel

PROBE = (20, 60)  # steps timed to size the schedule to the budget (``learned.schedule``)
EVAL_SNRS: tuple[float | None, ...] = (None, -10.0, 0.0, 4.0, 10.0, 20.0)  # None: noiseless
EVAL_SENTENCES = 500
MAX_MINUTES = 30.0


@dataclass(frozen=True)
class TrainConfig:
    """One training run."""

    minutes: float = 25.0
    steps: int | None = None
    batch_tokens: int = 1536  # padded tokens per batch
    lr: float = 2e-3
    warmup: int = 200
    snr_db: tuple[float, float] = (-2.0, 20.0)
    clean_share: float = 0.1  # pieces sent noiselessly (SNR = ∞), so a clean channel decodes exactly
    awgn_share: float = 0.5
    seed: int = 0
    log_every: int = 100
    eval_every: int = 1000


def heldout_sentences(count: int = EVAL_SENTENCES) -> list[str]:
    """``count`` sentences drawn (seeded) from the BBC test split's, normalised: the evaluation set. Sentences
    that also occur in the training text (BBC News repeats some articles) are left out."""
    _, test = bbc_split()
    seen = {normalize(s) for s in training_sentences()}
    pool = sorted({normalize(s) for a in test for s in sentences(a.text)} - seen)
    picks = np.random.default_rng(20).choice(len(pool), size=min(count, len(pool)), replace=False)
    return [pool[i] for i in sorted(picks)]


def evaluate(coder: TextCoder, texts: list[str], snrs: tuple[float | None, ...] = EVAL_SNRS,
             channels: tuple[str, ...] = ("awgn", "rayleigh")) -> dict[str, dict[str, float]]:
    """Token accuracy, exact-sentence rate and WER (``metrics.text.wer``) per channel and SNR, one channel
    draw per sentence (labelled ``"noiseless"`` or ``"<channel> <snr> dB"``)."""
    from semtalk.learned.textcoder.model import AWGN, RAYLEIGH
    from semtalk.metrics.text import wer

    sent = [coder.encode(t) for t in texts]
    refs = [coder.tokens(t) for t in texts]
    out = {}
    for snr in snrs:
        for channel in [None] if snr is None else channels:
            link = AWGN if channel == "awgn" else RAYLEIGH
            received = [transmit(s, snr, link, np.random.default_rng([k, 7])) for k, s in enumerate(sent)]
            decoded = coder.decode_batch(received)
            right = sum(int(np.sum(np.equal(d.tokens, r))) for d, r in zip(decoded, refs, strict=True))
            label = "noiseless" if snr is None else f"{channel} {snr:g} dB"
            out[label] = {"token_accuracy": right / sum(map(len, refs)),
                          "exact": float(np.mean([d.text == t for d, t in zip(decoded, texts, strict=True)])),
                          "wer": float(np.mean([wer(t, d.text) for d, t in zip(decoded, texts, strict=True)]))}
    return out


def _batches(data: list[list[int]], batch_tokens: int, rng: np.random.Generator) -> Iterator[tuple[Tensor, Tensor]]:
    """Endless batches of pieces of similar length: pools of 64 batches' worth, sorted, cut, shuffled."""
    import torch

    while True:
        pool = sorted(rng.choice(len(data), size=64 * batch_tokens // 32), key=lambda i: len(data[i]))
        batches, cur = [], []
        for i in pool:
            if cur and (len(cur) + 1) * len(data[i]) > batch_tokens:
                batches.append(cur)
                cur = []
            cur.append(i)
        batches.append(cur)
        for j in rng.permutation(len(batches)):
            seqs = [data[i] for i in batches[j]]
            lengths = torch.tensor([len(s) for s in seqs])
            tokens = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
            for k, s in enumerate(seqs):
                tokens[k, :len(s)] = torch.tensor(s)
            yield tokens, lengths


def train(data: list[list[int]], model_cfg: TextCoderConfig, cfg: TrainConfig, tokenizer: TextTokenizer,
          log: Callable[[str], None] = print, val: list[str] | None = None,
          ) -> tuple[TextCoderModel, dict[str, list], int]:
    """Train on token pieces ``data`` until ``cfg.steps`` or the budget; returns the model (eval mode), the
    history and the steps done."""
    import torch

    from semtalk.learned.textcoder.model import AWGN, RAYLEIGH, TextCoderModel, token_loss

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    noise = torch.Generator().manual_seed(cfg.seed)
    model = TextCoderModel(model_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    batches = _batches(data, cfg.batch_tokens, rng)
    budget = StepBudget(cfg.minutes, cfg.steps, PROBE, log=log)
    history: dict[str, list] = {"step": [], "train_loss": [], "val": []}
    step, losses = 0, []
    while budget.go(step):
        for g in opt.param_groups:
            g["lr"] = warmup_cosine(cfg.lr, cfg.warmup, step, budget.total or 10**9)
        tokens, lengths = next(batches)
        snrs = np.where(rng.random(len(tokens)) < cfg.clean_share, np.inf, rng.uniform(*cfg.snr_db, len(tokens)))
        links = [AWGN if u < cfg.awgn_share else RAYLEIGH for u in rng.random(len(tokens))]
        losses.append(optimise(opt, model, token_loss(model(tokens, lengths, snrs.tolist(), links, noise), tokens,
                                                      lengths)))
        step += 1
        if step % cfg.log_every == 0 or step == budget.total:
            history["step"].append(step)
            history["train_loss"].append(float(np.mean(losses)))
            log(f"step {step}/{budget.total or '?'} {budget.elapsed():.0f} s: loss {np.mean(losses):.3f} "
                f"lr {opt.param_groups[0]['lr']:.1e}")
            losses = []
        if val and (step % cfg.eval_every == 0 or step == budget.total):
            metrics = evaluate(TextCoder(model, tokenizer), val, (None, 4.0, 10.0), ("rayleigh",))
            model.train()
            history["val"].append((step, metrics))
            log("  held out: " + ", ".join(f"{k} tokens {v['token_accuracy']:.3f} exact {v['exact']:.2f}"
                                           for k, v in metrics.items()))
    return model.eval(), history, step


def train_and_save(out: Path, cfg: TrainConfig = TrainConfig(), model_cfg: TextCoderConfig | None = None,
                   log: Callable[[str], None] = print) -> dict:
    """Learn the tokenizer (saved beside ``out`` as ``TOKENIZER``), train, evaluate the float16-stored
    weights on held-out BBC sentences, save ``out``."""
    import torch

    t0 = time.perf_counter()
    model_cfg = model_cfg or TextCoderConfig()
    texts = training_sentences()
    tokenizer = train_tokenizer(texts, model_cfg.vocab)
    data = []
    for ids in tokenizer.encode_batch(texts):
        bounds = np.cumsum([0, *pieces(len(ids), model_cfg.max_tokens)])
        data += [ids[a:b] for a, b in itertools.pairwise(bounds)]
    words = sum(len(t.split()) for t in texts)
    n_tokens = sum(map(len, data))
    log(f"{len(texts)} training sentences, {words} words, {n_tokens} tokens ({n_tokens / words:.2f} per word) in "
        f"{len(data)} pieces; tokenizer {len(tokenizer)} tokens ({time.perf_counter() - t0:.0f} s)")
    heldout = heldout_sentences()
    model, history, steps = train(data, model_cfg, cfg, tokenizer, log, heldout[:200])
    state = {k: v.to(torch.float16) for k, v in model.state_dict().items()}
    model.load_state_dict({k: v.float() for k, v in state.items()})  # evaluate what ships
    train_seconds = time.perf_counter() - t0
    metrics = evaluate(TextCoder(model, tokenizer), heldout)
    for label, m in metrics.items():
        log(f"{label}: token accuracy {m['token_accuracy']:.4f}, exact sentences {m['exact']:.3f}, WER {m['wer']:.3f}")
    heldout_words = sum(len(t.split()) for t in heldout)
    heldout_tokens = sum(len(tokenizer.encode(t)) for t in heldout)
    bundle = {"config": model_cfg.to_dict(), "state": state, "tokenizer_sha256": tokenizer.sha256,
              "train": {**asdict(cfg), "steps_done": steps, "seconds": round(train_seconds, 1),
                        "sentences": len(texts), "words": words, "tokens": n_tokens, "history": history},
              "heldout": {"sentences": len(heldout), "words": heldout_words, "tokens": heldout_tokens,
                          "symbols_per_word": heldout_tokens * model_cfg.symbols_per_token / heldout_words},
              "metrics": metrics}
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / TOKENIZER).write_text(tokenizer.json, encoding="utf-8")
    torch.save(bundle, out)
    log(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB) and {out.parent / TOKENIZER} after "
        f"{time.perf_counter() - t0:.0f} s")
    return bundle
