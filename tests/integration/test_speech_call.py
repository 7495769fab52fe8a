"""The speech half of a call end to end, through ``main(argv)`` on clips the tests make themselves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from semtalk.cli import main
from semtalk.modes.syncsc.mode import FIELD_KEYFRAMES


@pytest.fixture(scope="module")
def silent_clip(tmp_path_factory, sample_clip):
    """The sample's video with an all-zero audio track: a call where nobody speaks."""
    from semtalk.media.reader import probe
    from semtalk.media.writer import mux_audio

    path = tmp_path_factory.mktemp("silent") / "silent.mp4"
    mux_audio(sample_clip, np.zeros(round(probe(sample_clip).duration * 16000), np.float32), 16000, path)
    return path


def test_silent_input_gives_empty_text_and_silent_output(tmp_path, silent_clip):
    from semtalk.media.reader import probe, read_audio

    assert main(["run", str(silent_clip), "--out", str(tmp_path), "--quiet", "--no-vmaf"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    s = report["speech"]
    assert s["words_sent"] == 0 and s["sent_text"] == "" and s["received_text"] == ""
    assert s["text_bps"] == 0 and s["resynth_wer"] is None and s["pesq_wb"] is None
    assert report["audio"]["mode"] == "synthesized"
    assert report["kb"]["info"]["voice"]["profile"] is False  # nothing to learn a voice from
    wav = read_audio(tmp_path / "received.wav", 16000)
    assert wav.size == round(report["duration_s"] * 16000) and not np.any(wav)
    info = probe(tmp_path / "received.mp4")
    assert info.has_audio and abs(read_audio(tmp_path / "received.mp4", 16000).size / 16000 - info.duration) <= 1 / 25


def test_no_speech_passes_the_original_audio_through(tmp_path, sample_clip):
    assert main(["run", str(sample_clip), "--out", str(tmp_path), "--quiet", "--no-vmaf", "--no-speech",
                 "--max-seconds", "3"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert "speech" not in report and report["audio"]["mode"] == "passthrough"
    assert report["kb"]["keyframes"] == FIELD_KEYFRAMES  # the default stream carries a motion field
    assert not (tmp_path / "received.wav").exists()


@pytest.mark.parametrize("argv, message", [(["--text-window", "0"], "--text-window must be in 1..16 words, got 0"),
                                           (["--voice-seconds", "0"], "--voice-seconds must be positive, got 0.0"),
                                           (["--transcript", "/nonexistent.txt"],
                                            "transcript not found: /nonexistent.txt"),
                                           (["--lm-text", "/nonexistent.txt"],
                                            "--lm-text file not found: /nonexistent.txt"),
                                           (["--kb", "any.stkb", "--lm-text", "/nonexistent.txt"],
                                            "--lm-text goes into a KB built for this run; with --kb, build the KB "
                                            "with `semtalk kb build --lm-text FILE` instead")])
def test_bad_speech_options_are_one_clear_line(tmp_path, sample_clip, capsys, argv, message):
    assert main(["run", str(sample_clip), "--out", str(tmp_path), "--quiet", *argv]) == 2
    assert capsys.readouterr().err.strip() == f"semtalk: error: {message}"
