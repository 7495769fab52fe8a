"""Per-word prosody (SyncSC §III-C side information): mean F0 and energy, and their few-bit quantiser.

F0 comes from WORLD's DIO + StoneMask (pyworld) run on each word's own span (plus a little margin), so
the cost follows the speech and never the whole input; the word's F0 is the geometric mean over voiced
frames (the mean in semitones, the scale the quantiser uses), or None when no frame is voiced. Energy
is the word's RMS level in dB re full scale.

Bit allocation per word (duration is sent with the timing, see ``rtp.text_payload``):

* F0: 5 bits. Code 0 = unvoiced; codes 1..31 = round(12·log2(f0/f0_ref)) + 16, i.e. whole semitones
  from −15 to +15 around the stream's reference (default 140 Hz: 58–330 Hz), error ≤ ½ semitone.
* energy: 4 bits. Code 0 = unknown or below −64 dBFS (decoded as None); codes 1..15 = −66 + 4·code dB, i.e. −62..−6 dBFS
  in 4 dB steps, error ≤ 2 dB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from semtalk.records import Word

F0_FLOOR, F0_CEIL = 60.0, 500.0
FRAME_MS = 5.0
MARGIN_S = 0.03  # DIO needs a little context around a short word


def _word_f0(segment: np.ndarray, rate: int) -> float | None:
    import pyworld

    x = segment.astype(np.float64)
    f0, t = pyworld.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, t, rate)
    voiced = f0[f0 > 0]
    return float(np.exp(np.mean(np.log(voiced)))) if len(voiced) else None


def _energy_db(segment: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(segment, dtype=np.float64)))) if len(segment) else 0.0
    return 20.0 * math.log10(max(rms, 1e-10))


def measure_prosody(audio: np.ndarray, rate: int, words: list[Word]) -> list[Word]:
    """``words`` with ``f0`` (Hz or None) and ``energy`` (dB RMS) measured on ``audio`` (mono, float)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    out = []
    for w in words:
        a, b = max(0, round(w.start * rate)), min(len(audio), round(w.end * rate))
        if b <= a:
            out.append(replace(w, f0=None, energy=None))
            continue
        m = round(MARGIN_S * rate)
        f0 = _word_f0(audio[max(0, a - m):min(len(audio), b + m)], rate)
        out.append(replace(w, f0=f0, energy=_energy_db(audio[a:b])))
    return out


@dataclass(frozen=True)
class ProsodyQuantizer:
    """Few-bit codes for a word's F0 and energy (allocation in the module docstring)."""

    f0_ref: float = 140.0
    f0_bits: int = 5
    energy_bits: int = 4
    energy_floor_db: float = -66.0
    energy_step_db: float = 4.0

    @property
    def bits(self) -> int:
        return self.f0_bits + self.energy_bits

    def quantize(self, f0: float | None, energy: float | None) -> tuple[int, int]:
        top_f0, top_e = (1 << self.f0_bits) - 1, (1 << self.energy_bits) - 1
        half = 1 << (self.f0_bits - 1)
        f0_code = 0 if not f0 or f0 <= 0 else min(max(round(12 * math.log2(f0 / self.f0_ref)) + half, 1), top_f0)
        e_code = 0
        if energy is not None:
            e_code = min(max(round((energy - self.energy_floor_db) / self.energy_step_db), 0), top_e)
        return f0_code, e_code

    def dequantize(self, f0_code: int, energy_code: int) -> tuple[float | None, float | None]:
        half = 1 << (self.f0_bits - 1)
        f0 = self.f0_ref * 2 ** ((f0_code - half) / 12) if f0_code else None
        energy = self.energy_floor_db + self.energy_step_db * energy_code if energy_code else None
        return f0, energy
