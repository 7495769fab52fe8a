"""Seb as exact bytes: an image set → shared Seb bytes + bytes per picture, and back, bit-exactly.

Encoder, per set (``SebCoder.encode_set``)::

    pictures ─ edge-pad to whole 32×32 patches ─ E ─► F per patch
      ─ split the set into subsets of ≤ ``SUBSET_MAX`` pictures (k-means on each picture's mean F: the
        projector is our own patch encoder, standing in for the paper's ResNet-50)
      ─ per subset, k-means on F (seeded) ─► K = ⌊patches/25⌋ centres ─ round ─► Ŝ (integers, shared bytes)
      ─ per picture: usage a = nearest Ŝ per patch (n_p·log2 K bits, eq. 7), reference x_r = D(Ŝ_a),
        ŷ = round(g_a(x − x_r) / step) (bytes of the picture), x̂ = x_r + g_s(ŷ·step) → uint8

Both sides compute x̂ with ``_reconstruct`` from the same integers, so the decoder reproduces the encoder's
reconstruction exactly (same machine and library). Integers are range-coded (``constriction``) with tables that
depend on the weights and the step only: each channel's factorized density evaluated on the integers
[−``RANGE``, ``RANGE``] in float64 and rounded to counts of 2⁻¹⁶ (a last-ulp difference between machines does not
move a count), values outside clamped at the encoder (so its reconstruction is still what the decoder sees). ŷ's
step is, in format 3, narrowed or widened per integer by a scale its context picks (``learned.seb.context``: 11 %
fewer bytes on a KB's keyframes than format 2, the factorized density alone, which still decodes).

**Chroma step.** With the block residual transform, channels 64..191 of ŷ are the chroma coefficients (the transform
starts at YCbCr and stays there: their response to a grey pattern is under 1 % of their energy after training).
``chroma`` multiplies their step: the weights are trained on RGB MSE, but everything semtalk scores a call by (video
SSIM, PSNR, MS-SSIM) is luma, so the KB (``imagecodec.seb``) moves bits from chroma to luma; the RD benchmark, which
scores RGB PSNR as the paper does, keeps 1. Its eighths travel in the shared bytes.

Shared bytes: ``b"SEB"`` | u8 version | u8 chroma (eighths) | u8 subsets | u16 K per subset | (format 3) u8 context
scale per channel group and key | range code of every Ŝ. Picture bytes: u16 height | u16 width | u8 subset | u8
quality | range code of the usage (uniform over K) and of ŷ (per channel; in format 3 by context). The quality is
per picture, so a caller can give one picture of a set (the KB's still background plate, seen in every frame) a
finer step than the others.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from semtalk.learned.seb import context
from semtalk.learned.seb.config import BLOCK, PATCH, n_sebs, patch_grid, usage_bits

if TYPE_CHECKING:
    import torch

    from semtalk.learned.seb.model import FactorizedDensity, SebModel

MAGIC, VERSION, STATIC_VERSION = b"SEB", 3, 2  # 3: context-adaptive residual; 2: factorised only
RANGE = 255  # integers coded: [−RANGE, RANGE] in units of the step
SUBSET_MAX = 16  # pictures per subset (the paper splits large sets by k-means on image features)
KMEANS_ITERS = 25
MAX_QUALITY = 125  # the finest per-picture quality (step 2^(−65/25) ≈ 0.165 of the training step)
_SHARED = struct.Struct(">3sBBB")
_PICTURE = struct.Struct(">HHBB")


def quality_step(quality: int) -> float:
    """The residual's quantisation step for ``quality`` 1..``MAX_QUALITY``: 1 (the training step) at 60, ×2 every 25
    down. Above 100 (up to a sixth of the training step) is for single pictures that must be finer than any other,
    such as the KB's background plate (``imagecodec.seb``)."""
    return float(2.0 ** ((60 - int(np.clip(quality, 1, MAX_QUALITY))) / 25))


@dataclass
class EncodedSet:
    """A coded set: the shared Seb bytes, the bytes of each picture, the encoder's reconstructions (uint8) and the
    bits spent per part (``sebs``, ``usage`` as eq. 7 counts them, ``residual``: what the range coder wrote)."""

    shared: bytes
    each: list[bytes]
    reconstructions: list[np.ndarray]
    bits: dict[str, float] = field(default_factory=dict)


def chroma_eighths(chroma: float) -> int:
    """``chroma`` (the chroma coefficients' step factor) as the u8 the shared bytes carry: eighths, 1..255."""
    return int(np.clip(round(chroma * 8), 1, 255))


def channel_steps(model: SebModel, step: float, eighths: int = 8) -> np.ndarray:
    """The quantisation step of every residual channel: ``step``, × eighths/8 on the block transform's chroma
    channels (64..191; the ``gdn`` residual has no colour channels, so every step is ``step`` there)."""
    steps = np.full(model.cfg.latent_channels, step, np.float64)
    if model.cfg.residual == "block":
        steps[BLOCK * BLOCK:] *= eighths / 8
    return steps


@lru_cache(maxsize=64)
def _counts(density: FactorizedDensity, step: float, eighths: int = 8, chroma_from: int | None = None) -> np.ndarray:
    """Every channel's density over [−RANGE, RANGE] at ``step`` (× eighths/8 from channel ``chroma_from`` on; see the
    module docstring) as counts of 2⁻¹⁶, (channels, 2·RANGE + 1)."""
    import torch
    from scipy.special import expit

    with torch.no_grad():
        w = torch.softmax(density.logits.double(), -1).numpy()
        means = density.means.double().numpy()
        scales = torch.exp(density.log_scales.double()).numpy()
    steps = np.full(len(w), step, np.float64)
    if chroma_from is not None:
        steps[chroma_from:] *= eighths / 8
    edges = (np.arange(-RANGE, RANGE + 2)[None, :] - 0.5) * steps[:, None]  # bin edges of every integer, per channel
    cdf = (w[:, None, :] * expit((edges[:, :, None] - means[:, None, :]) / scales[:, None, :])).sum(-1)
    p = np.diff(cdf, axis=1)
    return np.maximum(np.rint(p / p.sum(1, keepdims=True) * 2 ** 16), 1)


@lru_cache(maxsize=64)
def _tables(density: FactorizedDensity, step: float, eighths: int = 8, chroma_from: int | None = None) -> list:
    """One constriction categorical per channel (``_counts``)."""
    import constriction

    return [constriction.stream.model.Categorical(c / c.sum(), perfect=False)
            for c in _counts(density, step, eighths, chroma_from)]


def _uniform(k: int):
    import constriction

    return constriction.stream.model.Categorical(np.full(k, 1.0 / k), perfect=False)


def _code(values: np.ndarray, tables: list, encoder) -> None:
    """Integers (n, C) column by column with their channel's table."""
    sym = (np.clip(values, -RANGE, RANGE) + RANGE).astype(np.int32)
    for c, table in enumerate(tables):
        encoder.encode(np.ascontiguousarray(sym[:, c]), table)


def _decode(decoder, n: int, tables: list) -> np.ndarray:
    return np.stack([decoder.decode(t, n) for t in tables], 1).astype(np.int64) - RANGE


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = KMEANS_ITERS) -> tuple[np.ndarray,
                                                                                                   np.ndarray]:
    """k-means++ then Lloyd on rows ``x`` (float64): centres (k, d) and the assignment."""
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min([((x - c) ** 2).sum(1) for c in centres], 0)
        centres.append(x[rng.choice(len(x), p=d / d.sum())] if d.sum() > 0 else x[rng.integers(len(x))])
    c = np.stack(centres)
    assign = np.zeros(len(x), np.int64)
    for _ in range(iters):
        assign = ((x[:, None, :] - c[None]) ** 2).sum(2).argmin(1)
        for j in range(k):
            if (assign == j).any():
                c[j] = x[assign == j].mean(0)
    return c, assign


class SebCoder:
    """A trained ``SebModel`` (eval mode) behind ``encode_set`` / ``decode_set``; deterministic for a seed."""

    def __init__(self, model: SebModel, seed: int = 0):
        self.model, self.seed = model.eval(), seed

    def _pad(self, rgb: np.ndarray) -> torch.Tensor:
        import torch

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"Seb codes H×W×3 uint8 pictures, got {rgb.dtype} {rgb.shape}")
        rows, cols = patch_grid(*rgb.shape[:2])
        if rows * PATCH > 65535 or cols * PATCH > 65535:
            raise ValueError(f"picture of {rgb.shape[0]}×{rgb.shape[1]} is too large for Seb")
        h, w = rgb.shape[:2]
        padded = np.pad(rgb, ((0, rows * PATCH - h), (0, cols * PATCH - w), (0, 0)), mode="edge")
        return torch.from_numpy(padded).permute(2, 0, 1)[None].float() / 255

    def _reconstruct(self, sebs: np.ndarray, usage: np.ndarray, y: np.ndarray | None, step: np.ndarray, h: int,
                     w: int) -> tuple[np.ndarray, torch.Tensor]:
        """uint8 (h, w, 3) and the float reference from integers: the one path both sides take."""
        import torch

        rows, cols = patch_grid(h, w)
        with torch.no_grad():
            ref = self.model.reference(torch.from_numpy(sebs[usage].astype(np.float32)), 1, rows * PATCH,
                                       cols * PATCH)
            if y is None:
                return np.zeros(0, np.uint8), ref
            per = PATCH // self.model.cfg.latent_stride
            lat = torch.from_numpy((y * step).astype(np.float32)).reshape(1, rows * per, cols * per, -1)
            x = self.model.synthesise(lat.permute(0, 3, 1, 2), ref)
        out = torch.round(x.clamp(0, 1) * 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()
        return np.ascontiguousarray(out[:h, :w]), ref

    @property
    def _chroma_from(self) -> int | None:
        return BLOCK * BLOCK if self.model.cfg.residual == "block" else None

    def _latent_tables(self, step: float, eighths: int) -> tuple[np.ndarray, list]:
        """Per-channel steps and their coding tables (the same on both sides)."""
        chroma_from = self._chroma_from
        return (channel_steps(self.model, step, eighths),
                _tables(self.model.latent_density, step, eighths if chroma_from else 8, chroma_from))

    def _scaled(self, step: float, eighths: int, log2: bool = False) -> Callable[[int], object]:
        """The residual's tables (or log2-probabilities) at ``step`` narrowed by a context scale byte."""
        chroma_from = self._chroma_from
        e = eighths if chroma_from else 8

        def at(byte: int):
            s = step / context.scale(byte)
            if not log2:
                return _tables(self.model.latent_density, s, e, chroma_from)
            counts = _counts(self.model.latent_density, s, e, chroma_from)
            return np.log2(counts / counts.sum(1, keepdims=True))
        return at

    def _grid(self, h: int, w: int) -> tuple[int, int]:
        """Rows and columns of residual blocks of an h × w picture."""
        rows, cols = patch_grid(h, w)
        per = PATCH // self.model.cfg.latent_stride
        return rows * per, cols * per

    def encode_set(self, images: list[np.ndarray], quality: int | Sequence[int] = 60,
                   chroma: float = 1.0, adaptive: bool = True) -> EncodedSet:
        """A set of H×W×3 uint8 pictures (any sizes up to 65535) → ``EncodedSet``. ``quality``: one for the set or
        one per picture; ``chroma`` scales the chroma coefficients' step (module docstring; 1 is the trained RGB-MSE
        operating point); ``adaptive``: the residual with context-adaptive scales (``learned.seb.context``, format 3)
        or with the factorised density alone (format 2, the same reconstructions)."""
        import constriction
        import torch

        if not images:
            raise ValueError("Seb codes a non-empty set of pictures")
        if len(images) > 255 * SUBSET_MAX:
            raise ValueError(f"a Seb set holds at most {255 * SUBSET_MAX} pictures, got {len(images)}")
        qs = [quality] * len(images) if isinstance(quality, (int, np.integer)) else list(quality)
        if len(qs) != len(images):
            raise ValueError(f"{len(qs)} qualities for {len(images)} pictures")
        qs, eighths = [int(np.clip(q, 1, MAX_QUALITY)) for q in qs], chroma_eighths(chroma)
        rng = np.random.default_rng(self.seed)
        xs = [self._pad(im) for im in images]
        with torch.no_grad():
            feats = [self.model.patch_latents(x).double().numpy() for x in xs]
        n_sub = -(-len(images) // SUBSET_MAX)
        member = (np.zeros(len(images), np.int64) if n_sub == 1 else
                  _kmeans(np.stack([f.mean(0) for f in feats]), n_sub, rng)[1])
        n_sub = int(member.max()) + 1
        sebs, ks = [], []
        for j in range(n_sub):
            pool = np.concatenate([feats[i] for i in np.flatnonzero(member == j)])
            k = min(n_sebs(1, len(pool)), len(pool))
            centres = _kmeans(pool, k, rng)[0] if k > 1 else pool.mean(0, keepdims=True)
            sebs.append(np.clip(np.rint(centres), -RANGE, RANGE).astype(np.int64))
            ks.append(k)
        coded = []  # (usage, ŷ, per-channel steps) of each picture
        for im, x, f, j, q in zip(images, xs, feats, member, qs, strict=True):
            step = channel_steps(self.model, quality_step(q), eighths)
            usage = ((f[:, None, :] - sebs[j][None].astype(np.float64)) ** 2).sum(2).argmin(1)
            _, ref = self._reconstruct(sebs[j], usage, None, step, *im.shape[:2])
            with torch.no_grad():
                y = self.model.analyse(x - ref)[0].permute(1, 2, 0).reshape(-1, self.model.cfg.latent_channels)
            coded.append((usage, np.clip(np.rint(y.double().numpy() / step), -RANGE, RANGE).astype(np.int64), step))
        scales = b""
        if adaptive:
            keys = [context.picture_keys(y, *self._grid(*im.shape[:2]))
                    for im, (_, y, _) in zip(images, coded, strict=True)]
            table = context.fit_scales([(y, k, self._scaled(quality_step(q), eighths, log2=True))
                                        for (_, y, _), k, q in zip(coded, keys, qs, strict=True)],
                                       self.model.cfg.latent_channels, self._chroma_from, RANGE)
            scales = table.astype(np.uint8).tobytes()
        enc = constriction.stream.queue.RangeEncoder()
        _code(np.concatenate(sebs), _tables(self.model.seb_density, 1.0), enc)
        shared = (_SHARED.pack(MAGIC, VERSION if adaptive else STATIC_VERSION, eighths, n_sub)
                  + struct.pack(f">{n_sub}H", *ks) + scales + enc.get_compressed().tobytes())
        each, recons = [], []
        bits = {"sebs": 8.0 * len(shared), "usage": 0.0, "residual": 0.0}
        for i, (im, j, q, (usage, y_int, step)) in enumerate(zip(images, member, qs, coded, strict=True)):
            k = ks[j]
            enc = constriction.stream.queue.RangeEncoder()
            if k > 1:
                enc.encode(usage.astype(np.int32), _uniform(k))
            if adaptive:
                _code_adaptive(y_int, keys[i], table, self._scaled(quality_step(q), eighths), self._chroma_from,
                               enc)
            else:
                _code(y_int, self._latent_tables(quality_step(q), eighths)[1], enc)
            data = _PICTURE.pack(*im.shape[:2], int(j), q) + enc.get_compressed().tobytes()
            each.append(data)
            recons.append(self._reconstruct(sebs[j], usage, y_int, step, *im.shape[:2])[0])
            bits["usage"] += usage_bits(len(usage), k)
            bits["residual"] += 8.0 * len(data) - usage_bits(len(usage), k)
        return EncodedSet(shared, each, recons, bits)

    def decode_set(self, shared: bytes, each: list[bytes]) -> list[np.ndarray]:
        """The pictures of a coded set, exactly as ``encode_set`` reconstructed them; ``ValueError`` for bytes that
        are not a Seb set of this model."""
        try:
            return self._decode_set(shared, each)
        except AssertionError as exc:  # constriction's answer to a range code its model cannot have written
            raise ValueError(f"Seb bytes are corrupt ({exc})") from exc

    def _decode_set(self, shared: bytes, each: list[bytes]) -> list[np.ndarray]:
        import constriction

        if len(shared) < _SHARED.size:
            raise ValueError("Seb shared bytes are truncated")
        magic, version, eighths, n_sub = _SHARED.unpack_from(shared)
        if magic != MAGIC or version not in (STATIC_VERSION, VERSION):
            raise ValueError("not Seb shared bytes (bad magic or version)")
        adaptive = version == VERSION
        n_scales = len(context.groups(self.model.cfg.latent_channels, self._chroma_from)) * context.N_KEYS
        head = _SHARED.size + 2 * n_sub + (n_scales if adaptive else 0)
        if n_sub < 1 or eighths < 1 or len(shared) < head or (len(shared) - head) % 4:
            raise ValueError("Seb shared bytes are truncated")
        ks = struct.unpack_from(f">{n_sub}H", shared, _SHARED.size)
        table = (np.frombuffer(shared, np.uint8, n_scales, _SHARED.size + 2 * n_sub).reshape(-1, context.N_KEYS)
                 if adaptive else None)
        heads = [_PICTURE.unpack_from(d) if len(d) >= _PICTURE.size else (0, 0, 0, 0) for d in each]
        patches = np.zeros(n_sub, np.int64)
        for h, w, j, _ in heads:
            if j < n_sub:
                patches[j] += np.prod(patch_grid(h, w))
        for j, k in enumerate(ks):  # K = ⌊patches/25⌋ ≤ patches: a peer cannot make us decode more Sebs than that
            if not 1 <= k <= max(1, patches[j]):
                raise ValueError(f"Seb shared bytes give subset {j} {k} Sebs for {patches[j]} patches")
        dec = constriction.stream.queue.RangeDecoder(np.frombuffer(shared[head:], np.dtype("<u4")).copy())
        flat = _decode(dec, sum(ks), _tables(self.model.seb_density, 1.0))
        sebs = np.split(flat, np.cumsum(ks)[:-1])
        out = []
        for data in each:
            if len(data) < _PICTURE.size or (len(data) - _PICTURE.size) % 4:
                raise ValueError("Seb picture bytes are truncated")
            h, w, j, q = _PICTURE.unpack_from(data)
            if j >= n_sub or h < 1 or w < 1 or not 1 <= q <= MAX_QUALITY:
                raise ValueError(f"Seb picture names subset {j} of {n_sub}, is empty ({h}×{w}) or has quality {q}")
            step, lat_tables = self._latent_tables(quality_step(q), eighths)
            rows, cols = patch_grid(h, w)
            dec = constriction.stream.queue.RangeDecoder(np.frombuffer(data[_PICTURE.size:], np.dtype("<u4")).copy())
            usage = dec.decode(_uniform(ks[j]), rows * cols).astype(np.int64) if ks[j] > 1 else \
                np.zeros(rows * cols, np.int64)
            if adaptive:
                y = _decode_adaptive(dec, self._grid(h, w), len(step), table,
                                     self._scaled(quality_step(q), eighths), self._chroma_from)
            else:
                y = _decode(dec, rows * cols * (PATCH // self.model.cfg.latent_stride) ** 2, lat_tables)
            out.append(self._reconstruct(sebs[j], usage, y, step, h, w)[0])
        return out


def _code_adaptive(y: np.ndarray, keys: np.ndarray, table: np.ndarray, tables_at: Callable[[int], object],
                   chroma_from: int | None, encoder) -> None:
    """ŷ (blocks, channels) channel by channel, black blocks then white, each key's integers with its scale's table
    (``learned.seb.context``); ``_decode_adaptive`` reads them back in the same order."""
    sym = (y + RANGE).astype(np.int32)
    white = keys[:, 0] >= context.N_ACTIVITY  # white blocks' keys follow the black ones' (``context``)
    for c in range(y.shape[1]):
        g = int(chroma_from is not None and c >= chroma_from)
        for idx in (np.flatnonzero(~white), np.flatnonzero(white)):
            k = keys[idx, c]
            for key in np.unique(k):
                encoder.encode(np.ascontiguousarray(sym[idx[k == key], c]), tables_at(int(table[g, key]))[c])


def _decode_adaptive(decoder, grid: tuple[int, int], channels: int, table: np.ndarray,
                     tables_at: Callable[[int], object], chroma_from: int | None) -> np.ndarray:
    ctx = context.Contexts(*grid)
    y = np.zeros((grid[0] * grid[1], channels), np.int64)
    black, white = np.flatnonzero(~ctx.white), np.flatnonzero(ctx.white)
    for c in range(channels):
        g = int(chroma_from is not None and c >= chroma_from)
        keys = ctx.black()
        for idx, k in ((black, keys[black]), (white, None)):
            if k is None:
                k = ctx.white_keys(keys, y[:, c])[white]
            for key in np.unique(k):
                sel = idx[k == key]
                y[sel, c] = decoder.decode(tables_at(int(table[g, key]))[c], len(sel)).astype(np.int64) - RANGE
        ctx.done(y[:, c])
    return y


def from_bundle(bundle: dict, seed: int = 0) -> SebCoder:
    """A ``SebCoder`` (float32, eval mode) from a weights bundle."""
    from semtalk.learned.seb.config import SebConfig
    from semtalk.learned.seb.model import SebModel

    model = SebModel(SebConfig(**bundle["config"]))
    model.load_state_dict({k: v.float() for k, v in bundle["state"].items()})
    return SebCoder(model, seed)


WEIGHTS = {"low": "seb_lam0035.pt", "mid": "seb_lam013.pt", "high": "seb_lam05.pt"}


@lru_cache(maxsize=4)
def load_seb(rate: str = "mid") -> SebCoder:
    """A shipped Seb coder (``WEIGHTS``: one per training λ), built once."""
    from semtalk.learned.weights import shipped

    if rate not in WEIGHTS:
        raise ValueError(f"no Seb weights {rate!r}; shipped: {', '.join(WEIGHTS)}")
    return from_bundle(shipped(WEIGHTS[rate]))
