from __future__ import annotations

import wave

import numpy as np
import pytest

from semtalk.media.reader import probe, read_audio, read_video
from semtalk.media.writer import VideoWriter, mux_audio, write_wav
from tests.unit.media.media_clips import LEVELS, av, index_of, synthetic_frame


def tone(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def stream_durations(path) -> dict[str, float]:
    with av.open(str(path)) as c:
        return {s.type: float(s.duration * s.time_base) for s in c.streams}


@pytest.mark.parametrize("audio_seconds", [0.5, 1.2, 3.0])
def test_audio_is_trimmed_or_padded_to_the_video(tmp_path, audio_seconds):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=25, audio_rate=16000) as w:
        w.write_audio(tone(audio_seconds))
        for i in range(30):
            w.write(synthetic_frame(i))
    assert w.n_frames == 30
    info = probe(path)
    assert info.n_frames == 30 and info.has_audio and info.audio_rate == 16000
    durations = stream_durations(path)
    assert durations["video"] == pytest.approx(1.2)
    assert abs(durations["audio"] - durations["video"]) <= 1 / 25
    frames = list(read_video(path))
    assert [index_of(f) for f in frames] == [i % LEVELS for i in range(30)]
    assert read_audio(path, rate=16000).size == 19200


def test_audio_pushed_in_chunks_matches_whole(tmp_path):
    path = tmp_path / "chunks.mp4"
    audio = tone(1.0)
    with VideoWriter(path, fps=25, audio_rate=16000) as w:
        for i in range(25):
            w.write_audio(audio[i * 640 : (i + 1) * 640])
            w.write(synthetic_frame(i))
    back = read_audio(path, rate=16000)
    assert back.size == 16000
    # AAC is lossy; the tone survives with its level.
    assert np.sqrt(np.mean(back[2000:-2000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_frames_survive_encoding(tmp_path):
    path = tmp_path / "video.mp4"
    frames = [synthetic_frame(i, 64, 96) for i in range(12)]
    with VideoWriter(path, fps=29.97) as w:
        for f in frames:
            w.write(f)
    info = probe(path)
    assert (info.width, info.height, info.n_frames, info.has_audio) == (96, 64, 12, False)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    back = list(read_video(path, fps=30000 / 1001))
    assert len(back) == 12
    err = np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(frames, back, strict=True)])
    assert err < 2.0


def test_odd_frame_size_is_refused(tmp_path):
    with (
        VideoWriter(tmp_path / "odd.mp4") as w,
        pytest.raises(ValueError, match=r"^frame size must be even for yuv420p, got 63x48$"),
    ):
        w.write(np.zeros((48, 63, 3), np.uint8))


def test_frame_size_must_not_change(tmp_path):
    with VideoWriter(tmp_path / "v.mp4") as w:
        w.write(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(ValueError, match=r"^frame size 32x48 differs from the first frame's 64x48$"):
            w.write(np.zeros((48, 32, 3), np.uint8))


def test_bad_frames_and_audio_are_refused(tmp_path):
    with VideoWriter(tmp_path / "v.mp4") as w:
        with pytest.raises(ValueError, match=r"^expected an HxWx3 uint8 RGB frame, got float32 \(4, 4, 3\)$"):
            w.write(np.zeros((4, 4, 3), np.float32))
        with pytest.raises(ValueError, match="has no audio track"):
            w.write_audio(np.zeros(10, np.float32))


def test_write_wav_is_pcm16(tmp_path):
    path = tmp_path / "a" / "x.wav"
    audio = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], np.float32)
    write_wav(path, audio, 16000)
    with wave.open(str(path)) as f:
        assert (f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()) == (1, 2, 16000, 6)
        pcm = np.frombuffer(f.readframes(6), "<i2")
    np.testing.assert_array_equal(pcm, [0, 16384, -16384, 32767, -32767, 32767])


def test_an_error_in_the_body_is_not_masked(tmp_path):
    with pytest.raises(KeyError, match="boom"), VideoWriter(tmp_path / "v.mp4", audio_rate=16000) as w:
        w.write(np.zeros((16, 16, 3), np.uint8))
        raise KeyError("boom")


@pytest.mark.parametrize("audio_seconds", [0.0, 0.7, 1.2, 2.5])
def test_muxed_audio_matches_the_video_and_video_is_copied(tmp_path, audio_seconds):
    silent = tmp_path / "video.mp4"
    with VideoWriter(silent, fps=25) as w:
        for i in range(30):
            w.write(synthetic_frame(i))
    out = tmp_path / "muxed.mp4"
    mux_audio(silent, tone(audio_seconds), 16000, out)
    durations = stream_durations(out)
    assert durations["video"] == pytest.approx(1.2)
    assert abs(durations["audio"] - durations["video"]) <= 1 / 25
    assert [index_of(f) for f in read_video(out)] == [i % LEVELS for i in range(30)]
    audio = read_audio(out, rate=16000)
    assert audio.size == 19200
    heard = np.abs(audio[: round(min(audio_seconds, 1.2) * 16000) - 1600]).max(initial=0.0)
    assert (heard > 0.3) == (audio_seconds > 0.2)
    assert np.abs(audio[round(audio_seconds * 16000) + 1600:]).max(initial=0.0) < 0.02
