"""A SyncSC call with the KB refresh (issue 24, item 4) on the project's own sample clip: the refreshes go out,
arrive and are used, count in the stream rate, and the held-out frames come out closer to the original."""

from __future__ import annotations

import json

from semtalk.cli import main


def _call(sample_clip, out, *flags: str) -> dict:
    """Without the motion field, so the SSIM compared is the refreshes' alone (the field already brings this
    synthetic clip's frames to 0.95, where a refresh's coding loss weighs as much as its gain)."""
    assert main(["run", str(sample_clip), "--out", str(out), "--quiet", "--no-vmaf", "--no-speech", "--flow-grid", "0",
                 *flags]) == 0
    return json.loads((out / "report.json").read_text())


def test_refreshes_are_sent_used_counted_and_bring_the_frames_closer(tmp_path, sample_clip, capsys):
    plain = _call(sample_clip, tmp_path / "plain")
    assert "refresh" not in plain and plain["video"]["refresh_kbps"] == 0
    assert "  refresh  " not in capsys.readouterr().out
    # Every frame the KB renders below 0.999 is worth a refresh: the budget decides how many go.
    report = _call(sample_clip, tmp_path / "refresh", "--refresh-kbps", "40", "--refresh-ssim", "0.999")
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  refresh  "))
    assert f"{report['refresh']['sent']} keyframes sent" in line and "(budget 40)" in line
    refresh, video = report["refresh"], report["video"]
    assert refresh["sent"] >= 2 and refresh["frames_used"] == refresh["frames_sent"]
    assert refresh["packets_lost"] == 0 and refresh["invalid"] == 0
    assert 0 < video["refresh_kbps"] <= 40  # within the budget
    assert video["stream_kbps"] > video["refresh_kbps"]  # counted in the stream rate, on top of the coefficients
    assert video["ssim"] > plain["video"]["ssim"]
