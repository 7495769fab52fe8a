"""Entropy coding of one packet's face codes with ``constriction``'s range coder (face payload version 2).

What a packet codes, in order (every model's parameters are known to both ends: fixed constants here or
derived from the KB by ``semantics.face.rate.face_coder``; nothing about the models travels per packet)::

    q          the packet's precision level, uniform over ``levels`` (5 bits)
    frame 0    face flag (Bernoulli) + every code on the level's grid, each a quantised Laplace around
               the KB's reference code with a per-coefficient scale (the keyframes' spread around it)
    frame t>0  face flag + every grid delta, a quantised Laplace whose mean and scale come from the same
               coefficient's previous deltas in this packet (SyncSC eq. 2's coefficients move smoothly,
               so a large last delta predicts a large next one: the context model)
    field      only in a stream with a motion-field grid G (``generators.motion_field``): a presence flag, the
               packet's rendering variant (uniform over ``VARIANTS``: ``FaceRenderer.variant_weights``), then the
               G × G × 2 lattice in raster order, each (x, y) pair a quantised Laplace whose mean and scale follow
               the mean of its left and upper neighbours

Precision: level ``q`` quantises code ``c`` of coefficient ``i`` to ``round(c / step[q, i])`` and the
receiver reconstructs ``min(level·step, top)``; level 0 has every step 1 (lossless). The steps come from
rate–distortion (reverse water-filling, Cover & Thomas §10.3.3: the step of each coefficient is inversely
proportional to the square root of its distortion weight), so the mouth and eyes keep finer steps than the
slow pose terms. Deltas are taken on the grid, so the receiver's reconstruction never drifts.

A range coder (not ANS) because a packet is decoded front to back as frames arrive in order; its flush costs
about 16 bits per packet (measured), which is why the rate controller groups more frames at low rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEVELS = 32  # precision levels a packet may choose (coded uniformly: 5 bits)
FOUND_P = 0.97  # prior probability that a frame has a face
MIN_SCALE = 0.08  # Laplace scale floor on the grid (scales must be positive)
# Delta context model (fine code units): scale = base + GAIN_LAST·|d_{t−1}| + GAIN_MEAN·mean|d| so far;
# mean = MOMENTUM·d_{t−1}. Fitted on the shared clips' coefficient tracks (docs/face-rate.md).
GAIN_LAST, GAIN_MEAN, MOMENTUM = 0.2, 0.2, 0.25
# The first delta of a packet before any context: a typical frame-to-frame change in code units per kind
# (expression, blink, rotation, translation, log-scale, crop), measured on the shared clips (docs/face-rate.md).
DELTA_SCALE = {"expr": 6.0, "blink": 3.0, "rot": 2.5, "trans": 2.5, "log_scale": 2.5, "crop": 0.3}
PRIOR_FLOOR = 4.0  # the first frame's Laplace scale is at least this many codes
# Motion-field lattice model (lattice units): scale = FIELD_BASE + FIELD_GAIN·|m|, mean = FIELD_MOMENTUM·m, m the
# mean of the left and upper neighbours. Fitted on the HDTF clips' fitted fields (21.4 bits per frame at 6 × 6 and
# 10 frames per packet; the zero-order entropy is 21.5: the field is only weakly smooth at this grid).
FIELD_BASE, FIELD_GAIN, FIELD_MOMENTUM = 0.8, 0.3, 0.5
FIELD_LIMIT = 31  # lattice values lie within ±FIELD_LIMIT units (a quarter of the crop side)
FIELD_P = 0.9  # prior probability that a packet of a stream with a field carries one
VARIANTS = 32  # rendering variants a packet may name (5 bits)


@dataclass(frozen=True, eq=False)
class FaceCoder:
    """The models both ends build from the KB: ``steps`` (LEVELS, C) grid steps in code units per level,
    ``prior_mean``/``prior_scale`` (C,) the first frame's Laplace, ``delta_scale`` (C,) the deltas' base scale,
    all in code units of a ``bits``-bit quantiser."""

    steps: np.ndarray
    prior_mean: np.ndarray
    prior_scale: np.ndarray
    delta_scale: np.ndarray
    bits: int = 8
    _models: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        c = self.n_coeffs
        if self.steps.shape != (LEVELS, c) or self.steps.min() < 1 or np.any(self.steps[0] != 1):
            raise ValueError(f"steps must be ({LEVELS}, {c}) integers ≥ 1, level 0 all ones")
        for name in ("prior_mean", "prior_scale", "delta_scale"):
            if np.shape(getattr(self, name)) != (c,):
                raise ValueError(f"{name} must have one value per coefficient ({c})")
        if np.any(self.prior_scale <= 0) or np.any(self.delta_scale <= 0):
            raise ValueError("model scales must be positive")

    @property
    def n_coeffs(self) -> int:
        return int(self.steps.shape[1])

    @property
    def top(self) -> int:
        return (1 << self.bits) - 1

    @classmethod
    def lossless(cls, n_coeffs: int, bits: int = 8) -> FaceCoder:
        """Every level lossless, models centred mid-range: for tests and streams without a KB."""
        top = (1 << bits) - 1
        return cls(np.ones((LEVELS, n_coeffs), dtype=np.int64), np.full(n_coeffs, top / 2),
                   np.full(n_coeffs, top / 4), np.full(n_coeffs, max(top / 64, 1.0)), bits)

    def grid(self, codes: np.ndarray, q: int) -> np.ndarray:
        """(N, C) codes → grid levels of precision ``q``."""
        return np.rint(np.asarray(codes, dtype=np.float64) / self.steps[q]).astype(np.int64)

    def codes(self, grid: np.ndarray, q: int) -> np.ndarray:
        """Grid levels → the codes the receiver reconstructs (uint16)."""
        return np.clip(np.asarray(grid, dtype=np.int64) * self.steps[q], 0, self.top).astype(np.uint16)

    def reconstruct(self, codes: np.ndarray, q: int) -> np.ndarray:
        """What the receiver gets for ``codes`` sent at precision ``q``."""
        return self.codes(self.grid(codes, q), q)

    def _model(self, name: str):
        import constriction

        if name not in self._models:
            m = constriction.stream.model
            span = (self.top + 1) // int(self.steps.min()) + 1
            self._models.update(laplace=m.QuantizedLaplace(-span, span), level=m.Uniform(LEVELS),
                                found=m.Categorical(np.array([1 - FOUND_P, FOUND_P]), perfect=False),
                                field=m.Categorical(np.array([1 - FIELD_P, FIELD_P]), perfect=False),
                                variant=m.Uniform(VARIANTS))
        return self._models[name]

    def _delta_params(self, prev: list[np.ndarray], step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and scale on the grid of the next delta, from this packet's previous grid deltas."""
        if not prev:
            return np.zeros(self.n_coeffs), np.maximum(self.delta_scale / step, MIN_SCALE)
        fine = [d * step for d in prev]
        scale = self.delta_scale + GAIN_LAST * np.abs(fine[-1]) + GAIN_MEAN * np.mean(np.abs(fine), axis=0)
        return MOMENTUM * prev[-1], np.maximum(scale / step, MIN_SCALE)

    def encode(self, codes: np.ndarray, found: np.ndarray, q: int, field_grid: int = 0,
               field: np.ndarray | None = None, variant: int = 0) -> bytes:
        """(N, C) codes and (N,) face flags at precision ``q`` → the range coder's bytes; in a stream whose motion
        field has a ``field_grid`` (0: none), the packet's rendering ``variant`` and (G, G, 2) lattice ``field``, or
        None for a packet without one."""
        import constriction

        step = self.steps[q].astype(np.float64)
        grid = self.grid(codes, q)
        enc = constriction.stream.queue.RangeEncoder()
        enc.encode(np.array([q], dtype=np.int32), self._model("level"))
        prev: list[np.ndarray] = []
        for t in range(len(grid)):
            enc.encode(np.array([int(found[t])], dtype=np.int32), self._model("found"))
            if t == 0:
                mean, scale = self.prior_mean / step, np.maximum(self.prior_scale / step, MIN_SCALE)
                enc.encode(grid[0].astype(np.int32), self._model("laplace"), mean, scale)
                continue
            mean, scale = self._delta_params(prev, step)
            d = grid[t] - grid[t - 1]
            enc.encode(d.astype(np.int32), self._model("laplace"), mean, scale)
            prev.append(d)
        if field_grid:
            if not 0 <= variant < VARIANTS:
                raise ValueError(f"a rendering variant is 0..{VARIANTS - 1}, got {variant}")
            enc.encode(np.array([int(field is not None)], dtype=np.int32), self._model("field"))
            enc.encode(np.array([variant], dtype=np.int32), self._model("variant"))
            if field is not None:
                lattice = np.asarray(field, dtype=np.int64)
                if lattice.shape != (field_grid, field_grid, 2) or np.abs(lattice).max() > FIELD_LIMIT:
                    raise ValueError(f"the motion field must be ({field_grid}, {field_grid}, 2) values within "
                                     f"±{FIELD_LIMIT}, got {lattice.shape}")
                for y, x in np.ndindex(field_grid, field_grid):
                    mean, scale = _field_params(lattice, y, x)
                    enc.encode(lattice[y, x].astype(np.int32), self._model("laplace"), mean, scale)
        return enc.get_compressed().astype(">u4").tobytes()

    def decode(self, data: bytes, n: int,
               field_grid: int = 0) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None, int]:
        """Bytes of ``n`` frames → ((n, C) uint16 codes, (n,) face flags, precision level, the motion field or
        None, the rendering variant); ``ValueError`` for anything that is not a packet of this coder (wrong length,
        a level, code or field value off its range)."""
        import constriction

        if len(data) % 4 or not data:
            raise ValueError("face payload body is not a whole number of 32-bit words")
        dec = constriction.stream.queue.RangeDecoder(np.frombuffer(data, dtype=">u4").astype(np.uint32))
        try:
            q = int(dec.decode(self._model("level"), 1)[0])
            step = self.steps[q].astype(np.float64)
            grid, found, prev = [], [], []
            for t in range(n):
                found.append(bool(dec.decode(self._model("found"), 1)[0]))
                if t == 0:
                    mean, scale = self.prior_mean / step, np.maximum(self.prior_scale / step, MIN_SCALE)
                    grid.append(dec.decode(self._model("laplace"), mean, scale).astype(np.int64))
                    continue
                mean, scale = self._delta_params(prev, step)
                d = dec.decode(self._model("laplace"), mean, scale).astype(np.int64)
                grid.append(grid[-1] + d)
                prev.append(d)
            field, variant = None, 0
            if field_grid:
                present = bool(dec.decode(self._model("field"), 1)[0])
                variant = int(dec.decode(self._model("variant"), 1)[0])
                field = self._decode_field(dec, field_grid) if present else None
        except (AssertionError, ValueError, RuntimeError, OverflowError) as exc:  # constriction: invalid data
            raise ValueError(f"face payload does not decode: {exc}") from exc
        g = np.stack(grid)
        if g.min() < 0 or np.any(g * self.steps[q] > self.top + self.steps[q] // 2):
            raise ValueError("face payload leaves the quantiser range")
        if field is not None and np.abs(field).max() > FIELD_LIMIT:
            raise ValueError("face payload's motion field leaves its range")
        return self.codes(g, q), np.array(found), q, field, variant

    def _decode_field(self, dec, field_grid: int) -> np.ndarray:
        field = np.zeros((field_grid, field_grid, 2), dtype=np.int64)
        for y, x in np.ndindex(field_grid, field_grid):
            mean, scale = _field_params(field, y, x)
            field[y, x] = dec.decode(self._model("laplace"), mean, scale)
        return field


def _field_params(field: np.ndarray, y: int, x: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale of lattice value (y, x) from its already coded left and upper neighbours."""
    near = [field[y, x - 1]] if x else []
    near += [field[y - 1, x]] if y else []
    m = np.mean(near, axis=0) if near else np.zeros(2)
    return FIELD_MOMENTUM * m, FIELD_BASE + FIELD_GAIN * np.abs(m)


PACKET_OVERHEAD_BITS = 80  # header 16 + level 5 + flush ≈ 16 + the first frame's excess over a delta ≈ 40
OVERHEAD_SHARE = 0.25  # at most this share of a packet's budget goes to its overhead
FIELD_BITS_PER_VALUE = 3.0  # a motion-field lattice value's typical cost (21.4 bits a frame for 72 values / 10 frames)
FIELD_SHARE = 0.35  # ... and at most this share of a packet's budget goes to its motion field


def frames_for_rate(target_kbps: float, fps: float, minimum: int, maximum: int = 16, field_grid: int = 0) -> int:
    """Frames per packet for a rate target: the fewest (the least delay) that keep the per-packet overhead
    within OVERHEAD_SHARE of the budget and a ``field_grid`` motion field (one per packet) within FIELD_SHARE, but
    never fewer than ``minimum`` (``--frames-per-packet``)."""
    per_frame = target_kbps * 1000 / fps
    need = max(PACKET_OVERHEAD_BITS / OVERHEAD_SHARE, FIELD_BITS_PER_VALUE * 2 * field_grid ** 2 / FIELD_SHARE)
    return int(min(max(minimum, np.ceil(need / per_frame)), maximum))


def face_coder(kb) -> FaceCoder:
    """The coefficient coder both ends derive from the KB: the ladder from ``rate.distortion_weights``, the first
    frame's prior around the reference codes with the keyframes' spread, the deltas' base scales per kind."""
    from semtalk.semantics.face.rate import distortion_weights, ladder

    model = kb.face_model
    ref = kb.reference.codes.astype(np.float64)
    keys = np.stack([k.codes for k in kb.keyframes]).astype(np.float64)
    spread = np.maximum(np.abs(keys - ref).mean(0), PRIOR_FLOOR)
    delta = np.zeros(model.n_coeffs)
    for name, idx in model.split(np.arange(model.n_coeffs)).items():
        delta[idx.astype(int)] = DELTA_SCALE[name]
    return FaceCoder(ladder(distortion_weights(kb), LEVELS), ref, spread, delta, kb.quantizer.bits)
