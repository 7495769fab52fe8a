"""Seeded packet channels: loss (i.i.d. or bursty), delay, jitter, reordering and duplication.

A channel is called on a batch of ``Datagram`` (time = send time) and returns the survivors with
time = arrival time, sorted by arrival, so jitter reorders packets the way a real network does.
Channels are stateful (random generator, Markov state, counters): calling one batch by batch
continues the same realisation. Nothing here reads the clock or the global RNG.

The generator from ``seed`` is split in two: one child draws losses, the other draws timing, so a
seed gives the same loss pattern whatever the delay, jitter, reorder or duplicate settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field

import numpy as np

from semtalk.records import Datagram


def burst_lengths(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive losses in a boolean mask (True = lost), in order."""
    padded = np.concatenate(([False], np.asarray(mask, dtype=bool).ravel(), [False]))
    edges = np.diff(padded.astype(np.int8))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


@dataclass(eq=False)
class _PacketChannel:
    """Shared impairments; subclasses only say which packets are lost (``loss_mask``).

    Everything after the loss parameters is keyword-only.

    Each surviving packet arrives after ``delay`` plus |N(0, jitter²)| seconds; with probability
    ``reorder`` it is held back a further ``reorder_delay`` seconds; with probability
    ``duplicate`` a copy is delivered too, with its own jitter draw.
    """

    kind = "packet"  # vs "radio": what ``semtalk run`` checks its flags against

    loss: float
    _: KW_ONLY
    seed: int | np.random.Generator | None = None
    delay: float = 0.0
    jitter: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    reorder_delay: float = 0.1
    sent: int = field(default=0, init=False, repr=False)
    lost: int = field(default=0, init=False, repr=False)
    duplicated: int = field(default=0, init=False, repr=False)
    _loss_rng: np.random.Generator = field(init=False, repr=False)
    _time_rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("delay", "jitter", "reorder_delay"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be at least 0 seconds, got {getattr(self, name)}")
        for name in ("reorder", "duplicate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} probability must be in [0, 1], got {getattr(self, name)}")
        rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)
        self._loss_rng, self._time_rng = rng.spawn(2)

    def loss_mask(self, count: int) -> np.ndarray:
        """Draw the fate of the next ``count`` packets: True = lost. Advances the channel state."""
        raise NotImplementedError

    def __call__(self, batch: Sequence[Datagram]) -> list[Datagram]:
        """Survivors of ``batch`` with their arrival times, sorted by arrival (stable on ties)."""
        count = len(batch)
        mask = self.loss_mask(count)
        rng = self._time_rng
        wait = self.delay + np.abs(rng.normal(0.0, self.jitter, count))
        wait += np.where(rng.random(count) < self.reorder, self.reorder_delay, 0.0)
        copy = rng.random(count) < self.duplicate
        copy_wait = self.delay + np.abs(rng.normal(0.0, self.jitter, count))
        self.sent += count
        self.lost += int(mask.sum())
        out = []
        for i, datagram in enumerate(batch):
            if mask[i]:
                continue
            out.append(Datagram(datagram.data, datagram.time + float(wait[i])))
            if copy[i]:
                out.append(Datagram(datagram.data, datagram.time + float(copy_wait[i])))
                self.duplicated += 1
        return sorted(out, key=lambda d: d.time)


@dataclass(eq=False)
class BernoulliLoss(_PacketChannel):
    """Each packet is lost independently with probability ``loss``.

    ``loss = 1`` is allowed: it is the outage end of a loss sweep. Mean burst length is 1/(1 − p).
    """

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError(f"loss must be in [0, 1], got {self.loss}")
        super().__post_init__()

    def loss_mask(self, count: int) -> np.ndarray:
        return self._loss_rng.random(count) < self.loss

    @classmethod
    def from_config(cls, config, seed: int) -> BernoulliLoss:
        """From a ``link.ChannelConfig``; a burst length belongs to ``gilbert_elliott``."""
        if config.burst != 1.0:
            raise ValueError(f"a mean burst length ({config.burst:g}) needs the gilbert_elliott channel")
        return cls(config.loss, seed=seed, delay=config.delay, jitter=config.jitter)


@dataclass(eq=False)
class GilbertElliottLoss(_PacketChannel):
    """Bursty loss: a two-state Markov chain where the bad state loses every packet, the good none.

    Parameterised by the mean loss rate p (``loss``) and mean burst length L (``burst``), which
    give the transition probabilities (Gilbert 1960; Elliott 1963)::

        P(bad -> good) = 1 / L,        P(good -> bad) = p / (L (1 - p))

    so the stationary loss is p and bursts are geometric with mean L. L = 1 / (1 - p) gives
    Bernoulli loss; L must be at least p / (1 - p) for P(good -> bad) to be a probability. The
    first packet's state is drawn from the stationary distribution.
    """

    burst: float
    _bad: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss < 1.0:
            raise ValueError(f"Gilbert–Elliott loss must be in [0, 1), got {self.loss}")
        if not self.burst >= 1.0:
            raise ValueError(f"Gilbert–Elliott mean burst length must be at least 1, got {self.burst}")
        if self.loss / (1.0 - self.loss) > self.burst:
            raise ValueError(
                f"Gilbert–Elliott mean burst length {self.burst} is too short for loss {self.loss}: "
                f"it must be at least p / (1 - p) = {self.loss / (1.0 - self.loss):.4g}"
            )
        super().__post_init__()
        self._bad = bool(self._loss_rng.random() < self.loss)

    @classmethod
    def from_config(cls, config, seed: int) -> GilbertElliottLoss:
        """From a ``link.ChannelConfig``."""
        return cls(config.loss, config.burst, seed=seed, delay=config.delay, jitter=config.jitter)

    @property
    def p_bad_to_good(self) -> float:
        return 1.0 / self.burst

    @property
    def p_good_to_bad(self) -> float:
        return self.loss / (self.burst * (1.0 - self.loss))

    def loss_mask(self, count: int) -> np.ndarray:
        leave_bad, leave_good = self.p_bad_to_good, self.p_good_to_bad
        draws = self._loss_rng.random(count).tolist()
        bad = self._bad
        states = []
        for u in draws:
            states.append(bad)
            bad = u >= leave_bad if bad else u < leave_good
        self._bad = bad
        return np.array(states, dtype=bool)
