"""The one registry: every swappable component, by kind and name.

Entries are ``"module:Class"`` strings imported on first use, so ``import semtalk`` stays light and
nothing registers itself by import side effect (house rule 3). The CLI, configs and the benchmark
all read this table; there is no second one.
"""

from __future__ import annotations

import importlib
from typing import Any

REGISTRY: dict[str, dict[str, str]] = {
    "fec": {
        "none": "semtalk.fec.base:NoFec",
        "rs": "semtalk.fec.reed_solomon:ReedSolomonFec",
    },
    "channel": {
        "bernoulli": "semtalk.channel.packet_loss:BernoulliLoss",
        "gilbert_elliott": "semtalk.channel.packet_loss:GilbertElliottLoss",
    },
    "generator": {
        "face_warp": "semtalk.generators.face_renderer:FaceRenderer",
    },
    "pipeline": {
        "syncsc": "semtalk.pipelines.call:FaceCall",
    },
}


def names(kind: str) -> list[str]:
    """Registered names of one kind, sorted (what the CLI offers as choices)."""
    return sorted(_table(kind))


def get(kind: str, name: str) -> Any:
    """The class registered as ``name`` under ``kind``, imported now."""
    table = _table(kind)
    if name not in table:
        raise ValueError(f"unknown {kind} '{name}'; choose one of: {', '.join(sorted(table))}")
    module, _, attr = table[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _table(kind: str) -> dict[str, str]:
    if kind not in REGISTRY:
        raise ValueError(f"unknown component kind '{kind}'; kinds: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[kind]
