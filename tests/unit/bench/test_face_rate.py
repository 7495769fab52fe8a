"""The SyncSC suite's face-stream rate–distortion cells and table (issue 24)."""

from __future__ import annotations

from pathlib import Path

import semtalk
from semtalk.bench.report import normalise, tables
from semtalk.bench.runner import BenchEnv, Task
from semtalk.bench.syncsc import CLIPS, Grid, semtalk_method

HDTF = tuple(CLIPS[:3])


def face_rate_tasks(grid: Grid) -> list[Task]:
    return [t for t in grid.tasks(available={"semtalk"}) if t.params.get("table") == "face_rate"]


def test_the_full_grid_runs_every_target_on_the_hdtf_clips_without_speech():
    tasks = face_rate_tasks(Grid.full())
    assert {(t.clip, t.params["video_kbps"]) for t in tasks} == {(c, r) for c in HDTF
                                                                  for r in (0.8, 1.2, 1.6, 2.4, 3.2)}
    assert all(not t.params["speech"] and t.params["loss"] == 0.0 for t in tasks)
    assert len(face_rate_tasks(Grid.quick())) == 2
    assert face_rate_tasks(Grid(clips=("grid_bbaf2n.mpg",))) == []  # only clips the suite prepared


def test_the_cell_asks_for_its_target_and_records_it(tmp_path, monkeypatch):
    seen = {}

    def fake_run(clip, out, **options):
        seen.update(options, out=Path(out))
        return {"video": {"stream_kbps": 1.19, "frames": 200, "fps": 25.0, "ssim": 0.8, "vmaf": 20.0}}

    monkeypatch.setattr(semtalk, "run_clip", fake_run)
    env = BenchEnv(str(tmp_path / "data"), str(tmp_path / "work"))
    task = Task.make("semtalk", HDTF[0], 0, table="face_rate", loss=0.0, burst=1.0, fec="rs", code_rate=0.5,
                     speech=False, score_vmaf=True, video_kbps=1.2)
    row = semtalk_method(task, env)
    assert seen["video_kbps"] == 1.2 and seen["out"].name.endswith("_v1.2")
    assert row["target_kbps"] == 1.2 and row["kbps"] == 1.19


def test_the_table_lists_each_clip_and_the_mean_per_target():
    rows = [normalise({"status": "ok", "table": "face_rate", "method": "semtalk", "clip": c, "target_kbps": t,
                       "kbps": t * 0.99, "ssim": 0.7 + 0.01 * t + 0.001 * i, "vmaf": 10.0 + t})
            for i, c in enumerate(HDTF) for t in (0.8, 1.6)]
    md = tables(rows)["Face stream rate–distortion (held-out crops, p = 0; issue 24)"]
    assert md.count("\n| hdtf_") == 6
    assert "| mean | 0.8 | 0.792 | 0.7090 | 10.8 |" in md and "| mean | 1.6 | 1.584 | 0.7170 | 11.6 |" in md


def refresh_tasks(grid: Grid) -> list[Task]:
    return [t for t in grid.tasks(available={"semtalk"}) if t.params.get("table") == "face_refresh"]


def test_the_refresh_cells_run_every_budget_on_the_hdtf_clips_and_record_it(tmp_path, monkeypatch):
    tasks = refresh_tasks(Grid.full())
    assert {(t.clip, t.params["refresh_kbps"]) for t in tasks} == {(c, r) for c in HDTF for r in (4.0, 8.0, 16.0, 32.0)}
    assert len(refresh_tasks(Grid.quick())) == 1
    seen = {}

    def fake_run(clip, out, **options):
        seen.update(options, out=Path(out))
        return {"video": {"stream_kbps": 9.2, "refresh_kbps": 7.6, "frames": 200, "fps": 25.0, "ssim": 0.8},
                "refresh": {"sent": 4}}

    monkeypatch.setattr(semtalk, "run_clip", fake_run)
    row = semtalk_method(tasks[0], BenchEnv(str(tmp_path / "data"), str(tmp_path / "work")))
    assert seen["refresh_kbps"] == tasks[0].params["refresh_kbps"] and seen["out"].name.endswith("_r4.0")
    assert (row["target_kbps"], row["kbps"], row["refresh_kbps"], row["refreshes"]) == (4.0, 9.2, 7.6, 4)


def test_the_refresh_table_starts_from_the_plain_stream_and_lists_the_mean_per_budget():
    plain = [{"table": "face_rate", "target_kbps": 1.6, "kbps": 1.6, "ssim": 0.75, "vmaf": 13.0}]
    budget = [{"table": "face_refresh", "target_kbps": 8.0, "kbps": 9.6, "refresh_kbps": 8.0, "refreshes": 5,
               "ssim": 0.8, "vmaf": 20.0}]
    rows = [normalise({"status": "ok", "method": "semtalk", "clip": c, **r}) for c in HDTF for r in plain + budget]
    md = tables(rows)["KB refresh: quality against the refresh budget (held-out crops, p = 0; issue 24)"]
    assert md.count("\n| hdtf_") == 6
    assert "| mean | 0.0 |  | 0.00 | 1.60 | 0.7500 | 13.0 |" in md
    assert "| mean | 8.0 |  | 8.00 | 9.60 | 0.8000 | 20.0 |" in md
