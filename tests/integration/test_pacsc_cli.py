"""``semtalk run --fec pacsc`` end to end on the synthetic sample clip."""

from __future__ import annotations

import json

from semtalk.cli import main


def test_run_with_pacsc(sample_clip, tmp_path):
    rate, rows = "0.5", 8  # rate 1/4 shares the code path; its shapes are checked in tests/unit/pacsc
    out = tmp_path / "o"
    argv = ["run", str(sample_clip), "--out", str(out), "--fec", "pacsc", "--code-rate", rate, "--loss", "0.3",
            "--seed", "2", "--quiet", "--no-vmaf", "--no-speech"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    v, n = report["video"], report["network"]
    assert n["fec"] == "pacsc" and n["code_rate"] == float(rate)
    assert v["frames"] == 100
    # 100 frames = 5 blocks of 20, each sent as `rows` packets of 12 + 3 + 80 bytes.
    assert n["packets_sent"] == 5 * rows and n["source_packets"] == 5 * rows
    assert v["channel_kbps"] == round(8 * 5 * rows * 95 / 4.0 / 1000, 3)
    assert 0 < n["packets_lost"] < 5 * rows
    assert v["ssim"] > 0.5


def test_pacsc_refuses_an_untrained_rate(sample_clip, tmp_path, capsys):
    argv = ["run", str(sample_clip), "--out", str(tmp_path), "--fec", "pacsc", "--code-rate", "0.75", "--quiet"]
    assert main(argv) == 2
    assert "--fec pacsc: PacSC code rate must be one of 0.5, 0.25, got 0.75" in capsys.readouterr().err
