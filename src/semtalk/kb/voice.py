"""The speaker's voice profile in the knowledge base: F0 and mel-cepstrum statistics of the caller and of
piper, an optional cepstral mapping, and a speaker embedding (8 KB).

It is built at enrollment (``semtalk.enroll.voice``) and applied by the receiver's voice conversion
(``semtalk.generators.voice``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from semtalk.dsp.speaker import EMBED_DIM
from semtalk.dsp.world import F0_CEIL, F0_FLOOR, ORDER

CONTEXT = 4  # frames (20 ms) either side fed to the cepstral mapping
MAGIC = b"STVP"
VERSION = 1
_HEADER = struct.Struct("<4sBHHH")  # magic, version, order, mapping columns, embedding dim
N_COLS = 3 * ORDER + 1
# Bounds a profile from a peer must meet: log-F0 statistics of F0 that WORLD can track, and cepstral
# statistics and mapping weights far above any voice's (|c| ~ 1) but small enough that the conversion's
# exp(2·log amplitude) stays finite. The stds divide, so they must be positive.
LF0_RANGE = (math.log(F0_FLOOR), math.log(F0_CEIL))
CEPSTRAL_LIMIT = 10.0


@dataclass(frozen=True)
class VoiceProfile:
    """What the KB holds about the caller's voice (serialised by :meth:`to_bytes`, ~8 KB).

    ``lf0_*``/``mcep_*`` are the speaker's statistics over voiced / speech frames, ``source_*`` the
    same for the piper voice measured on the same analysis, ``mapping`` the (ORDER, 3·ORDER+1)
    residual regression (all zero when no transcript was available) and ``embedding`` the speaker's
    resemblyzer d-vector, for similarity checks.
    """

    lf0_mean: float
    lf0_std: float
    mcep_mean: np.ndarray  # (ORDER,) c1..cORDER
    mcep_std: np.ndarray
    source_lf0_mean: float
    source_lf0_std: float
    source_mcep_mean: np.ndarray
    source_mcep_std: np.ndarray
    mapping: np.ndarray  # (ORDER, 3*ORDER+1)
    embedding: np.ndarray  # (EMBED_DIM,) unit norm

    def to_bytes(self) -> bytes:
        """``STVP`` | u8 version | u16 order | u16 columns | u16 embedding dim | float32 LE arrays."""
        parts = [
            np.array([self.lf0_mean, self.lf0_std, self.source_lf0_mean, self.source_lf0_std]),
            self.mcep_mean, self.mcep_std, self.source_mcep_mean, self.source_mcep_std,
            self.mapping.reshape(-1), self.embedding,
        ]
        body = b"".join(np.asarray(p, dtype="<f4").tobytes() for p in parts)
        return _HEADER.pack(MAGIC, VERSION, ORDER, N_COLS, len(self.embedding)) + body

    @classmethod
    def from_bytes(cls, data: bytes) -> VoiceProfile:
        if len(data) < _HEADER.size:
            raise ValueError(f"voice profile too short: {len(data)} bytes")
        magic, version, order, cols, dim = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ValueError("not a voice profile (bad magic)")
        if version != VERSION:
            raise ValueError(f"unsupported voice profile version {version}")
        if order != ORDER or cols != N_COLS:
            raise ValueError(f"voice profile order {order}/{cols} does not match {ORDER}/{N_COLS}")
        if dim != EMBED_DIM:
            raise ValueError(f"voice profile embedding has {dim} values, expected {EMBED_DIM}")
        n = 4 + 4 * order + order * cols + dim
        if len(data) != _HEADER.size + 4 * n:
            raise ValueError(f"voice profile length {len(data)} does not match {_HEADER.size + 4 * n}")
        v = np.frombuffer(data, dtype="<f4", offset=_HEADER.size).astype(np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError("voice profile holds non-finite values")
        vecs = np.split(v[4:4 + 4 * order], 4)
        mapping = v[4 + 4 * order:4 + 4 * order + order * cols].reshape(order, cols)
        checks = (("lf0 means", v[[0, 2]], *LF0_RANGE, False),
                  ("lf0 stds", v[[1, 3]], 0.0, LF0_RANGE[1] - LF0_RANGE[0], True),
                  ("|mcep means|", np.abs(np.concatenate(vecs[0::2])), 0.0, CEPSTRAL_LIMIT, False),
                  ("mcep stds", np.concatenate(vecs[1::2]), 0.0, CEPSTRAL_LIMIT, True),
                  ("|mapping|", np.abs(mapping), 0.0, CEPSTRAL_LIMIT, False))
        for name, values, lo, hi, positive in checks:
            if values.min() < lo or values.max() > hi or (positive and values.min() <= lo):
                raise ValueError(f"voice profile {name} must lie in {'(' if positive else '['}{lo:.3g}, {hi:.3g}], "
                                 f"got {values.min():.3g}..{values.max():.3g}")
        return cls(float(v[0]), float(v[1]), vecs[0], vecs[1], float(v[2]), float(v[3]), vecs[2], vecs[3],
                   mapping, v[-dim:].astype(np.float32))



def context_features(z: np.ndarray) -> np.ndarray:
    """Regression inputs ``[z(t−k), z(t), z(t+k), 1]`` (edges repeated)."""
    t = np.arange(len(z))
    back, ahead = z[np.maximum(t - CONTEXT, 0)], z[np.minimum(t + CONTEXT, len(z) - 1)]
    return np.hstack([back, z, ahead, np.ones((len(z), 1))])

