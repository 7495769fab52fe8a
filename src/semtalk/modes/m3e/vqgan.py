"""M3E-VSC's text → image and text → audio generators (the paper's VQGAN decoders), as named components with no
weights.

The paper regenerates keyframes and speech from text with VQGAN-based generators trained on its own data. No such
weights are published under a licence we can ship, and nothing is downloaded at run time, so these registry
entries (kind ``text_generator``) exist to name the interface and fail in one clear line; M3E's receiver uses the
sent keyframes and TTS in the KB voice instead (docs/m3e.md, "What is not the paper's"). A generator that lands
later implements ``TextGenerator`` and replaces the factory here.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from semtalk.errors import SemtalkError


class TextGenerator(Protocol):
    """Text (and, for images, the last keyframe as a style reference) → media."""

    name: str

    def __call__(self, text: str, reference: np.ndarray | None = None) -> np.ndarray: ...


def _unavailable(name: str) -> SemtalkError:
    return SemtalkError(f"text generator {name}: no weights available offline (the paper's VQGAN is not published "
                        "for redistribution); see docs/m3e.md")


def vqgan_image() -> TextGenerator:
    raise _unavailable("vqgan-image")


def vqgan_audio() -> TextGenerator:
    raise _unavailable("vqgan-audio")
