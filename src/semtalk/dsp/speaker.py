"""Speaker embeddings (resemblyzer's d-vectors; its weights ship in the package)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from semtalk.dsp.signal import resample, windows
from semtalk.dsp.world import ANALYSIS_RATE
from semtalk.errors import MissingDependencyError

EMBED_DIM = 256
MIN_SPEECH_S = 0.1  # less speech than this embeds the noise around it, not a voice


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


def voice_activity(audio: np.ndarray, rate: int) -> np.ndarray:
    """The speech of an utterance at 16 kHz as the encoder takes it: resemblyzer's preprocessing (level to
    −30 dBFS, WebRTC VAD over 30 ms windows, non-speech cut out). Silence and low-level noise come back empty.

    Resemblyzer packs the whole signal into Python bytes and per-window lists for its VAD (+0.6 GB for a
    10-minute call), so a long signal is preprocessed ``VAD_CHUNK_S`` at a time (each window levelled on its
    own) and the speech concatenated; a signal under two windows is preprocessed whole, as before."""
    from resemblyzer import preprocess_wav

    wav = resample(audio, rate, ANALYSIS_RATE).astype(np.float32)
    parts = [preprocess_wav(wav[a:b]) for a, b in windows(wav.size, round(VAD_CHUNK_S * ANALYSIS_RATE))
             if np.any(wav[a:b])]  # its level step divides by the signal's RMS: a silent window has no speech
    return np.concatenate(parts) if parts else wav[:0]


VAD_CHUNK_S = 60.0


EMBED_CHUNK_S = 60.0  # longer speech is embedded this much at a time (the encoder batches every partial at once)


def embed_speech(speech: np.ndarray) -> np.ndarray:
    """Unit-norm 256-d d-vector of 16 kHz speech (e.g. :func:`voice_activity`'s output).

    Resemblyzer runs every 1.6-s partial of an utterance through its LSTM in one batch (1 GB for 10 minutes of
    speech), so speech longer than two ``EMBED_CHUNK_S`` is embedded a chunk at a time and the chunks' vectors
    averaged by length, as the encoder itself averages its partials, then normalised."""
    spans = windows(speech.size, round(EMBED_CHUNK_S * ANALYSIS_RATE))
    vectors = [speaker_encoder().embed_utterance(speech[a:b]) * (b - a) for a, b in spans]
    v = np.sum(vectors, axis=0)
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def speaker_embedding(audio: np.ndarray, rate: int) -> np.ndarray:
    """Unit-norm 256-d speaker embedding of an utterance; where the VAD keeps under ``MIN_SPEECH_S`` the raw
    signal is embedded instead, so an enrollment always gets a profile."""
    speech = voice_activity(audio, rate)
    if speech.size < MIN_SPEECH_S * ANALYSIS_RATE:
        speech = resample(audio, rate, ANALYSIS_RATE).astype(np.float32)
    return embed_speech(speech)
