"""The radio report: means over clips per (method, channel, SNR), labels, and every output file."""

from __future__ import annotations

import json

from semtalk.bench.radio import RadioGrid
from semtalk.bench.radio_report import curves, label, tables, write_all


def _row(method: str, clip: str, snr: float, ssim: float | None, channel: str = "awgn", **extra) -> dict:
    return {"method": method, "clip": clip, "channel": channel, "snr": snr, "ssim": ssim, "status": "ok",
            "seed": 0, "config": "{}", "error": None, **extra}


ROWS = [
    _row("semtalk_radio", "a", 0.0, 0.6), _row("semtalk_radio", "b", 0.0, 0.8), _row("semtalk_radio", "a", 10.0, 0.9),
    _row("codec_radio_video", "a", 0.0, 0.2, codec="x264", bandwidth=8000.0),
    _row("codec_radio_video", "a", 10.0, 0.95, codec="x264", bandwidth=8000.0),
    _row("codec_radio_video", "a", 10.0, 0.97, codec="x264", bandwidth=32000.0, channel="rayleigh"),
    _row("radio_phy", "-", 0.0, None, modulation="qpsk", ldpc_rate=0.5, ber_uncoded=0.08, theory_ber_uncoded=0.079),
    {**_row("semtalk_radio", "c", 0.0, 0.1), "status": "error", "error": "boom"},
]


def test_curves_average_clips_and_leave_out_failed_cells_and_missing_values():
    c = curves(ROWS, "ssim", ("semtalk_radio", "codec_radio_video"))
    assert c["awgn"]["semtalk"] == {0.0: 0.7, 10.0: 0.9}
    assert c["awgn"]["x264 @ 8k"] == {0.0: 0.2, 10.0: 0.95}
    assert c["rayleigh"] == {"x264 @ 32k": {10.0: 0.97}}
    assert list(c["awgn"]) == ["semtalk", "x264 @ 8k"]  # semtalk's line first
    assert label(ROWS[-2]) == "qpsk LDPC 0.5"


def test_tables_and_every_output_file(tmp_path):
    t = tables(ROWS)
    ssim = t["Video SSIM vs SNR (held-out frames)"]
    assert "| awgn | 0 dB | 10 dB |" in ssim and "| semtalk | 0.700 | 0.900 |" in ssim and "| x264 @ 8k | 0.200" in ssim
    assert "0.07900" in t["PHY: closed-form uncoded BER (Gray BPSK/QPSK)"]
    paths = write_all(ROWS, tmp_path, RadioGrid.quick())
    assert json.loads(paths["json"].read_text())[0]["ssim"] == 0.6
    md = paths["md"].read_text()
    assert "7 cells ok, 1 failed" in md and "failed: semtalk_radio c" in md
    assert (tmp_path / "figures" / "quality_vs_snr.png").is_file() and (tmp_path / "figures" / "ber_bler.png").is_file()
    assert "data:image/png;base64" in paths["html"].read_text()
