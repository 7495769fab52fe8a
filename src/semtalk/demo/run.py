"""`semtalk demo`: make the embedded sample once, then run it through a lossy call."""

from __future__ import annotations

from pathlib import Path

from semtalk.call.run import RunConfig, run
from semtalk.demo.sample import make_sample


def run_demo(out_dir: str | Path, loss: float = 0.1, progress: bool = True) -> dict:
    """Write ``sample.mp4`` (if missing) and the run's outputs into ``out_dir``; returns the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sample = out / "sample.mp4"
    if not sample.is_file():
        print(f"semtalk: making the sample clip {sample} (a bundled public-domain portrait, animated, "
              "speaking in piper's voice)")
        make_sample(sample.with_suffix(".part.mp4"), speech=True)
        sample.with_suffix(".part.mp4").replace(sample)
    return run(sample, out, RunConfig(loss=loss, progress=progress))
