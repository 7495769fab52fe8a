"""Train ASC on CPU within a time budget (``semtalk train asc --data DIR``).

Loss: NRMSE per 0.2-s chunk, mean over the batch (Wav2Vid eq. 8). Channel, drawn per item as in the paper:
SNR uniform in 0–20 dB, block Rayleigh fading (coherence 100 symbols, perfect CSI, MMSE) for most items and
AWGN for ``awgn_share`` of them. AdamW, linear warm-up then cosine decay to 5 % over ``steps`` steps; without
``steps``, the steps ``PROBE`` are timed and ``steps`` is set to what fits in the budget, and the budget
stops training in any case. A seed and a step count fix the run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from semtalk.learned.asc.code import AscCodec
from semtalk.learned.asc.config import SYMBOLS_PER_SECOND, AscConfig
from semtalk.learned.asc.data import Corpus, load_corpus, sample_chunks
from semtalk.learned.schedule import StepBudget, optimise, warmup_cosine
from semtalk.phy.analog import AnalogLink, transmit

PROBE = (10, 40)  # steps timed to size the schedule to the budget (``learned.schedule``)
EVAL_SNRS: tuple[float | None, ...] = (None, 0.0, 4.0, 10.0, 20.0)  # None: noiseless
EVAL_SEEDS = 3
MAX_MINUTES = 30.0


@dataclass(frozen=True)
class TrainConfig:
    """One training run."""

    minutes: float = 25.0
    steps: int | None = None
    batch: int = 32
    lr: float = 2e-3
    warmup: int = 100
    snr_db: tuple[float, float] = (0.0, 20.0)
    awgn_share: float = 0.2
    real_share: float = 0.4  # of chunks drawn from the real recordings (the rest: piper)
    seed: int = 0
    log_every: int = 50
    eval_every: int = 500


def evaluate(codec: AscCodec, heldout: dict[str, np.ndarray], snrs=EVAL_SNRS, seeds: int = EVAL_SEEDS,
             link: AnalogLink | None = None, pesq: bool = True) -> dict[str, dict[str, float]]:
    """NRMSE ‖x − x̂‖/‖x‖ over each whole utterance and PESQ-WB, means over utterances and ``seeds`` channel draws,
    per SNR (labelled ``"noiseless"`` or ``"<channel> <snr> dB"``)."""
    from semtalk.learned.asc.model import RAYLEIGH
    from semtalk.metrics.audio import or_none, pesq_wb

    link = link or RAYLEIGH
    out = {}
    for snr in snrs:
        errors, scores = [], []
        for k, x in enumerate(heldout.values()):
            sent = codec.encode(x)
            for seed in range(1 if snr is None else seeds):
                y = codec.decode(transmit(sent, snr, link, np.random.default_rng([seed, k])), x.size)
                errors.append(float(np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-9)))
                if pesq:
                    scores.append(or_none(pesq_wb, x, y, 16000))
        label = "noiseless" if snr is None else f"{link.channel} {snr:g} dB"
        out[label] = {"nrmse": float(np.mean(errors))}
        if pesq and any(s is not None for s in scores):
            out[label]["pesq_wb"] = float(np.mean([s for s in scores if s is not None]))
    return out


def train(corpus: Corpus, cfg: TrainConfig = TrainConfig(), log=print):
    """Train from ``corpus`` until ``cfg.steps`` or the budget; returns the model (eval mode) and the history."""
    import torch

    from semtalk.learned.asc.model import RAYLEIGH, AscModel, nrmse

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    noise = torch.Generator().manual_seed(cfg.seed)
    awgn = AnalogLink("awgn")
    model = AscModel(AscConfig())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    pools, shares = (corpus.real, corpus.tts), (cfg.real_share, 1 - cfg.real_share)
    budget = StepBudget(cfg.minutes, cfg.steps, PROBE, log=log)
    history: dict[str, list] = {"step": [], "train_nrmse": [], "val": []}
    step, losses = 0, []
    while budget.go(step):
        for g in opt.param_groups:
            g["lr"] = warmup_cosine(cfg.lr, cfg.warmup, step, budget.total or 10**9)
        x = torch.from_numpy(sample_chunks(pools, shares, cfg.batch, rng))
        snrs = rng.uniform(*cfg.snr_db, cfg.batch)
        links = [awgn if u < cfg.awgn_share else RAYLEIGH for u in rng.random(cfg.batch)]
        losses.append(optimise(opt, model, nrmse(x, model(x, snrs.tolist(), links, noise))))
        step += 1
        if step % cfg.log_every == 0 or step == budget.total:
            history["step"].append(step)
            history["train_nrmse"].append(float(np.mean(losses)))
            log(f"step {step}/{budget.total or '?'} {budget.elapsed():.0f} s: train NRMSE {np.mean(losses):.3f} "
                f"lr {opt.param_groups[0]['lr']:.1e}")
            losses = []
        if step % cfg.eval_every == 0 or step == budget.total:
            val = evaluate(AscCodec(model), corpus.heldout, (None, 10.0), seeds=1, pesq=False)
            model.train()
            history["val"].append((step, val))
            log("  held out: " + ", ".join(f"{k} NRMSE {v['nrmse']:.3f}" for k, v in val.items()))
    return model.eval(), history, step


def train_and_save(data: Path, out: Path, cache: Path, cfg: TrainConfig = TrainConfig(), log=print) -> dict:
    """Train on ``data`` (see ``asc.data``), evaluate the float16-stored weights on the held-out speech, save."""
    import torch

    t0 = time.perf_counter()
    corpus = load_corpus(data, cache)
    real_s, tts_s = corpus.seconds
    log(f"training audio: {real_s:.0f} s real + {tts_s:.0f} s piper (speed variants included); held out: "
        f"{', '.join(corpus.heldout)} ({sum(map(len, corpus.heldout.values())) / 16000:.1f} s)")
    model, history, steps = train(corpus, cfg, log)
    state = {k: v if "running" in k else v.to(torch.float16) for k, v in model.state_dict().items()}
    model.load_state_dict({k: v.float() for k, v in state.items()})  # evaluate what ships
    metrics = evaluate(AscCodec(model), corpus.heldout)
    metrics |= evaluate(AscCodec(model), corpus.heldout, (10.0,), link=AnalogLink("awgn"))
    for label, m in metrics.items():
        log(f"{label}: NRMSE {m['nrmse']:.3f}, PESQ-WB {m.get('pesq_wb', float('nan')):.2f}")
    bundle = {"config": model.cfg.to_dict(), "state": state, "symbols_per_second": SYMBOLS_PER_SECOND,
              "train": {**asdict(cfg), "steps_done": steps, "seconds": round(time.perf_counter() - t0, 1),
                        "audio_seconds": {"real": real_s, "tts": tts_s}, "heldout": list(corpus.heldout),
                        "history": history},
              "metrics": metrics}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(bundle, out)
    log(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB) after {bundle['train']['seconds']} s")
    return bundle
