"""``check_config``: settings that cannot work are refused with one line naming the flag, before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from semtalk.call.run import RunConfig, check_config
from semtalk.errors import SemtalkError


@pytest.mark.parametrize("settings, message", [
    ({"channel": "awgn", "loss": 0.1}, "--loss is for the packet channels"),
    ({"channel": "rayleigh", "burst": 3.0}, "--burst is for the packet channels"),
    ({"snr": 3.0}, "--snr sets up a radio link: add --channel awgn or --channel rayleigh"),
    ({"channel": "gilbert_elliott", "loss": 0.1, "burst": 2.0, "modulation": "16qam"}, "--modulation sets up"),
    ({"channel": "awgn", "csi": "estimated"}, "--csi estimated needs --channel rayleigh"),
    ({"channel": "awgn", "modulation": "8psk"}, "--modulation must be one of bpsk, qpsk, 16qam, 64qam"),
    ({"channel": "awgn", "ldpc_rate": 0.6}, "--ldpc-rate: unsupported LDPC rate 0.6"),
    ({"channel": "awgn", "snr": 99.0}, "--snr is Es/N0 in dB and must be in [-30, 60]"),
    ({"channel": "rayleigh", "coherence": 0}, "--coherence is the fading block in symbols"),
    ({"channel": "rayleigh", "csi": "estimated", "coherence": 4, "pilots": 4}, "--pilots must be in 1..3"),
])
def test_nonsense_radio_and_packet_combinations_are_refused(settings, message):
    with pytest.raises(SemtalkError, match=message.replace("[", r"\[").replace(".", r"\.")):
        check_config(RunConfig(**settings))


@pytest.mark.parametrize("settings", [
    {"channel": "awgn", "snr": 0.0, "modulation": "64qam", "ldpc_rate": 5 / 6},
    {"channel": "rayleigh", "snr": 6.0, "modulation": "16qam", "ldpc_rate": 0.5, "csi": "estimated"},
    {"channel": "rayleigh", "coherence": 1},
    {"channel": "bernoulli", "loss": 0.2},
])
def test_sensible_settings_pass(settings):
    check_config(RunConfig(**settings))


@pytest.mark.parametrize("settings, message", [
    ({"fec_k": 0}, "--fec-k must be ≥ 1, got 0"),
    ({"fec": "none", "fec_k": 0}, "--fec-k must be ≥ 1, got 0"),
    ({"fec_k": 300}, "--fec-k 300 and --code-rate 0.5 do not fit --fec rs: FEC k=300 at code_rate=0.5 needs n=600"),
    ({"code_rate": 0.01}, "--fec-k 4 and --code-rate 0.01 do not fit --fec rs"),
    ({"fec": "pacsc", "fec_k": 5}, "--fec-k 5 and --code-rate 0.5 do not fit --fec pacsc: PacSC blocks are 20 frames"),
    ({"fec": "pacsc", "frames_per_packet": 4}, "--frames-per-packet 4 does not fit --fec pacsc"),
    ({"delay": -5.0}, "--delay must be ≥ 0 seconds, got -5.0"),
    ({"jitter": -1.0}, "--jitter must be ≥ 0 seconds, got -1.0"),
    ({"keyframes": 0}, "--keyframes must be ≥ 1, got 0"),
    ({"n_expr": 0}, "--expr must be ≥ 1, got 0"),
    ({"bits": 1}, "--bits: quantiser bits must be in 2..16, got 1"),
    ({"crop_size": 0}, "--crop-size must be an even number ≥ 64, got 0"),
    ({"enroll_seconds": 0.0}, "--enroll-seconds must be positive, got 0.0"),
    ({"voice_seconds": -1.0}, "--voice-seconds must be positive, got -1.0"),
    ({"max_seconds": 0.0}, "--max-seconds must be positive, got 0.0"),
    ({"seed": -1}, "--seed must be ≥ 0, got -1"),
    ({"channel": "gilbert_elliott", "burst": float("inf")}, "--burst must be a finite number, got inf"),
    ({"loss": float("nan")}, "--loss must be a finite number, got nan"),
    ({"channel": "awgn", "snr": float("inf")}, "--snr must be a finite number, got inf"),
    ({"channel": "awgn", "ldpc_rate": float("nan")}, "--ldpc-rate must be a finite number, got nan"),
    ({"delay": float("inf")}, "--delay must be a finite number, got inf"),
    ({"jitter": float("nan")}, "--jitter must be a finite number, got nan"),
    ({"code_rate": float("nan")}, "--code-rate must be a finite number, got nan"),
    ({"enroll_seconds": float("inf")}, "--enroll-seconds must be a finite number, got inf"),
    ({"voice_seconds": float("nan")}, "--voice-seconds must be a finite number, got nan"),
    ({"max_seconds": float("inf")}, "--max-seconds must be a finite number, got inf"),
])
def test_bad_values_are_refused_with_one_line_naming_the_flag(settings, message):
    with pytest.raises(SemtalkError) as exc:
        check_config(RunConfig(**settings))
    assert message in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("settings, message", [
    ({"keyframes": 0}, "--keyframes must be ≥ 1, got 0"),
    ({"n_expr": -2}, "--expr must be ≥ 1, got -2"),
    ({"enroll_seconds": float("inf")}, "--enroll-seconds must be a finite number, got inf"),
    ({"lm_text": "/no/such/corpus.txt"}, "--lm-text file not found: /no/such/corpus.txt"),
])
def test_kb_settings_are_checked_on_their_own(settings, message):
    from semtalk.call.run import check_kb_config
    from semtalk.enroll.build import KbConfig

    with pytest.raises(SemtalkError, match=message):
        check_kb_config(KbConfig(**settings))
    check_kb_config(KbConfig())


def _existing_file(tmp_path: Path) -> Path:
    (tmp_path / "taken").write_text("x")
    return tmp_path / "taken"


@pytest.mark.parametrize("folder, message", [
    (_existing_file, "--out: {} exists and is not a folder"),
    (lambda tmp_path: Path("/dev/null"), "--out: {} exists and is not a folder"),
    (lambda tmp_path: _existing_file(tmp_path) / "sub", "--out: cannot create the folder {} (Not a directory)"),
])
def test_an_output_folder_that_cannot_take_the_outputs_is_refused(tmp_path, folder, message):
    from semtalk.call.run import check_output_dir

    path = folder(tmp_path)
    with pytest.raises(SemtalkError) as exc:
        check_output_dir(path)
    assert str(exc.value) == message.format(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused(tmp_path):
    from semtalk.call.run import check_output_dir

    tmp_path.chmod(0o500)
    try:
        with pytest.raises(SemtalkError, match=r"--out: cannot write into .* \(Permission denied\)"):
            check_output_dir(tmp_path)
    finally:
        tmp_path.chmod(0o700)


def test_the_output_folder_is_created_and_left_empty(tmp_path):
    from semtalk.call.run import check_output_dir

    out = tmp_path / "a" / "b"
    check_output_dir(out)
    assert out.is_dir() and list(out.iterdir()) == []


@pytest.mark.parametrize("settings, message", [
    ({"pose_threshold": 10.0}, "--pose-threshold is a setting of --mode wav2vid"),
    ({"audio_carrier": "asc"}, "--audio-carrier is a setting of --mode wav2vid"),
    ({"mode": "wav2vid", "audio_carrier": "asc"}, "--audio-carrier asc sends analog symbols: it needs --channel"),
    ({"mode": "wav2vid", "pose_threshold": 0.0}, "--pose-threshold is ε of HdPoseEst in degrees"),
    ({"mode": "wav2vid", "clip_frames": 0}, "--clip-frames must be in 1..250"),
    ({"mode": "wav2vid", "clip_codec": "mpeg2"}, "--clip-codec must be one of x265, svtav1, x264"),
    ({"mode": "wav2vid", "audio_carrier": "mp3"}, "--audio-carrier must be one of opus, asc"),
    ({"mode": "wav2vid", "audio_kbps": 2.0}, "--audio-kbps is Opus' bitrate"),
    ({"mode": "wav2vid", "fec": "pacsc"}, "--mode wav2vid protects its clips and audio with --fec rs or none"),
    ({"mode": "wav2vid", "clip_kbps": float("inf")}, "--clip-kbps must be a finite number"),
])
def test_wav2vid_settings_are_checked(settings, message):
    with pytest.raises(SemtalkError, match=message.replace("[", r"\[").replace(".", r"\.")):
        check_config(RunConfig(**settings))


def test_wav2vid_settings_that_work_pass():
    check_config(RunConfig(mode="wav2vid", channel="rayleigh", snr=4.0, audio_carrier="asc", pose_threshold=12.0))
    check_config(RunConfig(mode="wav2vid", loss=0.2, clip_codec="svtav1", clip_frames=5))
