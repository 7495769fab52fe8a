"""Harness tests: fake methods live in bench_fakes.py so that Dask worker processes can import them."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
