"""Coded-frame sequences for the face-payload tests (importable by name from the test modules)."""

from __future__ import annotations

import numpy as np

from semtalk.records import CodedFrame

N_COEFFS, BITS, TAG = 16, 8, 0xAB


def random_walk(rng: np.random.Generator, n: int, first_index: int = 0, n_coeffs: int = N_COEFFS,
                bits: int = BITS) -> list[CodedFrame]:
    """Coded frames whose codes wander, with occasional full-range jumps and lost faces."""
    top = (1 << bits) - 1
    codes = rng.integers(0, top + 1, size=n_coeffs)
    frames = []
    for i in range(n):
        step = rng.integers(-3, 4, size=n_coeffs)
        codes = np.clip(codes + step, 0, top)
        jump = rng.random(n_coeffs) < 0.1
        codes[jump] = np.where(codes[jump] > top // 2, 0, top)  # 0 ↔ top
        frames.append(CodedFrame(first_index + i, codes.astype(np.uint16), bool(rng.random() > 0.2)))
    return frames
