"""Voice profile bytes, the WORLD/mel-cepstrum helpers and the piper→speaker adapter.

The "speaker" is made by the test itself: piper's own speech resynthesised by WORLD with F0 raised
by half and a brighter envelope, so the true conversion is known.
"""

from __future__ import annotations

import dataclasses
import math
import struct

import numpy as np
import pytest

from semtalk.dsp import world
from semtalk.enroll.voice import build_voice_profile
from semtalk.generators.tts import synthesize
from semtalk.generators.voice import voice_adapter
from semtalk.kb.voice import VoiceProfile

ENROLL_TEXT = "Everybody was familiar with ideas like the black market because of their wartime experiences."
HELD_TEXT = "Ask not what your country can do for you, ask what you can do for your country."
F0_RATIO = 1.5


def _mean_lf0(audio: np.ndarray, rate: int) -> float:
    f0 = world.world_analysis(audio, rate).f0
    return float(np.log(f0[f0 > 0]).mean())


@pytest.fixture(scope="module")
def speaker() -> np.ndarray:
    """Piper's enrollment sentence at 16 kHz with F0 × 1.5 and a tilt rising to +6 dB at 8 kHz."""
    pyworld = world.pyworld_module()
    syn = synthesize(ENROLL_TEXT)
    w = world.world_analysis(syn.audio, syn.rate)
    freqs = np.linspace(0, world.ANALYSIS_RATE / 2, w.sp.shape[1])
    tilt = (1.0 + np.maximum(freqs - 1000.0, 0.0) / 7000.0) ** 2
    out = pyworld.synthesize(w.f0 * F0_RATIO, np.ascontiguousarray(w.sp * tilt), w.ap, world.ANALYSIS_RATE,
                             world.FRAME_MS)
    return (out / np.abs(out).max() * 0.5).astype(np.float32)


@pytest.fixture(scope="module")
def profile(speaker: np.ndarray) -> VoiceProfile:
    return build_voice_profile(speaker, world.ANALYSIS_RATE, ENROLL_TEXT, parallel=True)


@pytest.fixture(scope="module")
def held_out():
    return synthesize(HELD_TEXT)


def _assert_same(a: VoiceProfile, b: VoiceProfile) -> None:
    for field in dataclasses.fields(VoiceProfile):
        np.testing.assert_allclose(getattr(a, field.name), getattr(b, field.name), rtol=1e-6, atol=1e-6)


def test_profile_round_trips_through_bytes_and_is_small(profile: VoiceProfile) -> None:
    data = profile.to_bytes()
    assert data[:4] == b"STVP"
    assert len(data) < 50_000
    _assert_same(VoiceProfile.from_bytes(data), profile)
    assert VoiceProfile.from_bytes(data).to_bytes() == data


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda d: d[:5], "voice profile too short: 5 bytes"),
        (lambda d: b"XXXX" + d[4:], "not a voice profile (bad magic)"),
        (lambda d: d[:4] + b"\x07" + d[5:], "unsupported voice profile version 7"),
        (lambda d: d[:5] + struct.pack("<H", 12) + d[7:], "voice profile order 12/73 does not match 24/73"),
        (lambda d: d[:-4], "voice profile length {n} does not match {m}"),
        (lambda d: d[:-4] + struct.pack("<f", math.nan), "voice profile holds non-finite values"),
    ],
)
def test_malformed_profile_bytes_raise_exact_value_error(profile: VoiceProfile, mangle, message: str) -> None:
    data = profile.to_bytes()
    bad = mangle(data)
    with pytest.raises(ValueError) as info:
        VoiceProfile.from_bytes(bad)
    assert str(info.value) == message.format(n=len(bad), m=len(data))


def test_profile_learns_the_speakers_pitch_and_embedding(profile: VoiceProfile, speaker: np.ndarray) -> None:
    assert profile.lf0_mean - profile.source_lf0_mean == pytest.approx(math.log(F0_RATIO), abs=0.1)
    assert np.linalg.norm(profile.embedding) == pytest.approx(1.0, abs=1e-3)
    assert np.any(profile.mapping != 0)
    assert profile.mcep_mean.shape == (world.ORDER,) and profile.mapping.shape == (world.ORDER, 3 * world.ORDER + 1)


def test_profile_without_transcript_holds_statistics_only(speaker: np.ndarray, profile: VoiceProfile) -> None:
    stats = build_voice_profile(speaker, world.ANALYSIS_RATE, "  ", parallel=True)
    assert not np.any(stats.mapping)
    assert not np.any(build_voice_profile(speaker, world.ANALYSIS_RATE, ENROLL_TEXT).mapping)
    assert stats.lf0_mean == pytest.approx(profile.lf0_mean)


def test_adapter_is_deterministic_and_keeps_rate_and_length(profile: VoiceProfile, held_out) -> None:
    adapt = voice_adapter(profile)
    a, b = adapt(held_out.audio, held_out.rate), adapt(held_out.audio, held_out.rate)
    assert a.dtype == np.float32 and a.shape == held_out.audio.shape
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).max() <= 1.0 and np.std(a) > 0.01


def test_adapter_moves_mean_log_f0_to_the_profile(profile: VoiceProfile, held_out) -> None:
    before = _mean_lf0(held_out.audio, held_out.rate)
    after = _mean_lf0(voice_adapter(profile)(held_out.audio, held_out.rate), held_out.rate)
    assert abs(before - profile.lf0_mean) > 0.25
    assert abs(after - profile.lf0_mean) < 0.15


def test_identity_profile_leaves_the_voice_nearly_unchanged(profile: VoiceProfile, held_out) -> None:
    from semtalk.metrics.audio import mcd_db

    identity = dataclasses.replace(profile, lf0_mean=profile.source_lf0_mean, lf0_std=profile.source_lf0_std,
                                   mcep_mean=profile.source_mcep_mean, mcep_std=profile.source_mcep_std,
                                   mapping=np.zeros_like(profile.mapping))
    same = voice_adapter(identity)(held_out.audio, held_out.rate)
    shifted = voice_adapter(profile)(held_out.audio, held_out.rate)
    assert mcd_db(held_out.audio, same, held_out.rate) < 3.0  # WORLD resynthesis alone costs ~2.4 dB
    assert mcd_db(held_out.audio, shifted, held_out.rate) > mcd_db(held_out.audio, same, held_out.rate)


def test_mel_cepstrum_of_high_order_inverts_to_the_envelope() -> None:
    freqs = np.linspace(0, np.pi, 257)
    log_amp = np.stack([np.cos(3 * freqs) - 0.5 * freqs, np.sin(freqs) ** 2])
    mc = world.mel_cepstrum(np.exp(2 * log_amp), order=200)
    np.testing.assert_allclose(world.mcep_to_log_amplitude(mc, 257), log_amp, atol=0.02)
