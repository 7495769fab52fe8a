"""The radio as a link channel (registry names ``awgn`` and ``rayleigh``): packets in, packets intact or lost.

Each batch a stream puts on the link is one ``DigitalRadio.transmit`` — CRC, 5G LDPC, QAM, the channel at the
call's SNR, soft demapping, decoding — and a packet that fails any check is dropped, so the FEC and concealment
above (RS, PacSC, TextPC) see the erasure channel they were built for. A channel holds its own generator
(seeded by the link per stream), so one seed gives one realisation of fades and noise; ``counts`` keeps the
PHY totals for the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from semtalk.phy.radio import DigitalRadio, RadioConfig, RadioCounts
from semtalk.records import Datagram


@dataclass(eq=False)
class RadioChannel:
    """One stream's radio link. Arrival time = send time + ``delay`` (air time is not modelled)."""

    kind = "radio"  # vs "packet": what ``semtalk run`` checks its flags against

    config: RadioConfig
    snr_db: float
    seed: int | np.random.Generator | None = None
    delay: float = 0.0
    counts: RadioCounts = field(default_factory=RadioCounts, init=False)
    _radio: DigitalRadio = field(init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.delay >= 0.0:
            raise ValueError(f"delay must be at least 0 seconds, got {self.delay}")
        self._radio = DigitalRadio(self.config)
        self._rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)

    @classmethod
    def from_config(cls, config, seed: int) -> RadioChannel:
        """From a ``link.ChannelConfig`` whose ``channel`` is ``awgn`` or ``rayleigh``."""
        if config.loss != 0.0 or config.burst != 1.0 or config.jitter != 0.0:
            raise ValueError("a radio channel loses packets through its SNR: loss, burst and jitter are for the "
                             "packet channels")
        radio = RadioConfig(modulation=config.modulation, ldpc_rate=config.ldpc_rate, channel=config.channel,
                            coherence=config.coherence, csi=config.csi, pilots=config.pilots)
        return cls(radio, config.snr, seed=seed, delay=config.delay)

    @property
    def sent(self) -> int:
        return self.counts.packets_sent

    @property
    def lost(self) -> int:
        return self.counts.packets_lost

    def __call__(self, batch: Sequence[Datagram]) -> list[Datagram]:
        """The packets of ``batch`` that decoded, each with its arrival time, in sending order."""
        if not batch:
            return []
        outcome = self._radio.transmit([d.data for d in batch], self.snr_db, self._rng)
        self.counts.add(outcome)
        return [Datagram(data, d.time + self.delay) for d, data in zip(batch, outcome.packets, strict=True)
                if data is not None]
