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
