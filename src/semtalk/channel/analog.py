"""The analog radio link as a channel of the simulated link: packets whose symbols reach the receiver noisy.

A learned joint source–channel coder (Wav2Vid's ASC) sends its latent as complex symbols, not bits: nothing is
lost, everything is perturbed. Each packet's first ``streams.audio.DIGITAL_BYTES`` (the RTP and payload headers)
are side information sent digitally and taken as error-free; its symbols go through ``phy.analog.analog_channel``
at the call's SNR (Es/N0 per complex symbol, the digital radio's definition), over AWGN or block Rayleigh fading
with the receiver knowing the fades (MMSE equalised). A packet's symbols are scaled to unit mean power first:
the transmitter's power constraint, whatever the sender put in.

Channel uses: one per symbol, plus the header's bits at the digital link's QAM order and LDPC rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from semtalk.records import Datagram
from semtalk.streams.audio import DIGITAL_BYTES


@dataclass
class AnalogCounts:
    """What an analog stream cost: symbols on air (its channel uses) and the digital headers' share."""

    packets: int = 0
    symbols: int = 0
    header_uses: int = 0

    @property
    def channel_uses(self) -> int:
        return self.symbols + self.header_uses


@dataclass(eq=False)
class AnalogChannel:
    """One stream's analog link; arrival = send time + ``delay``."""

    kind = "analog"

    channel: str
    snr_db: float
    coherence: int = 100
    header_bits_per_use: float = 1.0  # modulation bits × LDPC rate of the digital side channel
    seed: int | np.random.Generator | None = None
    delay: float = 0.0
    counts: AnalogCounts = field(default_factory=AnalogCounts, init=False)
    lost: int = field(default=0, init=False)  # an analog packet is never lost, only perturbed

    def __post_init__(self) -> None:
        if self.channel not in ("awgn", "rayleigh"):
            raise ValueError(f"an analog link needs --channel awgn or rayleigh, got {self.channel!r}")
        self._rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)

    @classmethod
    def from_config(cls, config, seed: int) -> AnalogChannel:
        """From a ``link.ChannelConfig`` whose ``channel`` is ``awgn`` or ``rayleigh``."""
        from semtalk.phy.modem import BITS_PER_SYMBOL
        from semtalk.phy.radio import ldpc_rate

        bits = BITS_PER_SYMBOL[config.modulation] * float(ldpc_rate(config.ldpc_rate))
        return cls(config.channel, config.snr, coherence=config.coherence, header_bits_per_use=bits, seed=seed,
                   delay=config.delay)

    @property
    def sent(self) -> int:
        return self.counts.packets

    def __call__(self, batch: Sequence[Datagram]) -> list[Datagram]:
        import torch

        from semtalk.phy.analog import analog_channel

        out = []
        for d in batch:
            head, body = d.data[:DIGITAL_BYTES], d.data[DIGITAL_BYTES:]
            self.counts.packets += 1
            self.counts.header_uses += math.ceil(8 * len(head) / self.header_bits_per_use)
            if len(body) >= 8 and len(body) % 8 == 0:
                x = torch.from_numpy(np.frombuffer(body, dtype="<c8").copy())
                y = analog_channel(x, self.snr_db, channel=self.channel, coherence=self.coherence, rng=self._rng)
                body = y.numpy().astype("<c8").tobytes()
                self.counts.symbols += x.numel()
            out.append(Datagram(head + body, d.time + self.delay))
        return out
