"""Wav2Vid's settings, apart from its ends so the CLI can read the defaults without importing numpy."""

from __future__ import annotations

from dataclasses import dataclass

from semtalk import registry
from semtalk.fec.base import PacketFec


@dataclass(frozen=True)
class Wav2vidConfig:
    """Both ends' settings. ``pose_threshold``: ε of eq. 3 in degrees; ``clip_kbps``: the clip codec's target
    bitrate while a clip is sent; ``fec`` protects the clip fragments and the Opus packets (the ASC's analog
    symbols need none)."""

    pose_threshold: float = 15.0  # tuned on 4 shared clips: docs/wav2vid.md, "Choosing ε"
    pose_window: int = 5
    clip_frames: int = 5
    clip_codec: str = "x265"
    clip_kbps: float = 150.0
    audio_carrier: str = "opus"
    audio_kbps: float = 8.0
    fec: str = "rs"
    code_rate: float = 0.5
    fec_k: int = 4
    seed: int = 0
    playout_margin: float = 0.0

    def packet_code(self) -> PacketFec:
        return registry.get("fec", self.fec)(k=self.fec_k, code_rate=self.code_rate).packet_code()
