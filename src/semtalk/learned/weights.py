"""The learned components' weights, shipped inside the package: read from it, once, never from the network."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=8)
def shipped(name: str) -> dict:
    """The torch bundle ``semtalk/weights/<name>`` (CPU tensors; ``weights_only``: no code runs on load)."""
    from importlib.resources import files

    import torch

    with (files("semtalk") / "weights" / name).open("rb") as f:
        return torch.load(f, map_location="cpu", weights_only=True)
