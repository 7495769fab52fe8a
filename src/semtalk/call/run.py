"""The SyncSC face-video path end to end, streaming frame by frame.

    media → landmarks + stable crop → coefficients → quantise → RTP → FEC → channel
          → FEC decode → depacketise → play-out + concealment → renderer → mp4 + metrics

Only bounded buffers exist between the stages (the FEC block and the play-out delay), so memory
does not grow with the length of the input.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from semtalk.errors import SemtalkError
from semtalk.link.simulated import NetworkConfig
from semtalk.records import StageTimer
from semtalk.semantics.face.encoder import CropConfig


@dataclass(frozen=True)
class RunConfig(NetworkConfig):
    """Everything ``semtalk run`` can set (the network settings, then these); defaults are SyncSC's."""

    frames_per_packet: int = 5
    enroll_seconds: float = 2.0
    n_expr: int = 6
    bits: int = 8
    keyframes: int = 10
    crop_size: int = 256
    kb: str | None = None
    receiver_kb: str | None = None
    max_seconds: float | None = None
    speech: bool = True
    transcript: str | None = None
    text_window: int = 12
    prosody: bool = True
    voice_adapt: bool = False
    voice_seconds: float = 4.0
    lm_text: str | None = None
    vmaf: bool = True
    write_video: bool = True
    progress: bool = True


def run(input_path: str | Path, out_dir: str | Path, config: RunConfig = RunConfig()) -> dict:
    """Run a clip through the chain; writes received.mp4, side_by_side.mp4, report.json into ``out_dir``."""
    from semtalk.modes.syncsc.call import FaceCall

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    call = FaceCall.setup(input_path, out, config)
    with tempfile.TemporaryDirectory(prefix="semtalk-run-") as tmp:
        report = call.run(Path(tmp))
    (out / "report.json").write_text(json.dumps(report, indent=2, default=_json_default))
    return report


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def timed(it: Iterator, timer: StageTimer, stage: str) -> Iterator:
    """Wrap a generator so the time spent producing each item is charged to ``stage``."""
    while True:
        t = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            return
        timer.add(stage, time.perf_counter() - t)
        yield item


def network_config(config: RunConfig) -> NetworkConfig:
    return NetworkConfig(**{f.name: getattr(config, f.name) for f in fields(NetworkConfig)})


def crop_config(config: RunConfig) -> CropConfig:
    return CropConfig(size=config.crop_size)


def config_dict(config: RunConfig) -> dict:
    return {k: v for k, v in asdict(config).items() if k != "progress"}


def check_config(config: RunConfig) -> None:
    """Reject impossible settings with one clear line before any work starts."""
    from semtalk import registry

    if not 0.0 <= config.loss <= 1.0:
        raise SemtalkError(f"--loss must be in [0, 1], got {config.loss}")
    if config.burst < 1.0:
        raise SemtalkError(f"--burst is a mean burst length in packets and must be ≥ 1, got {config.burst}")
    if config.fec not in registry.names("fec"):
        raise SemtalkError(f"--fec must be one of {', '.join(registry.names('fec'))}, got '{config.fec}'")
    if not 0.0 < config.code_rate <= 1.0:
        raise SemtalkError(f"--code-rate must be in (0, 1], got {config.code_rate}")
    if config.fec.startswith("pacsc") and (min(abs(config.code_rate - r) for r in (0.5, 0.25)) > 0.005
                                  or config.fec_k != 4 or config.frames_per_packet != 5):
        raise SemtalkError(f"--fec {config.fec} is trained for 20-frame blocks: it takes --code-rate 0.5 or 0.25 with "
                           f"--fec-k 4 and --frames-per-packet 5, got {config.code_rate}, {config.fec_k}, "
                           f"{config.frames_per_packet}")
    if not 1 <= config.frames_per_packet <= 16:
        raise SemtalkError(f"--frames-per-packet must be in 1..16, got {config.frames_per_packet}")
    if config.enroll_seconds <= 0:
        raise SemtalkError(f"--enroll-seconds must be positive, got {config.enroll_seconds}")
    if not 1 <= config.text_window <= 16:
        raise SemtalkError(f"--text-window must be in 1..16 words, got {config.text_window}")
    if config.voice_seconds <= 0:
        raise SemtalkError(f"--voice-seconds must be positive, got {config.voice_seconds}")
    if config.transcript is not None and not Path(config.transcript).is_file():
        raise SemtalkError(f"transcript not found: {config.transcript}")
    if config.lm_text is not None and config.kb:
        raise SemtalkError("--lm-text goes into a KB built for this run; with --kb, build the KB with "
                           "`semtalk kb build --lm-text FILE` instead")
    if config.lm_text is not None and not Path(config.lm_text).is_file():
        raise SemtalkError(f"--lm-text file not found: {config.lm_text}")
    if config.crop_size < 64 or config.crop_size % 2:
        raise SemtalkError(f"--crop-size must be an even number ≥ 64, got {config.crop_size}")

