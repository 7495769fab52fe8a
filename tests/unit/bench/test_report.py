"""results.csv/json follow the documented schema; report.html is self-contained and holds every table."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from semtalk.bench import report
from semtalk.bench.runner import BenchEnv, SerialExecutor, Task, run
from semtalk.bench.syncsc import Grid, semtalk_row
from tests.unit.bench.bench_fakes import fake_method

DOCS = Path(__file__).resolve().parents[3] / "docs" / "benchmark.md"


def _rows(tmp_path: Path) -> list[dict]:
    env = BenchEnv(str(tmp_path), str(tmp_path / "work"))
    tasks = [Task.make("fake", "a.mp4", 0, table="rate_quality", codec="x264", target_kbps=k, loss=0.0)
             for k in (4.0, 10.0)]
    tasks += [Task.make("fake", "a.mp4", 0, table="loss", loss=p, burst=b, fec="rs", code_rate=0.5, codec="x264",
                        target_kbps=10.0) for p in (0.1, 0.5) for b in (1.0, 4.0)]
    tasks.append(Task.make("fake", "a.mp4", 0, table="loss", loss=0.2, fail=True))
    rows = run(tasks, env, SerialExecutor(), progress=False, methods={"fake": fake_method})
    for r in rows:  # the fake's rows stand in for codec cells
        r["method"], r["codec"] = "codec_video", "x264"
    fake_report = {"config": {"crop_size": 256, "seed": 0},
                   "video": {"frames": 200, "fps": 25.0, "stream_kbps": 1.2, "kb_bytes": 150000, "psnr": 25.0,
                             "ssim": 0.8, "heldout_frames": [50, 199], "ms_per_frame": {"render": 20.0}},
                   "network": {"loss_rate": 0.0}, "speech": {"text_bps": 60.0, "pesq_wb": 1.5}}
    rows.append({**semtalk_row(fake_report), "method": "semtalk", "clip": "a.mp4", "table": "rate_quality",
                 "loss": 0.0, "status": "ok", "key": "k", "seed": 0})
    return rows


def test_csv_and_json_follow_the_schema(tmp_path):
    paths = report.write_all(_rows(tmp_path), tmp_path / "out")
    with paths["csv"].open() as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == report.NAMES
        rows = list(reader)
    assert len(rows) == 8
    for row in rows:
        for col in report.COLUMNS:
            cell = row[col.name]
            if cell == "":
                continue
            if col.type is bool:
                assert cell in ("True", "False"), (col.name, cell)
            else:
                col.type(cell)  # parses as the documented type (raises otherwise)
    data = json.loads(paths["json"].read_text())
    assert [list(r) for r in data] == [report.NAMES] * 8
    semtalk = next(r for r in data if r["method"] == "semtalk")
    assert semtalk["vmaf"] is None and semtalk["speech_kbps"] == 0.06
    assert semtalk["bpp_with_ref"] > semtalk["bpp"] > 0
    assert [r["status"] for r in data].count("error") == 1


def test_report_html_is_self_contained_and_has_every_table(tmp_path):
    paths = report.write_all(_rows(tmp_path), tmp_path / "out")
    text = paths["html"].read_text()
    assert not re.search(r"""(src|href)\s*=\s*['"](?!data:)""", text)
    assert "<link" not in text and "<script" not in text
    for title in report.tables([report.normalise(r) for r in _rows(tmp_path / "again")]):
        assert title.split(":")[0] in text
    assert text.count("data:image/png;base64,") >= 2  # rate–quality and quality-vs-loss figures
    assert "asked to fail" in text
    md = paths["md"].read_text()
    assert "| x264 + RS 0.5 @ 10 kbps | bursty (L=4) |" in md


def test_docs_describe_every_column():
    doc = DOCS.read_text()
    missing = [c.name for c in report.COLUMNS if f"`{c.name}`" not in doc]
    assert not missing


ALL = {"codec_video", "codec_loss", "codec_speech", "semtalk_loss", "pacsc", "text_rate", "text_loss"}


def test_quick_grid_is_one_clip_three_rates_three_loss_points():
    grid = Grid.quick()
    tasks = grid.tasks(available=ALL)
    assert {t.clip for t in tasks} == {grid.clips[0]}
    assert sorted({t.params["target_kbps"] for t in tasks if t.method == "codec_video"
                   and t.params["table"] == "rate_quality"}) == [6.4, 20.0, 80.0]
    assert sorted({t.params["loss"] for t in tasks if "loss" in t.params}) == [0.0, 0.3, 0.6]
    assert len(tasks) == len(set(tasks))


def test_full_grid_sweeps_every_loss_for_both_channels_and_skips_missing_methods():
    grid = Grid.full()
    tasks = grid.tasks(available=ALL)
    loss = [t for t in tasks if t.params.get("table") == "loss"]
    for burst in (1.0, 3.0):
        ps = sorted({t.params["loss"] for t in loss if t.params["burst"] == burst or t.params["loss"] == 0.0})
        assert ps == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert not [t for t in loss if t.params["loss"] == 0.0 and t.params["burst"] != 1.0]  # p = 0 runs once
    assert {(t.params["fec"], t.params["code_rate"]) for t in loss if t.method == "semtalk_loss"} == {
        ("none", 1.0), ("rs", 0.5), ("rs", 0.25), ("pacsc", 0.5), ("pacsc", 0.25)}
    assert {t.params["codec"] for t in loss if t.method == "codec_video"} == {"x264", "x265"}
    assert len(tasks) == len(set(tasks))
    fewer = grid.tasks(available={"codec_video", "semtalk_loss"})
    assert not [t for t in fewer if t.method in ("codec_speech", "text_loss", "text_rate")]
    assert not [t for t in fewer if t.params.get("fec") == "pacsc"]
    assert not [t for t in fewer if t.method == "codec_video" and t.params["table"] == "loss"]
