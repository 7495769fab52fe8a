"""The training schedule of the learned coders: a run bounded in time on a CPU, sized to the time it has.

Without a step count, steps ``probe[0]`` … ``probe[1]`` are timed and the run plans the steps that fit ``fit`` of the
time left, so the learning-rate schedule ends when the time does; the time budget stops training in any case. With
a step count (and a seed) a run is reproducible.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def warmup_cosine(lr: float, warmup: int, step: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 5 % of ``lr`` at ``total``."""
    warm = min(1.0, (step + 1) / warmup)
    return lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(total, 1)))))


def optimise(opt, model, loss, max_norm: float = 1.0) -> float:
    """One optimiser step on ``loss`` with the gradient norm clipped to ``max_norm``; returns the loss."""
    import torch

    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    opt.step()
    return loss.item()


class StepBudget:
    """``while budget.go(step)``: False once ``steps`` are done or ``minutes`` are spent; ``total`` is the planned
    step count (None until the probe has sized it)."""

    def __init__(self, minutes: float, steps: int | None, probe: tuple[int, int], fit: float = 0.92,
                 log: Callable[[str], None] = print):
        self.minutes, self.total, self.probe, self.fit, self.log = minutes, steps, probe, fit, log
        self.start = time.perf_counter()
        self._probe_start = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def go(self, step: int) -> bool:
        if self.total is not None and step >= self.total:
            return False
        elapsed = self.elapsed()
        if elapsed > 60 * self.minutes:
            self.log(f"time budget of {self.minutes:g} min reached at step {step}/{self.total}")
            return False
        first, last = self.probe
        if step == first:
            self._probe_start = elapsed
        if self.total is None and step == last:
            per_step = (elapsed - self._probe_start) / (last - first)
            self.total = last + int(self.fit * (60 * self.minutes - elapsed) / per_step)
            self.log(f"{per_step:.3f} s per step: planning {self.total} steps")
        return True
