"""Voice profiling at enrollment: the caller's F0 and cepstral statistics against piper's own
(``semtalk.kb.voice.VoiceProfile``), optionally a DTW-aligned cepstral regression, and a speaker embedding."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from semtalk.dsp.dtw import dtw_path
from semtalk.dsp.speaker import speaker_embedding
from semtalk.dsp.world import ORDER, WorldFrames, speech_frames, world_analysis
from semtalk.kb.voice import N_COLS, VoiceProfile, context_features

RIDGE = 2.0  # ridge strength per aligned frame (normalised units); large = close to statistics only
# Said by piper when the enrollment has no transcript, to measure piper's own statistics.
REFERENCE_TEXT = ("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
                  "It is easy to tell the depth of a well. These days a chicken leg is a rare dish.")



def _lf0_stats(f0: np.ndarray) -> tuple[float, float]:
    voiced = f0[f0 > 0]
    if voiced.size < 10:
        raise ValueError(f"too little voiced speech to profile the voice ({voiced.size} frames)")
    lf0 = np.log(voiced)
    return float(lf0.mean()), float(max(lf0.std(), 0.02))


def _mcep_stats(mcep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = mcep[speech_frames(mcep), 1:]
    return c.mean(0), np.maximum(c.std(0), 1e-3)




@lru_cache(maxsize=1)
def _piper_reference() -> WorldFrames:
    from semtalk.generators.tts import synthesize

    syn = synthesize(REFERENCE_TEXT)
    return world_analysis(syn.audio, syn.rate)


def _fit_mapping(src: WorldFrames, tgt: WorldFrames, src_stats: tuple, tgt_stats: tuple) -> np.ndarray:
    """Ridge regression of the speaker's normalised cepstra on piper's, residual to the identity.

    Speech frames are aligned by DTW on normalised cepstra, then re-aligned once with the first
    fit's conversion (alignment across speakers improves as the source moves toward the target).
    """
    keep_s, keep_t = speech_frames(src.mcep), speech_frames(tgt.mcep)
    zs = (src.mcep[:, 1:] - src_stats[0]) / src_stats[1]
    zt = (tgt.mcep[:, 1:] - tgt_stats[0]) / tgt_stats[1]
    x_all = context_features(zs)[keep_s]
    zs, zt = zs[keep_s], zt[keep_t]
    w = np.zeros((ORDER, N_COLS))
    for _ in range(2):
        i, j = dtw_path(zs + x_all @ w.T, zt)
        x, r = x_all[i], zt[j] - zs[i]
        w = np.linalg.solve(x.T @ x + RIDGE * len(i) * np.eye(N_COLS), x.T @ r).T
    return w


def build_voice_profile(audio: np.ndarray, rate: int, text: str | None, parallel: bool = False) -> VoiceProfile:
    """Profile a speaker from an enrollment segment (a few seconds) and, if known, what was said.

    With ``text``, piper says the same words, so piper's statistics are measured on the same
    phonetic content; ``parallel=True`` also learns the DTW-aligned regression. Measured on 8 real
    clips (3 s held out) it lowers MCD by a further 0.3 dB but does not raise speaker similarity and
    doubles re-ASR WER, hence off by default (``mapping`` zero). Without ``text``, piper's
    statistics come from a fixed text.
    """
    from semtalk.generators.tts import synthesize

    tgt = world_analysis(audio, rate)
    if text and text.strip():
        syn = synthesize(text)
        src = world_analysis(syn.audio, syn.rate)
    else:
        src = _piper_reference()
    t_lf0, s_lf0 = _lf0_stats(tgt.f0), _lf0_stats(src.f0)
    t_mc, s_mc = _mcep_stats(tgt.mcep), _mcep_stats(src.mcep)
    fit = parallel and bool(text and text.strip())
    mapping = _fit_mapping(src, tgt, s_mc, t_mc) if fit else np.zeros((ORDER, N_COLS))
    return VoiceProfile(t_lf0[0], t_lf0[1], t_mc[0], t_mc[1], s_lf0[0], s_lf0[1], s_mc[0], s_mc[1],
                        mapping, speaker_embedding(audio, rate))

