"""SyncSC's KB refresh settings, apart from its ends (``refresh``) so the CLI can read the defaults without
importing numpy."""

from __future__ import annotations

from dataclasses import dataclass

# Pillow's codecs: a refresh is coded inside the sender's frame loop (AVIF at quality 20: ~45 ms for a 256² crop;
# Seb, a set codec, takes ~2 s for one picture and codes it worse).
REFRESH_CODECS = ("avif", "webp", "jpeg2000", "jpeg")


@dataclass(frozen=True)
class RefreshConfig:
    """``kbps`` 0: no refresh. ``ssim``: the predicted SSIM below which a frame is worth sending; ``quality``:
    the codec's (1..100); ``keep``: refreshes both ends warp from, besides the KB's keyframes (bounded memory);
    ``check_every``: the sender predicts every so many frames (and never while the eyes are closing)."""

    kbps: float = 0.0
    ssim: float = 0.8
    codec: str = "avif"
    quality: int = 20
    keep: int = 8
    check_every: int = 5  # frames between predictions (a rendering and an SSIM cost the sender ~30 ms)
    fps: float = 25.0
