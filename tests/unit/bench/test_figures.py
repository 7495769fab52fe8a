"""The SyncSC figures are readable: the rate–quality plot labels its bitrate axis at the ladder's rates alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from semtalk.bench import figures

LADDER = (4.0, 6.4, 10.0, 20.0, 40.0, 80.0)


def _rate_rows() -> list[dict]:
    """Four codecs on the ladder and semtalk at 3 kbps: an axis under 1.6 decades, where matplotlib labels minor
    ticks."""
    rows = [{"status": "ok", "table": "rate_quality", "method": "codec_video", "codec": codec, "target_kbps": k,
             "kbps": k * 1.03, "ssim": 0.5 + k / 200, "psnr": 25 + k / 10}
            for codec in ("x264", "x265", "svtav1", "aom") for k in LADDER]
    rows.append({"status": "ok", "table": "rate_quality", "method": "semtalk", "codec": "semtalk",
                 "target_kbps": None, "kbps": 3.0, "ssim": 0.7, "psnr": 27.0})
    return rows


def test_rate_axis_labels_are_the_ladder_and_do_not_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = []
    save = figures._save

    def keep(fig, path: Path) -> Path:
        if path.name == "rate_quality.png":
            fig.canvas.draw()
            for ax in fig.axes:
                lo, hi = ax.get_xlim()
                shown = [t for t in ax.get_xticklabels(which="both")
                         if t.get_visible() and t.get_text() and lo <= t.get_position()[0] <= hi]
                saved.append(([t.get_text() for t in shown], [t.get_window_extent() for t in shown]))
        return save(fig, path)

    monkeypatch.setattr(figures, "_save", keep)
    assert "rate_quality" in figures.make_figures(_rate_rows(), tmp_path)
    assert len(saved) == 2
    for texts, boxes in saved:
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), texts
        assert sorted(texts, key=float) == [f"{k:g}" for k in LADDER]
