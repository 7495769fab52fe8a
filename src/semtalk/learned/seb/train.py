"""Train Seb on CPU within a time budget (``semtalk train seb --data DIR``).

Each step codes one correlated set (``SET`` crops of ``SIDE``² pixels, ``data.sample_set``) through
``SebModel.forward`` — k-means Sebs, usage, residual — and minimises λ·D + R(S) + R(A) + R(Z) + β‖F − sg(S)‖².
Adam, linear warm-up then cosine decay (``learned.schedule``); the budget stops training in any case, and a seed with
a step count fixes the run. ``--init`` starts from another bundle (the usual way to get more λ points quickly: train
one λ long, fine-tune the others from it).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from semtalk.learned.schedule import StepBudget, optimise, warmup_cosine
from semtalk.learned.seb.config import SebConfig
from semtalk.learned.seb.data import HELDOUT_CLIPS, Pictures, load_pictures, sample_set

PROBE = (5, 25)
MAX_MINUTES = 60.0
SET, SIDE = 6, 128
DENSITY_LR = 20.0


@dataclass(frozen=True)
class TrainConfig:
    """One training run."""

    lam: float = 0.013
    minutes: float = 20.0
    steps: int | None = None
    lr: float = 1e-3
    warmup: int = 50
    photo_share: float = 0.3  # of the sets drawn from the photographs (the rest: the clips' enrollment frames)
    residual: str = "block"  # the residual transform (``SebConfig.residual``)
    seed: int = 0
    log_every: int = 50
    save_every: int = 500


def train(pics: Pictures, cfg: TrainConfig, init: dict | None = None, log=print, checkpoint=None):
    """Train until ``cfg.steps`` or the budget; returns the model (eval mode), the loss history and the steps done.
    ``checkpoint(model, step)`` is called every ``save_every`` steps."""
    import torch

    from semtalk.learned.seb.model import SebModel

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model_cfg = replace(SebConfig(**init["config"]) if init else SebConfig(), lam=cfg.lam, residual=cfg.residual)
    model = SebModel(model_cfg)
    if init:  # every tensor whose name and shape match (another residual transform keeps the Seb networks)
        own = model.state_dict()
        same = {k: v.float() for k, v in init["state"].items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(same, strict=False)
        log(f"started from {len(same)} of {len(own)} tensors of the initial weights")
    if not init or not any(k.startswith("latent_density") and k in same for k in own):
        _fit_density(model, pics, rng)
    fast = ("density", "log_step")
    dens = [p for n, p in model.named_parameters() if any(f in n for f in fast)]
    rest = [p for n, p in model.named_parameters() if not any(f in n for f in fast)]
    # the densities' and steps' few parameters move far (a coefficient's scale spans 1..100): DENSITY_LR × the rate
    opt = torch.optim.Adam([{"params": rest, "scale": 1.0}, {"params": dens, "scale": DENSITY_LR}], lr=cfg.lr)
    budget = StepBudget(cfg.minutes, cfg.steps, PROBE, log=log)
    history: dict[str, list] = {"step": [], "loss": [], "psnr": [], "bpp": []}
    step, parts = 0, []
    while budget.go(step):
        for g in opt.param_groups:
            g["lr"] = g["scale"] * warmup_cosine(cfg.lr, cfg.warmup, step, budget.total or 10**9)
        x = torch.from_numpy(sample_set(pics, SET, SIDE, rng, cfg.photo_share).copy()).permute(0, 3, 1, 2).float() / 255
        out = model(x, gen)
        optimise(opt, model, out["loss"])
        parts.append([float(out[k].detach()) for k in ("loss", "mse", "bpp_s", "bpp_a", "bpp_z")])
        step += 1
        if step % cfg.log_every == 0 or step == budget.total:
            loss, mse, bs, ba, bz = np.mean(parts, 0)
            psnr = 10 * np.log10(1 / mse)
            history["step"].append(step)
            history["loss"].append(float(loss))
            history["psnr"].append(float(psnr))
            history["bpp"].append(float(bs + ba + bz))
            log(f"step {step}/{budget.total or '?'} {budget.elapsed():.0f} s: loss {loss:.3f} PSNR {psnr:.2f} dB "
                f"bpp {bs + ba + bz:.3f} (Sebs {bs:.4f} usage {ba:.4f} residual {bz:.3f})")
            parts = []
        if checkpoint and step % cfg.save_every == 0:
            checkpoint(model, step)
    return model.eval(), history, step


def _fit_density(model, pics: Pictures, rng: np.random.Generator, sets: int = 8) -> None:
    """Start the residual's densities at the spread of real latents (a logistic of the channel's std), so the rate
    term is sane from step one; the coefficients of the block transform span ±1 to ±100."""
    import torch

    with torch.no_grad():
        x = torch.cat([torch.from_numpy(sample_set(pics, SET, SIDE, rng).copy()) for _ in range(sets)])
        x = x.permute(0, 3, 1, 2).float() / 255
        y = model.analyse(x - x.mean((2, 3), keepdim=True)).transpose(0, 1).flatten(1)
        scale = (y.std(1) * math.sqrt(3) / math.pi).clamp_min(0.1)
        d = model.latent_density
        d.log_scales.copy_(torch.log(scale)[:, None].expand_as(d.log_scales))
        d.means.zero_()


def bundle_of(model, cfg: TrainConfig, history: dict, steps: int, seconds: float) -> dict:
    """The shipped form: config, float16 state, how it was trained."""
    import torch

    state = {k: v.to(torch.float16) for k, v in model.state_dict().items()}
    return {"config": model.cfg.to_dict(), "state": state,
            "train": {**asdict(cfg), "steps_done": steps, "seconds": round(seconds, 1),
                      "heldout_clips": list(HELDOUT_CLIPS), "history": history}}


def train_and_save(data: Path, out: Path, cfg: TrainConfig = TrainConfig(), init: Path | None = None,
                   log=print) -> dict:
    """Train on the enrollment frames under ``data`` and the bundled photographs; save the bundle to ``out``."""
    import torch

    t0 = time.perf_counter()
    pics = load_pictures(data)
    log(f"training pictures: {len(pics.clips)} clips' enrollment frames, {len(pics.photos)} photographs; "
        f"held out: {', '.join(HELDOUT_CLIPS)}")
    start = torch.load(init, map_location="cpu", weights_only=True) if init else None
    out.parent.mkdir(parents=True, exist_ok=True)

    def checkpoint(model, step):
        torch.save(bundle_of(model, cfg, {}, step, time.perf_counter() - t0), out)

    model, history, steps = train(pics, cfg, start, log, checkpoint)
    bundle = bundle_of(model, cfg, history, steps, time.perf_counter() - t0)
    torch.save(bundle, out)
    log(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB) after {bundle['train']['seconds']} s, {steps} steps")
    return bundle
