"""Speaker embeddings (resemblyzer's d-vectors; its weights ship in the package)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from semtalk.dsp.signal import resample
from semtalk.dsp.world import ANALYSIS_RATE
from semtalk.errors import MissingDependencyError

EMBED_DIM = 256


@lru_cache(maxsize=1)
def speaker_encoder():
    """Resemblyzer's d-vector encoder (weights ship in the package), loaded once, on the CPU."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise MissingDependencyError("resemblyzer", "speaker embeddings") from exc
    return VoiceEncoder(device="cpu", verbose=False)


def speaker_embedding(audio: np.ndarray, rate: int) -> np.ndarray:
    """Unit-norm 256-d speaker embedding of an utterance (resemblyzer's preprocessing: VAD, level)."""
    from resemblyzer import preprocess_wav

    encoder = speaker_encoder()
    wav = preprocess_wav(resample(audio, rate, ANALYSIS_RATE).astype(np.float32))
    if wav.size < ANALYSIS_RATE // 10:  # VAD kept (almost) nothing: embed the raw signal instead
        wav = resample(audio, rate, ANALYSIS_RATE).astype(np.float32)
    return encoder.embed_utterance(wav).astype(np.float32)

