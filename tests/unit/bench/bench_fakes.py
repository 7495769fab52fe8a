"""Fake bench methods for the harness tests: importable by Dask worker processes (as tests.unit.bench.bench_fakes:
the repository root is on their sys.path, inherited from pytest), deterministic, countable."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from semtalk.bench.runner import BenchEnv, Task


def fake_method(task: Task, env: BenchEnv) -> dict:
    """Seeded numbers from the condition; leaves one file per call in ``work/calls`` to count runs."""
    calls = Path(env.work) / "calls"
    calls.mkdir(parents=True, exist_ok=True)
    (calls / f"{os.getpid()}-{uuid.uuid4().hex}").touch()
    p = task.params
    if p.get("fail"):
        raise RuntimeError("asked to fail")
    rng = np.random.default_rng([task.seed, round(1000 * p["loss"]), len(task.clip)])
    return {"codec": "fake", "kbps": float(rng.uniform(1, 10)), "psnr": float(rng.uniform(20, 40)),
            "ssim": np.float64(rng.uniform(0.5, 1.0)), "frames": 10, "floor": False, "ms_per_frame": 1.0}


def calls(env: BenchEnv) -> int:
    folder = Path(env.work) / "calls"
    return len(list(folder.iterdir())) if folder.is_dir() else 0
