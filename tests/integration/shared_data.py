"""Where the real clips live (../shared/data beside the checkout); tests skip cleanly without them."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def real_clip(name: str) -> Path:
    path = SHARED / "faces_av" / name
    if not path.is_file():
        pytest.skip(f"real data not available ({path})")
    return path
