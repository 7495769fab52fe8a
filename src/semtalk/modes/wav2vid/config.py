"""Wav2Vid's settings, apart from its ends so the CLI can read the defaults without importing numpy."""

from __future__ import annotations

from dataclasses import dataclass

from semtalk import registry
from semtalk.fec.base import PacketFec

# The clip codec's speed preset when ``--clip-preset`` is not given. Clips are rare and short, so the sender can
# afford a slow preset: x265 "slow" codes a 5-frame clip in ≈ 90 ms on one core (ultrafast ≈ 30 ms) and, at the
# same 150 kbps, raises the clips' SSIM 0.964 → 0.973, so Table II's reduction goes 72.5 → 79.4 % pooled
# (docs/wav2vid.md, "Clip preset"). A codec not listed keeps ``encode_video``'s call default.
CLIP_PRESETS = {"x265": "slow"}
MAX_CLIP_CACHE = 64  # clips kept for reuse at most (5 decoded 256² frames each, ≈ 1 MB)


@dataclass(frozen=True)
class Wav2vidConfig:
    """Both ends' settings. ``pose_threshold``: ε of eq. 3 in degrees; ``clip_kbps``: the clip codec's target
    bitrate while a clip is sent; ``clip_preset``: its speed preset (None: ``CLIP_PRESETS``' for the codec);
    ``fec`` protects the clip fragments and the Opus packets (the ASC's analog symbols need none);
    ``clip_cache``: the clips sent both ends keep for reuse (0: none), a due clip within ``reuse_fraction`` · ε of
    one of them is not sent but reused (``pose.PoseTrigger``; docs/wav2vid.md, "Clip cache")."""

    pose_threshold: float = 15.0  # tuned on 4 shared clips: docs/wav2vid.md, "Choosing ε"
    pose_window: int = 5
    clip_frames: int = 5
    clip_codec: str = "x265"
    clip_kbps: float = 150.0
    clip_preset: str | None = None
    clip_cache: int = 8
    reuse_fraction: float = 0.2  # ρ: 3° at ε = 15°; tuned on the 6 shared clips (docs/wav2vid.md, "Clip cache")
    audio_carrier: str = "opus"
    audio_kbps: float = 8.0
    fec: str = "rs"
    code_rate: float = 0.5
    fec_k: int = 4
    seed: int = 0
    playout_margin: float = 0.0

    def packet_code(self) -> PacketFec:
        return registry.get("fec", self.fec)(k=self.fec_k, code_rate=self.code_rate).packet_code()

    @property
    def preset(self) -> str | None:
        """The preset the clips are coded with (None: ``encode_video``'s default for the codec)."""
        return clip_preset(self.clip_codec, self.clip_preset)


def clip_preset(codec: str, preset: str | None = None) -> str | None:
    """``preset``, or the mode's tuned one for ``codec`` when None: what the sender and the bench re-coding use."""
    return preset if preset is not None else CLIP_PRESETS.get(codec)
