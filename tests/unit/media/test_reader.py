from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from semtalk.errors import SemtalkError
from semtalk.media.reader import MediaInfo, iter_audio, probe, read_audio, read_video
from semtalk.media.writer import write_wav
from tests.unit.media.media_clips import FORMATS, TONE_HZ, index_of

GRID = Path(__file__).parents[3].parent / "shared" / "data" / "faces_av" / "grid_bbaf2n.mpg"


def dominant_hz(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.argmax(spectrum) * rate / audio.size)


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_reads_every_container(clip, suffix):
    path = clip(suffix, n_frames=20)
    info = probe(path)
    assert (info.width, info.height, info.fps) == (64, 48, 25.0)
    assert info.has_audio and info.audio_channels == 1 and info.audio_rate == FORMATS[suffix][3]
    assert info.duration == pytest.approx(0.8, abs=0.05)
    assert abs(info.n_frames - 20) <= 1

    frames = list(read_video(path, fps=25))
    assert len(frames) == 20
    assert all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in frames)
    assert [index_of(f) for f in frames] == list(range(20))

    audio = read_audio(path, rate=16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == pytest.approx(0.8 * 16000, abs=0.05 * 16000)
    assert dominant_hz(audio, 16000) == pytest.approx(TONE_HZ, abs=5)


@pytest.mark.parametrize("suffix", ["mp4", "mpg"])
def test_resamples_frame_rate_by_timestamp(clip, suffix):
    path = clip(suffix, n_frames=20)
    assert [index_of(f) for f in read_video(path, fps=50)] == [i // 2 for i in range(40)]
    assert [index_of(f) for f in read_video(path, fps=12.5)] == list(range(0, 20, 2))


def test_start_and_duration_select_a_window(clip):
    path = clip("mp4", n_frames=20)
    assert [index_of(f) for f in read_video(path, start=0.2, duration=0.4)] == list(range(5, 15))
    assert list(read_video(path, duration=0)) == []
    assert read_audio(path, start=0.2, duration=0.4).size == 6400
    whole = read_audio(path)
    np.testing.assert_array_equal(read_audio(path, start=0.2, duration=0.4), whole[3200:9600])


def test_iter_audio_chunks_join_to_read_audio(clip):
    path = clip("mp4", n_frames=20)
    chunks = list(iter_audio(path, rate=16000, chunk_seconds=0.3))
    assert [c.size for c in chunks] == [4800, 4800, 3200]
    np.testing.assert_array_equal(np.concatenate(chunks), read_audio(path, rate=16000))


def test_clip_without_audio(clip):
    path = clip("mkv", n_frames=10, audio=False)
    info = probe(path)
    assert not info.has_audio and info.audio_rate == 0 and info.audio_channels == 0
    audio = read_audio(path)
    assert audio.dtype == np.float32 and audio.size == 0
    assert list(iter_audio(path)) == []


def test_missing_file_is_a_user_error(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SemtalkError, match=r"^no such media file: .*nope\.mp4$"):
        probe(missing)
    with pytest.raises(SemtalkError, match="no such media file"):
        next(read_video(missing))


def test_unreadable_file_is_a_user_error(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 10)
    with pytest.raises(SemtalkError, match=r"^cannot read .*junk\.mp4: "):
        probe(junk)


def test_audio_only_file_is_described_and_has_no_video_stream(tmp_path):
    wav = tmp_path / "tone.wav"
    tone = 0.5 * np.sin(2 * np.pi * TONE_HZ * np.arange(8000) / 8000)
    write_wav(wav, tone, 8000)
    info = probe(wav)
    assert not info.has_video and info.has_audio and info.n_frames == 0
    assert info.duration == pytest.approx(1.0, abs=0.01) and info.audio_rate == 8000
    with pytest.raises(SemtalkError, match=r"tone\.wav has no video stream$"):
        next(iter(read_video(wav)))
    audio = read_audio(wav, rate=16000)
    assert audio.size == pytest.approx(16000, abs=32)
    assert dominant_hz(audio, 16000) == pytest.approx(TONE_HZ, abs=3)


@pytest.mark.skipif(not GRID.exists(), reason="shared GRID sample not available")
def test_real_grid_mpeg1_clip():
    info = probe(GRID)
    assert info == MediaInfo(360, 288, 25.0, pytest.approx(2.98), 75, True, 44100, 2)
    n = 0
    for frame in read_video(GRID):
        assert frame.shape == (288, 360, 3)
        n += 1
    assert n == 75
    assert read_audio(GRID).size == pytest.approx(3.0 * 16000, abs=400)


def test_repeated_frames_are_separate_arrays(clip):
    frames = list(read_video(clip("mp4", n_frames=4), fps=50))
    assert len(frames) == 8 and frames[0] is not frames[1]
    np.testing.assert_array_equal(frames[0], frames[1])
    assert isinstance(read_video(clip("mp4", n_frames=4)), Iterator)
