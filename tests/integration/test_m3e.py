"""The M3E-VSC mode end to end on a shared HDTF clip (skipped without ../shared/data), and its flags refused in one
line where they do not apply."""

from __future__ import annotations

import pytest
from shared_data import real_clip

from semtalk.call.run import RunConfig, run
from semtalk.cli import main

CLIP = "hdtf_RD_Radio34_000.mp4"


def _check_keys(report: dict) -> None:
    assert report["mode"] == "m3e"
    for key in ("keyframes", "retransmissions", "bits_per_gop", "similarity_mean", "feedback_bits"):
        assert key in report["m3e"], key
    assert "psnr" in report["video"] and "semantic_similarity" in report["speech"] and "phy" in report


def test_the_issue_command_runs_end_to_end(tmp_path):
    from importlib.resources import files

    if not (files("semtalk") / "weights" / "textcoder.pt").is_file():
        pytest.skip("the learned text coder's weights are not shipped")
    report = run(real_clip(CLIP), tmp_path, RunConfig(mode="m3e", channel="awgn", snr=8.0, max_seconds=4.0,
                                                      progress=False, vmaf=False))
    _check_keys(report)
    m, v = report["m3e"], report["video"]
    assert m["keyframes"] >= 2 and m["keyframe_frames"][0] == 0
    assert m["bits_per_gop"] == pytest.approx(m["bits"] / m["keyframes"], rel=1e-3)
    assert m["interpolated_frames"] > 0 and v["frames"] == 100
    assert v["psnr"] > 22 and report["speech"]["speaker_similarity"] is not None
    assert (tmp_path / "received.mp4").is_file() and (tmp_path / "received.wav").is_file()


def test_losses_at_low_snr_are_asked_for_and_resent(tmp_path):
    def call(retransmit: int) -> dict:
        return run(real_clip(CLIP), tmp_path / str(retransmit), RunConfig(
            mode="m3e", channel="awgn", snr=1.5, text_coder="huffman", retransmit=retransmit, max_seconds=3.0,
            progress=False, vmaf=False, write_video=False, metrics=False))["m3e"]

    report = run(real_clip(CLIP), tmp_path / "keys", RunConfig(
        mode="m3e", channel="awgn", snr=1.5, text_coder="huffman", max_seconds=3.0, progress=False, vmaf=False,
        write_video=False, metrics=False))
    _check_keys(report)
    m, without = report["m3e"], call(0)
    assert m["keyframe_packets_lost"] > 0 and m["requests_sent"] > 0
    assert m["retransmissions"] > 0 and m["feedback_bits"] >= 8 * 18 * m["requests_sent"]
    assert without["retransmissions"] == without["feedback_bits"] == 0
    assert m["keyframes_received"] > without["keyframes_received"]  # the resends arrived and were used


@pytest.mark.parametrize(("argv", "message"), [
    (["--keyframe-threshold", "0.8"], "--keyframe-threshold is a setting of --mode m3e"),
    (["--mode", "m3e", "--xi-min", "1.5"], "--xi-min"),
    (["--mode", "m3e", "--keyframe-codec", "png"], "--keyframe-codec must be one of"),
    (["--mode", "m3e"], "--text-coder learned sends analog symbols"),
    (["--mode", "m3e", "--channel", "awgn", "--fec", "pacsc"], "--mode m3e asks again"),
])
def test_m3e_flags_are_refused_where_they_do_not_apply(tmp_path, capsys, argv, message):
    assert main(["run", str(tmp_path / "none.mp4"), "--out", str(tmp_path / "out"), *argv]) == 2
    assert message in capsys.readouterr().err
