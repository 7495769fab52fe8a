"""Where a clip's prepared files live in the bench work folder, and how cells write them.

``syncsc.prepare`` builds them once per clip; the cells (``codec_cells``, ``loss_cells``, ``text_cells``)
and the suite read them. Kept below all of those so none of them imports another for a path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semtalk.bench.runner import BenchEnv

THUMB = 128  # thumbnail side in the report


def kb_path(env: BenchEnv, clip: str) -> Path:
    return env.clip_dir(clip) / "kb.stkb"


def crops_path(env: BenchEnv, clip: str) -> Path:
    return env.clip_dir(clip) / "crops.npz"


def save_thumb(frame: np.ndarray, path: Path) -> str:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).resize((THUMB, THUMB), Image.Resampling.LANCZOS).save(path)
    return str(path)


def thumb_index(n_heldout: int) -> int:
    return n_heldout // 2
