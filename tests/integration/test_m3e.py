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


def test_fill_face_sends_the_coefficients_and_renders_between_keyframes_from_them(tmp_path):
    def call(fill: str) -> dict:
        return run(real_clip(CLIP), tmp_path / fill, RunConfig(
            mode="m3e", channel="awgn", snr=8.0, text_coder="huffman", fill=fill, max_seconds=2.0, progress=False,
            vmaf=False, write_video=False, metrics=False))

    face, flow = call("face"), call("flow")
    m, f = face["m3e"], flow["m3e"]
    assert (m["fill"], f["fill"]) == ("face", "flow")
    assert m["face_filled_frames"] > 0 and m["face_filled_frames"] + m["flow_filled_frames"] == m["interpolated_frames"]
    assert f["face_filled_frames"] == 0 and f["flow_filled_frames"] == f["interpolated_frames"] > 0
    assert 1.0 < m["coefficient_kbps"] < 2.5 and f["coefficient_kbps"] == 0  # SyncSC's 1.6 kbps target
    assert m["keyframe_frames"] == f["keyframe_frames"]  # the same keyframes: the coefficients are all it adds
    assert m["bits"] - f["bits"] == m["coefficient_bits"] > 0
    assert m["bits_per_gop"] == pytest.approx(m["bits"] / m["keyframes"], rel=1e-3)
    assert m["coefficient_packets"] > 0 and m["coefficient_fec"] == "rs"


@pytest.mark.parametrize(("argv", "message"), [
    (["--fill", "face"], "--fill is a setting of --mode m3e"),
    (["--mode", "m3e", "--channel", "awgn", "--text-coder", "huffman", "--fill", "optical"],
     "--fill must be one of flow, face, got 'optical'"),
    (["--keyframe-threshold", "0.8"], "--keyframe-threshold is a setting of --mode m3e"),
    (["--mode", "m3e", "--xi-min", "1.5"], "--xi-min"),
    (["--mode", "m3e", "--keyframe-codec", "png"], "--keyframe-codec must be one of"),
    (["--mode", "m3e"], "--text-coder learned sends analog symbols"),
    (["--mode", "m3e", "--channel", "awgn", "--fec", "pacsc"], "--mode m3e asks again"),
])
def test_m3e_flags_are_refused_where_they_do_not_apply(tmp_path, capsys, argv, message):
    assert main(["run", str(tmp_path / "none.mp4"), "--out", str(tmp_path / "out"), *argv]) == 2
    assert message in capsys.readouterr().err
