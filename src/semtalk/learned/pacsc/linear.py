"""Systematic PacSC: the codes themselves plus real-valued parity rows, decoded by a learned Gaussian prior.

Why not the paper's code alone (``pacsc_model``, registry name ``pacsc-mae``): every row it sends is a
learned mixture, so even a block that arrives whole comes back with the network's error (about 3 code
steps on held-out speakers), and RS, exact until its cliff, wins at every loss below 0.8. This code
keeps what makes PacSC degrade gracefully — parity whose values still carry meaning when too few
packets arrive — and adds what makes RS exact:

- rows ``0 … K−1`` are systematic: the 8-bit codes of 5 consecutive frames each (a block of 20 frames
  is ``K = 4`` rows, exactly RS's ``k = 4`` face packets);
- rows ``K … M−1`` are parity: value ``j`` of parity row ``p`` is ``Σ_r G[p, r] · z_r[j]``, where
  ``z_r`` is systematic row ``r`` standardised per coefficient, so each parity value mixes one
  coefficient at four frames 5 apart. ``G`` (P × K, unit rows) is chosen so that every K-row subset
  of ``[I; G]`` is as well conditioned as we could find; values are quantised to 8 bits over
  ``±span`` (see ``SPAN_QUANTILE``);
- the receiver keeps every received frame exactly and estimates the others as the posterior mean
  under a Gaussian prior of each coefficient's trajectory — the previous block's last frame plus the
  block's 20 frames, a 21 × 21 covariance per coefficient fitted on training clips — given the
  received frames and the received parity (quantisation noise as observation noise).

The decoder is the masked autoencoder in closed form: visible frames in, masked frames predicted from
context and parity. With at least K rows in, the parity equations pin the lost frames (up to
quantisation noise, then rounded to codes); with fewer, the prior fills what the equations leave open,
and the last frame decoded before the block anchors it, which is why lost blocks do not snap to the
mean. When the blocks between were lost the anchor is older, and it is weighed by a stationary
autocovariance fitted at lags up to ``MAX_LAG``. The prior is centred on the mean of the exact frames
received so far as they accumulate (``SEEN_ROWS``): a per-speaker adaptation that costs no bits.
Per coefficient the problem is at most 20 unknowns, so a block decodes in well under a millisecond.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from semtalk.learned.pacsc.config import LEVELS, PacscConfig, rate_config
from semtalk.learned.pacsc.data import sample_windows

_FIELDS = ("mix", "span", "coeff_mean", "coeff_scale", "mean", "cov", "acov")

WEIGHTS = "pacsc_linear.npz"
SCALE_FLOOR = 2.0 / LEVELS  # a coefficient that hardly moves is standardised by 2 code steps, not by ~0
# Parity levels cover the 90th percentile of |parity|; the 10 % beyond saturate and are dropped by the
# decoder. Fine levels on 90 % beat coarse ones on all: at the 99.9th percentile a level is ~3 code
# steps and rate 1/4 loses to RS at p = 0.6 (held-out error 0.66 vs 0.19; at the 90th, 0.18).
SPAN_QUANTILE = 0.9
# The speaker's mean replaces the training mean as the prior's centre with weight n / (n + SEEN_ROWS)
# after n received code rows (5 frames each): held-out speakers sit ~1 training std off the mean.
SEEN_ROWS = 4
MAX_LAG = 100  # frames (4 s): an older anchor is weighed as one this old
AHEAD_RESIDUAL = 0.1  # least share of a frame-ahead's variance its joint prior must leave unexplained (stays PD)


@dataclass(frozen=True)
class LinearCode:
    """Trained parameters of one code rate (all float64 arrays)."""

    cfg: PacscConfig
    mix: np.ndarray  # G (P, K), unit rows
    span: float  # parity quantiser covers ±span (standardised units)
    coeff_mean: np.ndarray  # (C,) on the [0, 1] code scale
    coeff_scale: np.ndarray  # (C,)
    mean: np.ndarray  # (C, F + 1) prior mean of [previous frame, block frames], standardised
    cov: np.ndarray  # (C, F + 1, F + 1) prior covariance per coefficient
    acov: np.ndarray  # (C, MAX_LAG + F) covariance of a frame with the one k frames later, about the mean

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}{k}": np.asarray(getattr(self, k)) for k in _FIELDS}

    @classmethod
    def from_arrays(cls, cfg: PacscConfig, z, prefix: str) -> LinearCode:
        code = cls(cfg, *(np.asarray(z[f"{prefix}{k}"], dtype=np.float64) for k in _FIELDS))
        object.__setattr__(code, "span", float(code.span))
        shapes = {"mix": (cfg.parity_rows, cfg.systematic_rows), "cov": (cfg.n_coeffs, cfg.frames + 1, cfg.frames + 1),
                  "acov": (cfg.n_coeffs, MAX_LAG + cfg.frames)}
        if any(getattr(code, k).shape != shape for k, shape in shapes.items()):
            raise ValueError(f"PacSC linear weights do not match the configuration of rate {cfg.code_rate}")
        return code

    @property
    def noise(self) -> float:
        """Variance of the 8-bit parity quantisation error, in standardised units."""
        return (2 * self.span / LEVELS) ** 2 / 12

    def prior(self, lag: int, ahead: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Prior mean and covariance of [anchor, block frames(, next)] for an anchor ``lag`` frames before the
        block and, when ``ahead`` is given, an exact frame that many frames after the block's last one.

        At lag 1 it is the fitted window prior. An older anchor (the blocks between were lost) keeps the
        window prior of the block frames, and its row and column come from the stationary ``acov``: its
        pull fades with the lag but never to zero, since a speaker's mean face is not the training mean.
        The frame ahead (a code row of the next block that arrived while this one plays) is placed the same
        way, so the frames near the block's end bend toward where the face is going, not only where it was.
        """
        top = self.acov.shape[1] - 1
        mean, cov = self.mean, self.cov
        if lag > 1:
            lags = np.minimum(lag + np.arange(self.cfg.frames), top)
            cov = cov.copy()
            cov[:, 0, 0] = self.acov[:, 0]
            cov[:, 0, 1:] = cov[:, 1:, 0] = self.acov[:, lags]
            mean = mean.copy()
            mean[:, 0] = 0.0  # a frame about which nothing is known: the coefficient's mean
        if ahead is None:
            return mean, cov
        frames = self.cfg.frames
        dist = np.minimum(frames - 1 + ahead - np.concatenate([[-lag], np.arange(frames)]), top)
        cross, var = self.acov[:, dist], self.acov[:, 0]
        # The window prior is fitted on augmented windows and ``acov`` on the clips as they are, so joined
        # they need not be a covariance: the cross terms are scaled down just enough to keep at least
        # AHEAD_RESIDUAL of the frame's variance unexplained by the rest (a positive Schur complement).
        explained = np.einsum("ci,ci->c", cross, np.linalg.solve(cov, cross[..., None])[..., 0])
        cross = cross * np.minimum(1.0, np.sqrt((1 - AHEAD_RESIDUAL) * var / np.maximum(explained, 1e-12)))[:, None]
        ext = np.zeros((cov.shape[0], frames + 2, frames + 2))
        ext[:, :-1, :-1] = cov
        ext[:, -1, :-1] = ext[:, :-1, -1] = cross
        ext[:, -1, -1] = var
        return np.concatenate([mean, np.zeros((mean.shape[0], 1))], axis=1), ext


def choose_mix(parity_rows: int, systematic_rows: int, rng: np.random.Generator, tries: int = 200,
               steps: int = 1500) -> np.ndarray:
    """Unit-row G minimising the worst condition number of the K-row subsets of [I; G].

    That worst subset sets how much quantisation noise a decode with exactly K rows amplifies. Random
    restarts, then a greedy random walk.
    """
    eye = np.eye(systematic_rows)
    subsets = [list(s) for s in itertools.combinations(range(systematic_rows + parity_rows), systematic_rows)]

    def worst(g: np.ndarray) -> float:
        full = np.vstack([eye, g])
        return max(np.linalg.cond(full[s]) for s in subsets)

    def unit(g: np.ndarray) -> np.ndarray:
        return g / np.linalg.norm(g, axis=1, keepdims=True)

    best = min((unit(rng.standard_normal((parity_rows, systematic_rows))) for _ in range(tries)), key=worst)
    score, step = worst(best), 0.2
    for i in range(steps):
        cand = unit(best + step * rng.standard_normal(best.shape) * (rng.random(best.shape) < 0.3))
        s = worst(cand)
        if s < score:
            best, score = cand, s
        if i % 300 == 299:
            step *= 0.6
    return best


def fit(cfg: PacscConfig, seqs: list[np.ndarray], rng: np.random.Generator, windows: int = 20_000) -> LinearCode:
    """Fit the prior and choose G on training sequences ``(T, C)`` of codes / 255."""
    data = np.concatenate(seqs)
    coeff_mean = data.mean(0).astype(np.float64)
    coeff_scale = np.maximum(data.std(0), SCALE_FLOOR).astype(np.float64)
    w = (sample_windows(seqs, cfg.frames + 1, windows, rng, synthetic=0.0) - coeff_mean) / coeff_scale
    traj = np.transpose(w, (2, 0, 1))  # (C, N, F + 1)
    mean = traj.mean(1)
    dev = traj - mean[:, None]
    cov = np.einsum("cni,cnj->cij", dev, dev) / (len(w) - 1)
    diag = np.einsum("cii->ci", cov)
    cov = 0.95 * cov + 0.05 * np.einsum("ci,ij->cij", diag, np.eye(cfg.frames + 1))  # shrinkage
    mix = choose_mix(cfg.parity_rows, cfg.systematic_rows, rng)
    z = w[:, 1:].reshape(len(w), cfg.systematic_rows, cfg.d_p)
    span = float(np.quantile(np.abs(np.einsum("pr,nrd->npd", mix, z)), SPAN_QUANTILE))
    return LinearCode(cfg, mix, span, coeff_mean, coeff_scale, mean, cov,
                      autocovariance([(s - coeff_mean) / coeff_scale for s in seqs], MAX_LAG + cfg.frames))


def autocovariance(seqs: list[np.ndarray], lags: int) -> np.ndarray:
    """(C, lags) mean of x[t] · x[t + k] over every pair in every sequence (standardised, so about 0).

    About the global mean, not each clip's: at long lags what is left is how far a speaker's own mean
    sits from the training mean, which is what an old anchor still tells about the frames to come.
    A lag no sequence is long enough for takes the longest one that was seen.
    """
    c = seqs[0].shape[1]
    out = np.zeros((c, lags))
    for k in range(lags):
        pairs = [s[:len(s) - k] * s[k:] for s in seqs if len(s) > k]
        out[:, k] = np.concatenate(pairs).mean(0) if pairs else out[:, k - 1]
    return out


@lru_cache(maxsize=1)
def _weights():
    from importlib.resources import files

    with (files("semtalk") / "weights" / WEIGHTS).open("rb") as f:
        return dict(np.load(f))


@lru_cache(maxsize=4)
def load_code(code_rate: float) -> LinearCode:
    """The shipped code for ``code_rate``, read once from the installed package (never the network)."""
    cfg = rate_config(code_rate)
    return LinearCode.from_arrays(cfg, _weights(), f"r{cfg.code_rate}_")


def save_codes(codes: list[LinearCode], path) -> None:
    arrays: dict[str, np.ndarray] = {}
    for code in codes:
        arrays.update(code.arrays(f"r{code.cfg.code_rate}_"))
    np.savez_compressed(path, **arrays)


class LinearCodec:
    """Block coding with exact bytes, same interface as ``PacscCodec``: frames ↔ (M, D_p) uint8 rows."""

    systematic = True

    def __init__(self, code_rate: float, code: LinearCode | None = None):
        self.cfg = rate_config(code_rate)
        self._code = code

    @property
    def code(self) -> LinearCode:
        if self._code is None:
            self._code = load_code(self.cfg.code_rate)
        return self._code

    def _standardise(self, frames: np.ndarray) -> np.ndarray:
        return (np.asarray(frames, dtype=np.float64) - self.code.coeff_mean) / self.code.coeff_scale

    def encode(self, frames: np.ndarray) -> np.ndarray:
        """(F, C) codes / 255 → rows: K rows of the codes, then P rows of 8-bit parity."""
        cfg, code = self.cfg, self.code
        x = np.asarray(frames, dtype=np.float64).reshape(cfg.frames, cfg.n_coeffs)
        parity = code.mix @ self._standardise(x).reshape(cfg.systematic_rows, cfg.d_p)
        levels = np.rint((np.clip(parity / code.span, -1, 1) + 1) / 2 * LEVELS)
        codes = np.clip(np.rint(x * LEVELS), 0, LEVELS).reshape(cfg.systematic_rows, cfg.d_p)
        return np.concatenate([codes, levels]).astype(np.uint8)

    def decode(self, rows: np.ndarray, received: np.ndarray, previous: np.ndarray | None = None,
               lag: int = 1, seen: tuple[np.ndarray, int] | None = None,
               ahead: tuple[np.ndarray, int] | None = None) -> np.ndarray:
        """Received rows (lost ones ignored), their (M,) mask, the last frame decoded before the block
        (codes / 255) with its distance in frames from the block's first frame, the mean of the exact
        frames received so far with how many rows it rests on, and the first exact frame received after
        the block with its distance from the block's last frame → (F, C).

        Frames of received systematic rows come back exactly; the others are the posterior mean, under a
        prior centred on this speaker's mean as far as ``seen`` supports it (``SEEN_ROWS``).
        """
        cfg, code = self.cfg, self.code
        K, F, C, per_row = cfg.systematic_rows, cfg.frames, cfg.n_coeffs, cfg.frames_per_row
        received = np.asarray(received, dtype=bool)
        rows = np.asarray(rows, dtype=np.float64)
        frames = rows[:K].reshape(F, C) / LEVELS
        lost_rows = [r for r in range(K) if not received[r]]
        if not lost_rows:
            return frames
        # Trajectory index t: 0 = previous frame, 1 + f = block frame f, F + 1 = the frame ahead. Per
        # coefficient c, x[c, t].
        x = np.zeros((C, F + 1 + (ahead is not None)))
        x[:, 1:F + 1] = self._standardise(frames).T
        unknown = np.concatenate([1 + np.arange(r * per_row, (r + 1) * per_row) for r in lost_rows])
        known = np.setdiff1d(np.arange(x.shape[1]), unknown)
        if previous is None:
            known = known[known > 0]
        else:
            x[:, 0] = self._standardise(previous)
        if ahead is not None:
            x[:, F + 1] = self._standardise(ahead[0])
        mu, cov = code.prior(lag if previous is not None else 1, None if ahead is None else ahead[1])
        if seen is not None and seen[1] > 0:
            mu = mu + (seen[1] / (seen[1] + SEEN_ROWS) * self._standardise(seen[0]))[:, None]
        dev_k = x[:, known] - mu[:, known]
        gain = np.linalg.solve(cov[:, known][:, :, known], cov[:, known][:, :, unknown]).transpose(0, 2, 1)
        prior_mean = mu[:, unknown] + np.einsum("cuk,ck->cu", gain, dev_k)
        prior_cov = cov[:, unknown][:, :, unknown] - gain @ cov[:, known][:, :, unknown]
        got = [p for p in range(cfg.parity_rows) if received[K + p]]
        if not got:
            est = prior_mean
        else:
            # Observation y[p, o, c] = Σ_r G[p, r] x[c, 1 + 5r + o] + noise; the known frames move to the left.
            levels = rows[[K + p for p in got]]  # (P', d_p)
            y = ((levels / LEVELS * 2 - 1) * code.span).reshape(len(got), per_row, C)
            z = x[:, 1:F + 1].reshape(C, K, per_row)  # known frames' standardised values (lost ones are junk)
            keep = [r for r in range(K) if received[r]]
            y = y - np.einsum("pr,cro->poc", code.mix[np.ix_(got, keep)], z[:, keep])
            # H maps the unknown frames of one coefficient to its len(got)·5 observations.
            h = np.kron(code.mix[np.ix_(got, lost_rows)], np.eye(per_row))  # (P'·5, U)
            obs = y.reshape(len(got) * per_row, C).T  # (C, P'·5)
            # A saturated level only says "beyond the span": that observation is dropped (weight 0).
            weight = ((levels > 0) & (levels < LEVELS)).reshape(len(got) * per_row, C).T / code.noise
            precision = np.linalg.inv(prior_cov) + np.einsum("ou,co,ov->cuv", h, weight, h)
            rhs = np.linalg.solve(prior_cov, prior_mean[..., None])[..., 0] + (obs * weight) @ h
            est = np.linalg.solve(precision, rhs[..., None])[..., 0]
        x[:, unknown] = est
        out = x[:, 1:F + 1].T * code.coeff_scale + code.coeff_mean
        return np.clip(np.where(np.repeat(received[:K], per_row)[:, None], frames, out), 0.0, 1.0)
