"""The lip track: shipped weights, speech opens the mouth and silence closes it, streaming equals offline."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators import lips

RATE = lips.RATE


def vowel(seconds: float, f0: float = 120.0, formants: tuple[tuple[float, float], ...] = ((700, 130), (1220, 70),
                                                                                           (2600, 160))) -> np.ndarray:
    """An open vowel (/a/-like): harmonics of ``f0`` shaped by formant resonances, with 30-ms ramps."""
    t = np.arange(round(seconds * RATE)) / RATE
    x = np.zeros_like(t)
    for h in range(1, int(4000 / f0)):
        gain = sum(1 / (1 + ((h * f0 - f) / bw) ** 2) for f, bw in formants)
        x += gain * np.sin(2 * np.pi * h * f0 * t + 0.7 * h)
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.03)
    return (0.1 * x / np.abs(x).max() * ramp).astype(np.float32)


def bursts(pattern: list[tuple[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Vowel ("v") and digital silence ("s") segments; the audio and which frames (25 fps) lie inside a vowel,
    30 ms clear of its edges."""
    audio = np.concatenate([vowel(d) if kind == "v" else np.zeros(round(d * RATE), np.float32)
                            for kind, d in pattern])
    t = np.arange(int(np.ceil(audio.size / RATE * 25))) / 25
    inside = np.zeros(t.size, bool)
    start = 0.0
    for kind, d in pattern:
        if kind == "v":
            inside |= (t > start + 0.03) & (t < start + d - 0.03)
        start += d
    return audio, inside


PATTERN = [("s", 1.0), ("v", 0.4), ("s", 0.6), ("v", 0.4), ("s", 0.6), ("v", 0.5), ("s", 1.0)]


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, np.ndarray]:
    return bursts(PATTERN)


def test_shipped_weights_load_offline():
    model = lips.LipModel.load()
    assert model.encoder.shape == (len(lips.ENCODER_OFFSETS), lips.ENCODER_DIM)
    assert model.mel.shape == (len(lips.MEL_OFFSETS), lips.MEL_BANDS)
    assert np.isfinite(model.encoder).all() and np.isfinite(model.mel).all()
    assert model.scale > 0 and model.rest < 0  # at rest the mouth is below its mean while talking


def test_one_value_per_frame_at_any_rate(speech):
    audio, _ = speech
    z = lips.track(audio)
    assert z.shape == (int(np.ceil(audio.size / RATE * 25)),) and np.isfinite(z).all()
    assert lips.track(audio[::2], rate=8000).size == z.size
    assert lips.track(audio, fps=30.0).size == int(np.ceil(audio.size / RATE * 30))


def test_mouth_opens_on_vowels_and_rests_in_silence(speech):
    audio, inside = speech
    z = lips.track(audio)
    assert z[inside].mean() > z[~inside].mean() + 0.8
    assert z[inside].mean() > 0.3 and z[:20].max() < 0  # the first second is silence
    rest = lips.shipped_model().rest
    np.testing.assert_allclose(lips.track(np.zeros(2 * RATE, np.float32)), rest)  # digital silence: at rest


def test_stream_gives_exactly_the_offline_track(speech):
    audio, _ = speech
    offline = lips.track(audio)
    rng = np.random.default_rng(0)
    stream, out, at = lips.MouthStream(), [], 0
    while at < audio.size:
        n = int(rng.integers(1, 6000))
        out += stream.push(audio[at: at + n])
        at += n
    out += stream.finish()
    np.testing.assert_array_equal(np.array(out), offline)


def test_stream_lookahead_is_bounded_and_memory_too():
    audio = np.tile(vowel(0.5), 16)  # 8 s
    stream = lips.MouthStream()
    pushed = frames = 0
    for chunk in np.array_split(audio, 80):  # 0.1 s chunks
        frames += len(stream.push(chunk))
        pushed += chunk.size
        heard = pushed / RATE
        # every frame whose time plus the lookahead has been heard is out; none whose window is still open
        assert frames >= int((heard - lips.LOOKAHEAD_S) * 25) + 1
        assert frames <= max(0, int((heard - lips.RIGHT_S) * 25) + 1)
        assert stream._features._audio.size <= (lips.CONTEXT_S + lips.LOOKAHEAD_S + 0.1) * RATE
    assert frames + len(stream.finish()) == 200


def test_fit_learns_open_mouth_on_vowels_and_round_trips(tmp_path):
    pieces = [bursts([("s", 0.5), ("v", 0.4), ("s", 0.4), ("v", 0.3), ("s", 0.4)]),
              bursts([("s", 0.3), ("v", 0.5), ("s", 0.5), ("v", 0.4), ("s", 0.3)])]
    model = lips.fit([(audio, inside.astype(float)) for audio, inside in pieces])
    model.save(tmp_path / "lips.npz")
    loaded = lips.LipModel.load(tmp_path / "lips.npz")
    audio, inside = bursts(PATTERN)
    z = lips.track(audio, model=loaded)
    assert z[inside].mean() > z[~inside].mean() + 1.0
    np.testing.assert_allclose(z, lips.track(audio, model=model), rtol=1e-5, atol=1e-5)  # float32 weights
