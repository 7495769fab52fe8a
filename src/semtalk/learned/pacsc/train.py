"""Train PacSC on CPU from face codes of real clips (``semtalk train pacsc --data DIR``).

Loss (SyncSC eq. 18–19): ``λ1·Huber(X, X̂) + λ2·GAN`` with a linear-projection discriminator and
λ1 = λ2 = 0.5. The Huber term is taken on the code scale (X·255, δ = 1 code step), so that it is of
the GAN term's order instead of vanishing beside it. The channel in training is dropout2d over rows:
each packet of a block is lost with probability ``p_drop`` (0.4, the paper's), no rescaling.

Augmentation, because the clips are few (about 45 s for training): see ``data.sample_windows``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.learned.pacsc.config import RATE_CONFIGS, PacscConfig
from semtalk.learned.pacsc.data import clip_paths, encode_clip, sample_windows

# Held out from training, used by the evaluation (bench/pacsc.py): one clip of each corpus.
HELDOUT = ("hdtf_RD_Radio34_000", "lrs2_00019", "grid_lbbc2a")
LEVELS = 255.0


@dataclass(frozen=True)
class TrainConfig:
    """One training run; an epoch is ``steps_per_epoch`` batches of random windows."""

    epochs: int = 80
    steps_per_epoch: int = 50
    batch: int = 64
    lr: float = 2e-3
    p_drop: float = 0.4
    huber_weight: float = 0.5
    gan_weight: float = 0.5
    seed: int = 0


def load_sequences(data: Path, cache: Path, exclude: tuple[str, ...] = HELDOUT) -> dict[str, np.ndarray]:
    """Codes in [0, 1] of every clip under ``data`` except ``exclude``, extracted once into ``cache``."""
    return {p.stem: encode_clip(p, cache).unit for p in clip_paths(data) if p.stem not in exclude}


def train(model_cfg: PacscConfig, seqs: list[np.ndarray], cfg: TrainConfig = TrainConfig(),
          log=print):
    """Train one code; returns the model (eval mode) and the loss history (mean per epoch)."""
    import torch
    import torch.nn.functional as F

    from semtalk.learned.pacsc.model import LinearDiscriminator, PacscModel

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model, disc = PacscModel(model_cfg), LinearDiscriminator(model_cfg)
    data = np.concatenate(seqs)
    model.mean.copy_(torch.from_numpy(data.mean(0)))
    model.scale.copy_(torch.from_numpy(np.maximum(data.std(0), 1e-3)))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr)
    total = cfg.epochs * cfg.steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=total, pct_start=0.1)
    history = []
    for epoch in range(cfg.epochs):
        losses = []
        for _ in range(cfg.steps_per_epoch):
            x = torch.from_numpy(sample_windows(seqs, model_cfg.frames, cfg.batch, rng))
            mask = (torch.rand(cfg.batch, model_cfg.rows) >= cfg.p_drop).float()
            x_hat = model(x, mask)
            real, fake = torch.ones(cfg.batch), torch.zeros(cfg.batch)
            d_loss = (F.binary_cross_entropy_with_logits(disc(x), real)
                      + F.binary_cross_entropy_with_logits(disc(x_hat.detach()), fake))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            huber = F.huber_loss(LEVELS * x_hat, LEVELS * x, delta=1.0)
            gan = F.binary_cross_entropy_with_logits(disc(x_hat), real)
            loss = cfg.huber_weight * huber + cfg.gan_weight * gan
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(huber.item())
        history.append(float(np.mean(losses)))
        log(f"epoch {epoch + 1}/{cfg.epochs}: huber {history[-1]:.3f} (code steps)")
    return model.eval(), history


def train_and_save(data: Path, out: Path, cache: Path, cfg: TrainConfig = TrainConfig(),
                   rates: tuple[float, ...] = (0.5, 0.25), log=print) -> dict:
    """Train one model per code rate and save them together in ``out`` (what the package ships)."""
    import torch

    seqs = load_sequences(data, cache)
    frames = sum(len(s) for s in seqs.values())
    log(f"training on {len(seqs)} clips, {frames} frames ({frames / 25:.1f} s): {', '.join(sorted(seqs))}")
    t0 = time.perf_counter()
    bundle = {"train": {"clips": sorted(seqs), "frames": frames, "config": cfg.__dict__, "heldout": HELDOUT},
              "models": {}}
    for rate in rates:
        model, history = train(RATE_CONFIGS[rate], list(seqs.values()), cfg, log)
        state = {k: v.to(torch.float16) for k, v in model.state_dict().items()}
        bundle["models"][str(rate)] = {"config": RATE_CONFIGS[rate].to_dict(), "state": state, "history": history}
    bundle["train"]["seconds"] = round(time.perf_counter() - t0, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(bundle, out)
    log(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB) after {bundle['train']['seconds']} s")
    return bundle


def fit_and_save(data: Path, out: Path, cache: Path, seed: int = 0, rates: tuple[float, ...] = (0.5, 0.25),
                 log=print) -> None:
    """Fit the systematic code (``pacsc_linear``) of each rate on the training clips and save them in ``out``."""
    from semtalk.learned.pacsc.linear import fit, save_codes

    seqs = load_sequences(data, cache)
    frames = sum(len(s) for s in seqs.values())
    log(f"fitting on {len(seqs)} clips, {frames} frames ({frames / 25:.1f} s): {', '.join(sorted(seqs))}")
    t0 = time.perf_counter()
    codes = []
    for rate in rates:
        codes.append(fit(RATE_CONFIGS[rate], list(seqs.values()), np.random.default_rng(seed)))
        log(f"rate {rate}: parity span ±{codes[-1].span:.2f} (standardised units)")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_codes(codes, out)
    log(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB) after {time.perf_counter() - t0:.1f} s")
