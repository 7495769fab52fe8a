"""Voice conversion: moves piper's speech toward the caller's voice profile in the knowledge base.

SyncSC sends words and timing, not audio; the receiver speaks them with one fixed piper voice.
To make that voice sound like the caller, the KB (shared once at call start) carries a small
profile learned from a few seconds of enrollment speech, and the receiver runs every synthesised
utterance through :func:`voice_adapter`:

    piper audio ──WORLD──► F0, spectral envelope, aperiodicity
                             │          │
         log-F0: (x-μp)/σp·σs+μs    mel-cepstrum c: z=(c-μp)/σp, ĉ = μs + σs·(z + W·[z₋ₖ z z₊ₖ 1])
                             │          │  (the envelope is filtered by exp(ĉ-c), keeping piper's fine detail)
                             └──WORLD synthesis──► audio at the caller's rate

The cepstral mapping is classic parallel voice conversion: piper says the enrollment transcript,
its frames are aligned to the speaker's by DTW, and a ridge regression learns the residual on top
of the per-dimension mean/variance mapping. Strong regularisation pulls ``W`` to zero, i.e. to the
statistics-only mapping, which is the default (``W`` = 0): on real clips the regression lowers MCD
but not speaker similarity, and costs intelligibility (see ``build_voice_profile``). Mel-cepstra
are the standard all-pass-warped ones (α = 0.42 at 16 kHz), the space ``semtalk.metrics.audio.mcd_db``
measures distances in (restricted to the band both signals carry).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from semtalk.dsp.signal import resample
from semtalk.dsp.world import ANALYSIS_RATE, FRAME_MS, mcep_to_log_amplitude, pyworld_module, world_analysis
from semtalk.kb.voice import VoiceProfile, context_features


def voice_adapter(profile: VoiceProfile) -> Callable[[np.ndarray, int], np.ndarray]:
    """A deterministic ``adapt(audio, rate) -> audio`` moving piper speech toward the profiled voice.

    Output has the input's rate and length; it is band-limited to ``ANALYSIS_RATE / 2`` (8 kHz),
    the band the enrollment speech told us about.
    """

    def adapt(audio: np.ndarray, rate: int) -> np.ndarray:
        if audio.size < ANALYSIS_RATE * FRAME_MS / 1000 * 4:  # too short for WORLD: pass through
            return np.asarray(audio, dtype=np.float32)
        pw = pyworld_module()
        src = world_analysis(audio, rate)
        voiced = src.f0 > 0
        f0 = src.f0.copy()
        z_f0 = (np.log(f0[voiced]) - profile.source_lf0_mean) / profile.source_lf0_std
        f0[voiced] = np.exp(profile.lf0_mean + profile.lf0_std * z_f0)
        z = (src.mcep[:, 1:] - profile.source_mcep_mean) / profile.source_mcep_std
        converted = profile.mcep_mean + profile.mcep_std * (z + context_features(z) @ profile.mapping.T)
        diff = np.zeros_like(src.mcep)
        diff[:, 1:] = converted - src.mcep[:, 1:]
        sp = src.sp * np.exp(2.0 * mcep_to_log_amplitude(diff, src.sp.shape[1]))
        out = pw.synthesize(f0, np.ascontiguousarray(sp), src.ap, ANALYSIS_RATE, FRAME_MS)
        out = resample(out, ANALYSIS_RATE, rate)
        out = np.pad(out, (0, max(0, audio.size - out.size)))[: audio.size]
        gain = np.sqrt(np.mean(np.square(audio, dtype=np.float64)) / max(np.mean(out**2), 1e-12))
        return np.clip(out * gain, -1.0, 1.0).astype(np.float32)

    return adapt
