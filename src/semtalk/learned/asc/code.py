"""ASC as a codec: audio → exact complex symbols (``encode``), received symbols → audio (``decode``), numpy in/out.

Streaming without state: audio is cut into chunks of ``CHUNK_SAMPLES`` (0.2 s; the last one zero-padded) and
each chunk is coded alone into ``CHUNK_SYMBOLS`` = 800 unit-power complex symbols, so the code of a signal is
the concatenation of its chunks' codes and a sender may code any whole number of chunks at a time. ``n``
samples take ``ceil(n / 3200) · 800`` symbols: exactly ``SYMBOLS_PER_SECOND`` × duration when the duration is a
multiple of 0.2 s. Send the symbols through ``semtalk.phy.analog`` (its ``transmit``, for evaluation).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from semtalk.learned.asc.config import CHUNK_SAMPLES, CHUNK_SYMBOLS, AscConfig
from semtalk.learned.weights import shipped

WEIGHTS = "asc.pt"
BATCH_CHUNKS = 50  # chunks per network call (10 s of audio): bounds the memory of long signals


def symbols_for(n_samples: int) -> int:
    """Complex symbols that ``n_samples`` of audio take."""
    return -(-n_samples // CHUNK_SAMPLES) * CHUNK_SYMBOLS


class AscCodec:
    """A trained ``AscModel`` (eval mode) behind numpy ``encode`` / ``decode``; deterministic."""

    def __init__(self, model):
        self.model = model.eval()

    def _run(self, fn, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return np.concatenate([fn(torch.from_numpy(x[i:i + BATCH_CHUNKS])).numpy()
                                   for i in range(0, len(x), BATCH_CHUNKS)]) if len(x) else x

    def encode(self, audio: np.ndarray) -> np.ndarray:
        """Mono 16-kHz audio (n,) → complex64 symbols (``symbols_for(n)``,), unit mean power per chunk."""
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        chunks = np.zeros((symbols_for(x.size) // CHUNK_SYMBOLS, CHUNK_SAMPLES), np.float32)
        chunks.reshape(-1)[:x.size] = x
        return self._run(self.model.transmit, chunks).astype(np.complex64).reshape(-1)

    def decode(self, symbols: np.ndarray, n_samples: int) -> np.ndarray:
        """Received (equalised) symbols → float32 audio of ``n_samples``; the symbols must cover them exactly."""
        s = np.asarray(symbols, dtype=np.complex64).reshape(-1)
        if s.size != symbols_for(n_samples):
            raise ValueError(f"{n_samples} samples take {symbols_for(n_samples)} ASC symbols, got {s.size}")
        out = self._run(self.model.receive, s.reshape(-1, CHUNK_SYMBOLS))
        return out.reshape(-1)[:n_samples].astype(np.float32)


@lru_cache(maxsize=1)
def load_asc() -> AscCodec:
    """The shipped ASC (float32 on CPU, eval mode), built once."""
    from semtalk.learned.asc.model import AscModel

    bundle = shipped(WEIGHTS)
    model = AscModel(AscConfig(**bundle["config"]))
    model.load_state_dict({k: v.float() for k, v in bundle["state"].items()})
    return AscCodec(model)
