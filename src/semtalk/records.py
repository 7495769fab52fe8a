"""Plain records that cross stage boundaries (numpy arrays and frozen dataclasses only)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import numpy as np

C = TypeVar("C")


@dataclass(frozen=True)
class Datagram:
    """One packet on the wire: its bytes and a time in seconds.

    Before the channel ``time`` is the send time; after it, the arrival time. The channel is the only
    stage that changes it.
    """

    data: bytes
    time: float


@dataclass(frozen=True)
class FaceFrame:
    """The face semantics of one video frame (SyncSC eq. 2).

    ``coeffs`` holds the continuous coefficients in the order given by ``semantics.face.COEFF_LAYOUT``;
    ``face_found`` is False when the encoder held the previous values because no face was detected;
    ``concealed`` is True when the receiver interpolated or held the frame because its packet was lost;
    ``field`` and ``variant`` are its packet's motion field and rendering variant (``CodedFrame``).
    """

    index: int
    coeffs: np.ndarray
    face_found: bool = True
    concealed: bool = False
    field: np.ndarray | None = None
    variant: int = 0


@dataclass(frozen=True)
class CodedFrame:
    """A face frame after quantisation: one unsigned code per coefficient; the way the sender chose to render it
    (``variant``: ``FaceRenderer.variant_weights``) and the motion field that moves that rendering onto the
    original (``generators.motion_field``), both the same for every frame of a packet."""

    index: int
    codes: np.ndarray  # uint16, one per coefficient
    face_found: bool = True
    field: np.ndarray | None = None  # (G, G, 2) lattice units; None: no correction
    variant: int = 0


@dataclass
class StageTimer:
    """Accumulated wall time per stage, reported as ms per frame."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def ms_per_frame(self, frames: int) -> dict[str, float]:
        n = max(frames, 1)
        return {k: round(1000.0 * v / n, 3) for k, v in self.seconds.items()}


@dataclass(frozen=True)
class Word:
    """One spoken word with its timing and prosody: the unit of the speech semantics (SyncSC §III-C).

    Times are seconds from the start of the input. ``f0`` (Hz, None when unvoiced or not sent) and
    ``energy`` (dB RMS re full scale, None when not sent) are the per-word prosody side information.
    At the receiver ``concealed`` marks a word predicted by text concealment rather than received, and
    ``timed`` is False when its timing was lost too and the synthesiser must place it.
    """

    text: str
    start: float
    end: float
    f0: float | None = None
    energy: float | None = None
    concealed: bool = False
    timed: bool = True

    @property
    def duration(self) -> float:
        return self.end - self.start


def config_from(cls: type[C], source: Any, **overrides: Any) -> C:
    """A config dataclass filled from the same-named fields of ``source`` (a wider config), then ``overrides``.

    One run's settings feed several stages (mode, link, enrollment); each takes the fields it names, so no
    mapping is written out twice.
    """
    names = {f.name for f in fields(cls) if f.init}
    values = {n: getattr(source, n) for n in names if hasattr(source, n)}
    return cls(**{**values, **overrides})


def rounded(value: Any, digits: int = 3) -> float | None:
    """A report number: rounded, or None for a missing or NaN value (JSON has no NaN)."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    return round(float(value), digits)
