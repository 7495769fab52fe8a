"""Context-adaptive coding of Seb's residual integers ŷ (format version 3).

The factorised density gives every block of a channel the same distribution, so a flat block pays for the spread of a
busy one (the KB's still background cost Seb 12.3 KB where WebP needs 1.9 KB). Here each integer is coded with its
channel's density at a step scaled by a factor m chosen by its *context*, computed from integers both sides already
have — the classic backward-adaptive context modelling of image coders (JPEG-LS, CALIC), applied to the learned
density rather than to counts:

- channels go in index order (the block transform's lower frequencies and luma first); within a channel the blocks of
  one checkerboard colour ("black") go before the other ("white");
- *activity*: the mean |ŷ| over the channels already coded, over the 3×3 blocks around a block, in one of
  ``len(EDGES) + 1`` buckets (channel 0 has none: a bucket of its own);
- a white block also counts the non-zero integers of this channel among its 4 black neighbours (0..3+).

p(q | key) = F((q + ½)·Δ/m) − F((q − ½)·Δ/m) for the channel's CDF F and step Δ: m < 1 narrows the distribution
around 0 (a quiet context), m > 1 widens it. The encoder picks each key's m (½ octave apart, as a byte) to minimise
the set's code length; the bytes go in the set's shared bytes. Buckets are integer arithmetic, so both sides agree
exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EDGES = np.array([1, 2, 5, 10, 20, 40, 80, 160, 320])  # bucket edges of the mean |ŷ|, in hundredths
N_ACTIVITY = len(EDGES) + 2  # buckets 0..len(EDGES), and one for channel 0 (nothing coded before it)
N_KEYS = N_ACTIVITY * 5  # black: the bucket; white: N_ACTIVITY + bucket·4 + neighbours' non-zeros (0..3)
SCALE_ZERO = 96  # a byte i means m = 2^((i − SCALE_ZERO)/8)
CANDIDATES = np.arange(32, 124, 4)  # the bytes the encoder tries: m from 2^−8 to 2^3.5, ½ octave apart (few tables)


def scale(byte: int) -> float:
    return float(2.0 ** ((int(byte) - SCALE_ZERO) / 8))


def groups(channels: int, chroma_from: int | None) -> list[slice]:
    """Channel groups with their own scale bytes: luma and chroma of the block transform, else one."""
    return [slice(0, chroma_from), slice(chroma_from, channels)] if chroma_from else [slice(0, channels)]


def _white(rows: int, cols: int) -> np.ndarray:
    return ((np.arange(rows)[:, None] + np.arange(cols)[None, :]) % 2 == 1).ravel()


class Contexts:
    """The keys of one picture's integers, channel by channel, from the integers coded so far (both sides)."""

    def __init__(self, rows: int, cols: int):
        self.rows, self.cols = rows, cols
        self.white = _white(rows, cols)
        self._sum = np.zeros((rows, cols), np.int64)  # Σ |ŷ| over the channels coded so far
        self._coded = 0

    def black(self) -> np.ndarray:
        """Keys of every block for the next channel, before any of it is coded (the black blocks use these)."""
        if self._coded == 0:
            return np.full(self.rows * self.cols, N_ACTIVITY - 1, np.int64)
        s = np.pad(self._sum, 1, mode="edge")
        box = sum(s[i:i + self.rows, j:j + self.cols] for i in range(3) for j in range(3)).ravel()
        # bucket = number of edges with 100·box ≥ edge·9·coded, i.e. mean |ŷ| ≥ edge/100, in integers
        return (100 * box[:, None] >= EDGES[None, :] * 9 * self._coded).sum(1)

    def white_keys(self, black_keys: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """Keys of the white blocks once the black blocks of this channel (``channel``, all blocks) are known."""
        nz = (channel.reshape(self.rows, self.cols) != 0).astype(np.int64)
        n = np.zeros_like(nz)
        n[1:] += nz[:-1]
        n[:-1] += nz[1:]
        n[:, 1:] += nz[:, :-1]
        n[:, :-1] += nz[:, 1:]
        return N_ACTIVITY + black_keys * 4 + np.minimum(n.ravel(), 3)

    def done(self, channel: np.ndarray) -> None:
        self._sum += np.abs(channel.reshape(self.rows, self.cols))
        self._coded += 1


def picture_keys(y: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Every integer's key (blocks × channels) for a whole picture at the encoder."""
    ctx, keys = Contexts(rows, cols), np.empty(y.shape, np.int64)
    for c in range(y.shape[1]):
        k = ctx.black()
        keys[:, c] = np.where(ctx.white, ctx.white_keys(k, y[:, c]), k)
        ctx.done(y[:, c])
    return keys


def fit_scales(pictures: list[tuple[np.ndarray, np.ndarray, Callable[[int], np.ndarray]]], channels: int,
               chroma_from: int | None, value_range: int) -> np.ndarray:
    """The scale byte of every (group, key) minimising the set's code length (unused keys: m = 1).

    ``pictures``: (integers, keys, log2-probabilities at a scale byte, (channels, 2·range + 1)) per picture."""
    parts = groups(channels, chroma_from)
    cost = np.zeros((len(parts), len(CANDIDATES), N_KEYS))
    used = np.zeros((len(parts), N_KEYS), bool)
    for y, keys, logp in pictures:
        ch = np.broadcast_to(np.arange(channels)[None, :], y.shape)
        for i, byte in enumerate(CANDIDATES):
            bits = -logp(int(byte))[ch, y + value_range]
            for g, sl in enumerate(parts):
                cost[g, i] += np.bincount(keys[:, sl].ravel(), bits[:, sl].ravel(), minlength=N_KEYS)
        for g, sl in enumerate(parts):
            used[g, np.unique(keys[:, sl])] = True
    out = np.full((len(parts), N_KEYS), SCALE_ZERO, np.int64)
    for g in range(len(parts)):
        out[g, used[g]] = CANDIDATES[cost[g][:, used[g]].argmin(0)]
    return out
