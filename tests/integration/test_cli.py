"""The CLI end to end, through ``main(argv)`` on clips the tests make themselves."""

from __future__ import annotations

import json

import pytest

from semtalk.cli import main


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["kb", "--help"], ["kb", "build", "--help"],
                                  ["kb", "info", "--help"], ["demo", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: semtalk" in capsys.readouterr().out


def test_missing_input_is_one_clear_line(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"semtalk: error: no such media file: {tmp_path / 'nope.mp4'}"]


def test_bad_loss_is_rejected_before_work(tmp_path, sample_clip, capsys):
    assert main(["run", str(sample_clip), "--out", str(tmp_path), "--loss", "1.5"]) == 2
    assert "--loss must be in [0, 1], got 1.5" in capsys.readouterr().err


def test_clip_without_a_face_is_a_clear_error(tmp_path, no_face_clip, capsys):
    assert main(["run", str(no_face_clip), "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no face found in the first 2.0 s" in err
    assert "Traceback" not in err


def test_run_writes_outputs_and_report(tmp_path, sample_clip, capsys):
    out = tmp_path / "run"
    assert main(["run", str(sample_clip), "--out", str(out), "--loss", "0.2", "--seed", "3", "--quiet"]) == 0
    for name in ("received.mp4", "side_by_side.mp4", "report.json", "kb.stkb"):
        assert (out / name).is_file(), name
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


def test_corrupt_kb_file_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.stkb"
    bad.write_bytes(b"STKB" + bytes(60))
    assert main(["kb", "info", str(bad)]) == 2
    assert "knowledge base" in capsys.readouterr().err


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
