"""The CLI end to end, through ``main(argv)`` on clips the tests make themselves."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from tests.unit.kb.kb_fixtures import make_kb

from semtalk import registry
from semtalk.bench.runner import BenchOptions
from semtalk.cli import main
from semtalk.semantics.face.quantize import Quantizer


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["kb", "--help"], ["kb", "build", "--help"],
                                  ["kb", "info", "--help"], ["demo", "--help"], ["bench", "--help"],
                                  ["train", "--help"], ["train", "pacsc", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: semtalk" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: COMMAND"),
    (["fly"], "argument COMMAND: invalid choice: 'fly'"),
    (["run", "x.mp4"], "the following arguments are required: --out"),
    (["run", "x.mp4", "--out", "o", "--loss", "much"], "argument --loss: invalid float value: 'much'"),
    (["run", "x.mp4", "--out", "o", "--mode", "nope"], "argument --mode: invalid choice: 'nope'"),
    (["bench", "--suite", "nope"], "argument --suite: invalid choice: 'nope'"),
    (["bench", "--workers", "0", "--scheduler", "tcp://h:8786"], "not allowed with argument --workers"),
    (["train", "pacsc", "--data", "d", "--seed", "-1"], "argument --seed: must be ≥ 0, got -1"),
])
def test_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("semtalk: error: ") and message in err[0], err
    assert "usage:" not in captured.err and captured.out == ""


def test_choices_come_from_the_registry(capsys):
    for argv, kind in ((["run", "--help"], "mode"), (["run", "--help"], "channel"), (["run", "--help"], "fec"),
                       (["bench", "--help"], "bench_suite")):
        with pytest.raises(SystemExit):
            main(argv)
        text = " ".join(capsys.readouterr().out.split())
        assert "{" + ",".join(registry.names(kind)) + "}" in text, kind
    assert "pacsc" in registry.names("bench_suite")


def test_bench_calls_the_registered_suite_with_bench_options(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_suite(data: Path, out: Path, options: BenchOptions) -> list[dict]:
        calls.append((data, out, options))
        out.mkdir(parents=True)
        (out / "results.md").write_text("| table |\n")
        return []

    real_get = registry.get
    monkeypatch.setattr(registry, "get", lambda kind, name: fake_suite if kind == "bench_suite" else real_get(
        kind, name))
    out = tmp_path / "b"
    assert main(["bench", "--suite", "pacsc", "--data", "d", "--out", str(out), "--quick", "--seed", "4",
                 "--workers", "0", "--cache", str(tmp_path / "codes")]) == 0
    assert calls == [(Path("d"), out, BenchOptions(quick=True, seed=4, workers=0, scheduler=None,
                                                   cache=tmp_path / "codes"))]
    assert "| table |" in capsys.readouterr().out
    assert main(["bench", "--out", str(tmp_path / "c"), "--scheduler", "tcp://h:8786"]) == 0
    assert calls[-1][2] == BenchOptions(quick=False, seed=0, workers=2, scheduler="tcp://h:8786", cache=None)


def test_train_pacsc_without_data_is_one_clear_line(tmp_path, capsys):
    assert main(["train", "pacsc", "--data", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"semtalk: error: --data folder not found: "
                                                           f"{tmp_path / 'none'}"]


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys\nfrom semtalk.cli import main\ntry:\n    main(['run', '--help'])\nexcept SystemExit:\n"
            "    pass\nheavy = {'numpy', 'torch', 'av', 'cv2', 'mediapipe', 'scipy'} & set(sys.modules)\n"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_missing_input_is_one_clear_line(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"semtalk: error: no such media file: {tmp_path / 'nope.mp4'}"]


def test_bad_loss_is_rejected_before_work(tmp_path, sample_clip, capsys):
    assert main(["run", str(sample_clip), "--out", str(tmp_path), "--loss", "1.5"]) == 2
    assert "--loss must be in [0, 1], got 1.5" in capsys.readouterr().err


def _one_line_error(capsys) -> str:
    """The single stderr line of a refused command (no traceback, no usage block, nothing on stdout)."""
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("semtalk: error: "), captured.err
    assert captured.out == ""
    return err[0]


@pytest.mark.parametrize("options, message", [
    (["--channel", "gilbert_elliott", "--loss", "0.1", "--burst", "inf"], "--burst must be a finite number, got inf"),
    (["--fec-k", "0"], "--fec-k must be ≥ 1, got 0"),
    (["--fec", "none", "--fec-k", "0"], "--fec-k must be ≥ 1, got 0"),
    (["--keyframes", "0"], "--keyframes must be ≥ 1, got 0"),
    (["--delay", "-5"], "--delay must be ≥ 0 seconds, got -5.0"),
])
def test_bad_settings_are_refused_before_the_kb_is_built(tmp_path, sample_clip, capsys, options, message):
    out = tmp_path / "o"
    assert main(["run", str(sample_clip), "--out", str(out), "--quiet", "--no-vmaf", "--max-seconds", "2",
                 *options]) == 2
    assert message in _one_line_error(capsys)
    assert not (out / "kb.stkb").exists()


def test_bad_out_is_refused_before_work(tmp_path, sample_clip, capsys):
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert main(["run", str(sample_clip), "--out", str(taken), "--quiet", "--no-vmaf", "--max-seconds", "2"]) == 2
    assert _one_line_error(capsys) == f"semtalk: error: --out: {taken} exists and is not a folder"
    assert taken.read_text() == "x" and not (tmp_path / "kb.stkb").exists()


def test_kb_build_into_a_folder_is_refused_before_work(tmp_path, sample_clip, capsys):
    assert main(["kb", "build", str(sample_clip), "--out", str(tmp_path)]) == 2
    assert _one_line_error(capsys) == (f"semtalk: error: --out {tmp_path} is a folder: give the KB file to write, "
                                       f"e.g. {tmp_path / 'speaker.stkb'}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["run", "x.mp4", "--out", "o", "--bogus"], "unrecognized arguments: --bogus (see `semtalk run --help`)"),
    (["kb", "build", "x.mp4", "--out", "k", "--expr", "six"],
     "argument --expr: invalid int value: 'six' (see `semtalk kb build --help`)"),
    (["bench", "--workers", "two"], "argument --workers: not a whole number: 'two' (see `semtalk bench --help`)"),
])
def test_bad_argument_values_are_one_line_naming_the_verb(argv, message, capsys):
    assert main(argv) == 2
    assert _one_line_error(capsys) == f"semtalk: error: {message}"


def test_clip_without_a_face_is_a_clear_error(tmp_path, no_face_clip, capsys):
    assert main(["run", str(no_face_clip), "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no face found in the first 2.0 s" in err
    assert "Traceback" not in err


def test_run_writes_outputs_and_report(tmp_path, sample_clip, capsys):
    out = tmp_path / "run"
    assert main(["run", str(sample_clip), "--out", str(out), "--loss", "0.2", "--seed", "3", "--quiet"]) == 0
    # exactly the outputs: no temporary name, no scratch folder left beside them
    assert sorted(p.name for p in out.iterdir()) == ["kb.stkb", "received.mp4", "received.wav", "report.json",
                                                     "side_by_side.mp4"]
    report = json.loads((out / "report.json").read_text())
    v, n = report["video"], report["network"]
    assert v["frames"] == 100 and v["heldout_frames"] == [50, 99]
    assert 0 < v["stream_kbps"] <= 3.2 and v["bits_per_frame"] > 16
    assert 0.3 < v["ssim"] <= 1 and v["vmaf"] is not None and v["psnr"] > 10 and 0 < v["ms_ssim"] <= 1
    assert n["packets_sent"] == 2 * n["source_packets"] and n["code_rate"] == 0.5
    assert 0 < n["packets_lost"] < n["packets_sent"]
    assert set(v["ms_per_frame"]) >= {"landmarks", "encode", "render"}
    assert "SSIM" in capsys.readouterr().out


def test_run_is_reproducible_with_a_seed(tmp_path, sample_clip):
    reports = []
    for name in ("a", "b"):
        main(["run", str(sample_clip), "--out", str(tmp_path / name), "--loss", "0.3", "--seed", "5", "--quiet",
              "--no-vmaf", "--max-seconds", "3"])
        reports.append(json.loads((tmp_path / name / "report.json").read_text()))
    a, b = reports
    assert a["network"] == b["network"]
    assert a["video"]["ssim"] == b["video"]["ssim"]


def test_a_call_over_the_radio_reports_its_phy_and_repeats_with_a_seed(tmp_path, sample_clip, capsys):
    reports = []
    for name in ("a", "b"):
        assert main(["run", str(sample_clip), "--out", str(tmp_path / name), "--channel", "awgn", "--snr", "1.5",
                     "--seed", "2", "--quiet", "--no-vmaf", "--max-seconds", "3", "--no-speech"]) == 0
        reports.append(json.loads((tmp_path / name / "report.json").read_text()))
    a, b = reports
    assert a["phy"] == b["phy"] and a["network"] == b["network"] and a["video"]["ssim"] == b["video"]["ssim"]
    phy = a["phy"]
    assert (phy["channel"], phy["modulation"], phy["ldpc_rate_fraction"], phy["csi"]) == ("awgn", "qpsk", "1/2",
                                                                                         "perfect")
    assert phy["channel_uses_per_s"] > 0 and 0 < phy["ber_uncoded"] < 0.5
    assert phy["packets_lost"] == a["network"]["packets_lost"]  # one stream (no speech): the same packets
    assert "radio    awgn at 1.5 dB" in capsys.readouterr().out


def test_no_metrics_scores_nothing_but_keeps_rates_and_network(tmp_path, sample_clip, capsys):
    out = tmp_path / "nm"
    assert main(["run", str(sample_clip), "--out", str(out), "--loss", "0.2", "--seed", "3", "--quiet",
                 "--max-seconds", "3", "--no-metrics"]) == 0
    report = json.loads((out / "report.json").read_text())
    v, s = report["video"], report["speech"]
    assert v["metric_frames"] == 0 and v["ssim"] is None and v["psnr"] is None and v["vmaf"] is None
    assert v["heldout_frames"] is not None and v["stream_kbps"] > 0 and report["network"]["packets_sent"] > 0
    assert s["scored"] is False and s["resynth_wer"] is None and s["pesq_wb"] is None and s["av_offset_ms"] is None
    assert "words_sent" in s and s["text_bps"] >= 0
    assert "not scored (--no-metrics)" in capsys.readouterr().out
    assert (out / "received.mp4").is_file()


def test_face_vanishing_mid_call_is_flagged_not_fatal(tmp_path, sample_then_no_face):
    assert main(["run", str(sample_then_no_face), "--out", str(tmp_path), "--quiet", "--no-vmaf"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["video"]["no_face_frames"] >= 20
    assert report["video"]["frames"] == 125


def test_kb_build_info_and_wrong_receiver_kb(tmp_path, sample_clip, no_face_clip, capsys):
    kb = tmp_path / "speaker.stkb"
    assert main(["kb", "build", str(sample_clip), "--out", str(kb), "--keyframes", "8"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["keyframes"] == 8 and built["bytes"] == kb.stat().st_size
    assert main(["kb", "info", str(kb)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["hash"] == built["hash"] and sum(info["bytes_by_part"].values()) < info["bytes"]

    other = tmp_path / "other.stkb"
    assert main(["kb", "build", str(sample_clip), "--out", str(other), "--keyframes", "9"]) == 0
    capsys.readouterr()
    code = main(["run", str(sample_clip), "--out", str(tmp_path / "r"), "--kb", str(kb), "--receiver-kb", str(other),
                 "--quiet"])
    assert code == 2
    assert "does not match the stream's" in capsys.readouterr().err


def test_kb_build_image_quality_sets_the_webp_quality(tmp_path, sample_clip, capsys):
    """``--image-quality`` is the KB's one quality knob, for the default WebP codec too (it used to be ignored)."""
    sizes = {}
    for quality in (90, 40):
        kb = tmp_path / f"q{quality}.stkb"
        assert main(["kb", "build", str(sample_clip), "--out", str(kb), "--keyframes", "3", "--no-voice",
                     "--image-quality", str(quality)]) == 0
        capsys.readouterr()
        assert main(["kb", "info", str(kb)]) == 0
        info = json.loads(capsys.readouterr().out)
        assert (info["image_codec"], info["image_quality"]) == ("webp", quality)
        sizes[quality] = info["bytes_by_part"]["keyframes"]
    assert sizes[40] < 0.8 * sizes[90]


def test_corrupt_kb_file_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.stkb"
    bad.write_bytes(b"STKB" + bytes(60))
    assert main(["kb", "info", str(bad)]) == 2
    assert "knowledge base" in capsys.readouterr().err


def test_a_validly_signed_inconsistent_kb_is_refused_in_one_line(tmp_path, sample_clip, capsys):
    """4-bit quant_bits over the codes of 8, re-signed by the KB's own writer: refused at load, not a hang."""
    kb = make_kb().kb
    bad = tmp_path / "bad.stkb"
    dataclasses.replace(kb, quantizer=Quantizer(kb.quantizer.lo, kb.quantizer.hi, 4)).save(bad)
    top = int(kb.reference.codes.max())
    for argv in (["kb", "info", str(bad)], ["run", str(sample_clip), "--out", str(tmp_path / "r"), "--kb", str(bad)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"semtalk: error: {bad}: kb: key0.codes holds code {top}, above 15 (the 4-bit quantiser's top)\n"


def _report(speech: dict | None) -> dict:
    video = {"ssim": 0.9, "vmaf": None, "psnr": 30.0, "ms_ssim": 0.95, "stream_kbps": 2.0, "bits_per_frame": 80.0,
             "rtp_kbps": 2.5, "channel_kbps": 5.0, "kb_bytes": 2048, "concealed_frames": 0, "heldout_frames": [0, 9],
             "ms_per_frame": {"render": 20.0}}
    network = {"packets_lost": 1, "packets_sent": 10, "loss_rate": 0.1, "packets_recovered": 1, "fec": "rs"}
    return {"input": "x.mp4", "video": video, "network": network, **({"speech": speech} if speech else {})}


def test_summary_has_a_speech_line_only_when_speech_was_regenerated(tmp_path):
    from semtalk.cli import summary

    speech = {"mode": "semantic", "words_sent": 17, "text_bps": 35.1, "timing_bps": 12.1, "prosody_bps": 19.1,
              "concealed_words": 2, "resynth_wer": 0.0588, "av_offset_ms": 14.0, "av_offset_ms_original": None}
    lines = summary(_report(speech), tmp_path).splitlines()
    assert lines[-1] == ("  speech   17 words at 47 bps text + timing (+19 prosody), 2 concealed; re-ASR WER 0.06, "
                         "AV offset +14 ms (original n/a)")
    assert "  speech " not in summary(_report(None), tmp_path)
    assert "  speech " not in summary(_report({"mode": "passthrough"}), tmp_path)
    silent = {**_report(None), "audio": {"mode": "none"}}
    assert summary(silent, tmp_path).splitlines()[-1] == "  speech   none: the input has no audio track"


def test_summary_says_why_a_clip_has_no_quality_numbers(tmp_path):
    from semtalk.cli import summary

    short = _report(None)
    short["video"] |= {"heldout_frames": None, "ssim": None, "psnr": None, "ms_ssim": None}
    assert "  quality  not scored: every frame of the clip went into the KB (none held out)" in summary(
        short, tmp_path).splitlines()
    assert "  quality  held-out frames [0, 9]: SSIM 0.900, PSNR 30 dB, MS-SSIM 0.95, VMAF n/a" in summary(
        _report(None), tmp_path).splitlines()


FAST = ["--quiet", "--no-vmaf", "--no-speech"]
INTERRUPTED = "semtalk: interrupted; no partial outputs left"


def test_a_full_disk_mid_call_leaves_no_output_and_says_so_in_one_line(tmp_path, sample_clip, monkeypatch, capsys):
    from semtalk.media.writer import VideoWriter

    write = VideoWriter.write

    def full_disk(self, frame):
        if self.n_frames == 20:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        write(self, frame)

    monkeypatch.setattr(VideoWriter, "write", full_disk)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where a scratch folder outside --out would go
    (tmp_path / "tmp").mkdir()
    out = tmp_path / "run"
    assert main(["run", str(sample_clip), "--out", str(out), *FAST, "--max-seconds", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("semtalk: error: [Errno 28] No space left on device"), err
    assert list(out.iterdir()) == [] and list((tmp_path / "tmp").iterdir()) == []


def _writing_video(out: Path) -> bool:
    """The call is under way: the received video has its first bytes (under whatever name it is written)."""
    return any(p.stat().st_size > 0 for p in out.glob("*received.mp4*"))


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_run_exits_128_plus_the_signal_and_leaves_nothing(tmp_path, sample_clip, signum, code):
    out, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    script = "import sys\nfrom semtalk.cli import main\nsys.exit(main(sys.argv[1:]))"  # what the `semtalk` script runs
    proc = subprocess.Popen([sys.executable, "-c", script, "run", str(sample_clip), "--out", str(out), *FAST],
                            env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # even if we ignore it
    try:
        deadline = time.monotonic() + 120
        while not _writing_video(out):
            assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.communicate()[1]}"
            assert time.monotonic() < deadline, "the call did not start within 120 s"
            time.sleep(0.02)
        proc.send_signal(signum)
        err = proc.communicate(timeout=120)[1]
    finally:
        proc.kill()
    assert proc.returncode == code, err
    # MediaPipe's C++ logger may print a warning line of its own (glog format "W0000 00:00:..."), depending on
    # whether the landmarker started before the signal: not ours to silence, so not counted.
    ours = [line for line in err.strip().splitlines() if not re.match(r"[IWEF]\d{4} ", line)]
    assert ours == [INTERRUPTED], err
    assert list(out.iterdir()) == [] and list(scratch.iterdir()) == []


def _failing_kb_write(error: BaseException):
    """``Path.write_bytes`` that, for KB files, writes half the bytes and then fails with ``error``."""
    write = Path.write_bytes

    def write_bytes(path: Path, data: bytes) -> int:
        if ".stkb" not in path.name:
            return write(path, data)
        write(path, data[: len(data) // 2])
        raise error

    return write_bytes


@pytest.mark.parametrize("error, code, message", [
    (OSError(errno.ENOSPC, "No space left on device"), 2, "semtalk: error: [Errno 28] No space left on device"),
    (KeyboardInterrupt(), 130, INTERRUPTED),
])
def test_a_kb_build_that_fails_or_is_interrupted_leaves_no_truncated_kb(tmp_path, sample_clip, monkeypatch, capsys,
                                                                        error, code, message):
    kb = tmp_path / "speaker.stkb"
    kb.write_bytes(b"the previous KB")
    monkeypatch.setattr(Path, "write_bytes", _failing_kb_write(error))
    assert main(["kb", "build", str(sample_clip), "--out", str(kb), "--no-voice"]) == code
    assert capsys.readouterr().err.strip().splitlines() == [message]
    assert [p.name for p in tmp_path.iterdir()] == ["speaker.stkb"] and kb.read_bytes() == b"the previous KB"
