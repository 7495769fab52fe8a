"""Seb networks (plain torch): GDN/IGDN, patch → Seb-latent transforms, the residual codec, factorized densities.

Data flow of one image set (n_j pictures, sides multiples of 32) in training (``SebModel.forward``)::

    x ─ 32×32 patches ─ E (conv+GDN ×4) ─► F (one d-vector per patch)
      F ─ k-means (no gradient) ─► usage a, Sebs S = mean of the F assigned to each (K = ⌊n_j·n_p/25⌋)
      Ŝ = S quantised (noise for the rate, rounding for the synthesis)
      reference  x_r = D(F + sg(Ŝ_a − F))          # eqs. 8–9: the decoder sees Ŝ_a, F gets its gradient
      residual   y = g_a(x − x_r) ─ quantise ─► ŷ ─ g_s ─► r̂ ;  x̂ = x_r + r̂ (+ post-filter, block transform)
    loss = λ·255²·(MSE(x, x̂) + ρ·MSE(x, x_r)) + (R(S) + R(A) + R(Z)) / pixels + β‖F − sg(S_a)‖²   # eq. 10

R(S) and R(Z) are the factorized densities' bits of the noisy Ŝ and ŷ, R(A) = n_p·log2 K per picture (eq. 7). ρ keeps
the reference a picture of its own (the residual could otherwise absorb all of it). ``code.py`` turns the same
networks into exact bytes.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as fn

from semtalk.learned.seb.config import BLOCK, PATCH, SebConfig, n_sebs, usage_bits

REF_WEIGHT = 0.1  # ρ above
LIKELIHOOD_FLOOR = 1e-9


class GDN(nn.Module):
    """Generalised divisive normalisation (Ballé et al. 2016): y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²); ``inverse``
    is IGDN, y_i = x_i · sqrt(β_i + Σ_j γ_ij x_j²), the first fixed-point step of GDN's exact inverse
    (``invert``). β and γ are squares of free parameters, so they stay ≥ 0 (β above a floor)."""

    def __init__(self, channels: int, inverse: bool = False, gamma_init: float = 0.1):
        super().__init__()
        self.inverse = inverse
        self.beta_root = nn.Parameter(torch.ones(channels))
        self.gamma_root = nn.Parameter(torch.eye(channels) * math.sqrt(gamma_init))

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.beta_root.square() + 1e-6
        gamma = self.gamma_root.square()
        return torch.sqrt(fn.conv2d(x.square(), gamma[:, :, None, None], beta))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self._norm(x) if self.inverse else x / self._norm(x)

    def invert(self, y: torch.Tensor, iters: int = 50) -> torch.Tensor:
        """The exact inverse of GDN (this module as a forward GDN) by the fixed point x = y·sqrt(β + γx²)."""
        x = y
        for _ in range(iters):
            x = y * self._norm(x)
        return x


def _down(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 5, stride=2, padding=2)


def _up(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1)


def analysis(cin: int, width: int, cout: int) -> nn.Sequential:
    """Four stride-2 convolutions with GDN between: a 1/16-resolution latent."""
    return nn.Sequential(_down(cin, width), GDN(width), _down(width, width), GDN(width), _down(width, width),
                         GDN(width), _down(width, cout))


def synthesis(cin: int, width: int, cout: int) -> nn.Sequential:
    """The mirror of ``analysis`` with IGDN."""
    return nn.Sequential(_up(cin, width), GDN(width, inverse=True), _up(width, width), GDN(width, inverse=True),
                         _up(width, width), GDN(width, inverse=True), _up(width, cout))


YCBCR = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))
# JPEG's quantisation tables (ITU-T T.81 Annex K, quality 50), halved: the block transform's starting steps
JPEG_LUMA = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
             22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78,
             87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
JPEG_CHROMA = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66,
               99, 99, 99, 99, 99, 99, *([99] * 32))


def dct_basis(n: int = BLOCK) -> torch.Tensor:
    """The orthonormal 2-D DCT-II basis (n², n, n), row-major in (vertical, horizontal) frequency."""
    i = torch.arange(n, dtype=torch.float64)
    c = torch.cos(math.pi * (2 * i[None, :] + 1) * i[:, None] / (2 * n)) * math.sqrt(2 / n)
    c[0] /= math.sqrt(2)
    return (c[:, None, :, None] * c[None, :, None, :]).reshape(n * n, n, n)


def block_transform() -> tuple[nn.Conv2d, nn.ConvTranspose2d]:
    """Learned linear 8×8 block analysis / synthesis, started at JPEG's: RGB → YCbCr, orthonormal DCT, division by
    half of JPEG's tables (pixels in [0, 1] as 0..255), and the exact inverse. Training moves all of it."""
    basis = dct_basis()
    colour = torch.tensor(YCBCR, dtype=torch.float64)
    steps = torch.tensor([JPEG_LUMA, JPEG_CHROMA, JPEG_CHROMA], dtype=torch.float64) * 0.5  # (3, 64)
    fwd = (colour[:, None, :, None, None] * basis[None, :, None] * 255 / steps[:, :, None, None, None])
    inv = (torch.linalg.inv(colour).T[:, None, :, None, None] * basis[None, :, None] * steps[:, :, None, None, None]
           / 255)
    g_a = nn.Conv2d(3, 3 * BLOCK * BLOCK, BLOCK, stride=BLOCK, bias=False)
    g_s = nn.ConvTranspose2d(3 * BLOCK * BLOCK, 3, BLOCK, stride=BLOCK, bias=False)
    with torch.no_grad():
        g_a.weight.copy_(fwd.reshape(3 * BLOCK * BLOCK, 3, BLOCK, BLOCK))
        g_s.weight.copy_(inv.reshape(3 * BLOCK * BLOCK, 3, BLOCK, BLOCK))
    return g_a, g_s


def post_filter(width: int) -> nn.Sequential:
    """(reconstruction, reference) → a correction of the reconstruction (zero at the start: the last layer is)."""
    net = nn.Sequential(nn.Conv2d(6, width, 3, padding=1), GDN(width), nn.Conv2d(width, width, 3, padding=1),
                        GDN(width), nn.Conv2d(width, 3, 3, padding=1))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


class FactorizedDensity(nn.Module):
    """One density per channel, a mixture of logistics, for integer-quantised values: P(k) = c(k + ½) − c(k − ½)
    in units of the quantisation ``step`` (the coder's rate control scales the step, the density stays)."""

    def __init__(self, channels: int, mixtures: int):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(channels, mixtures))
        self.means = nn.Parameter(torch.linspace(-1, 1, mixtures).repeat(channels, 1) * (mixtures > 1))
        self.log_scales = nn.Parameter(torch.zeros(channels, mixtures))

    def cdf(self, v: torch.Tensor) -> torch.Tensor:
        """c(v) for v (..., C): each column through its channel's mixture."""
        w = torch.softmax(self.logits, -1)
        z = (v[..., None] - self.means) * torch.exp(-self.log_scales)
        return (w * torch.sigmoid(z)).sum(-1)

    def likelihood(self, v: torch.Tensor, step: float = 1.0) -> torch.Tensor:
        """P of the bin of width ``step`` around v (..., C), floored."""
        p = self.cdf(v + step / 2) - self.cdf(v - step / 2)
        return p.clamp_min(LIKELIHOOD_FLOOR)

    def bits(self, v: torch.Tensor, step: float = 1.0) -> torch.Tensor:
        return -torch.log2(self.likelihood(v, step)).sum()


def patchify(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) with H, W multiples of 32 → (B·H/32·W/32, C, 32, 32), row-major per picture."""
    b, c, h, w = x.shape
    p = x.reshape(b, c, h // PATCH, PATCH, w // PATCH, PATCH).permute(0, 2, 4, 1, 3, 5)
    return p.reshape(-1, c, PATCH, PATCH)


def unpatchify(p: torch.Tensor, b: int, h: int, w: int) -> torch.Tensor:
    """Inverse of ``patchify``."""
    c = p.shape[1]
    x = p.reshape(b, h // PATCH, w // PATCH, c, PATCH, PATCH).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c, h, w)


def kmeans(f: torch.Tensor, k: int, generator: torch.Generator, iters: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means of rows ``f`` (P, d) from a k-means++ start: centres (k, d) and the assignment (P,)."""
    first = torch.randint(len(f), (1,), generator=generator)
    centres = f[first].clone()
    for _ in range(1, k):
        d = torch.cdist(f, centres).min(1).values.square()
        pick = (torch.multinomial(d / d.sum(), 1, generator=generator) if d.sum() > 0 else
                torch.randint(len(f), (1,), generator=generator))
        centres = torch.cat([centres, f[pick]])
    assign = torch.zeros(len(f), dtype=torch.long)
    for _ in range(iters):
        assign = torch.cdist(f, centres).argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, assign, f)
        counts = torch.bincount(assign, minlength=k).to(f.dtype)[:, None]
        centres = torch.where(counts > 0, sums / counts.clamp_min(1), centres)
    return centres, assign


def quantise(v: torch.Tensor, training: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(value for the rate, value for the synthesis): uniform noise and straight-through rounding in training,
    rounding for both otherwise."""
    if not training:
        r = torch.round(v)
        return r, r
    return v + torch.empty_like(v).uniform_(-0.5, 0.5), v + (torch.round(v) - v).detach()


class SebModel(nn.Module):
    """The Seb networks: patch encoder E and decoder D of the Sebs, residual transforms g_a/g_s, two densities."""

    def __init__(self, cfg: SebConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or SebConfig()
        self.seb_encoder = analysis(3, cfg.width, cfg.seb_channels)
        self.seb_decoder = synthesis(cfg.seb_channels, cfg.width, 3)
        if cfg.residual == "gdn":
            self.g_a, self.g_s = analysis(3, cfg.width, cfg.latent), synthesis(cfg.latent, cfg.width, 3)
        else:
            self.g_a, self.g_s = block_transform()
            self.post = post_filter(cfg.post_width)
            self.log_step = nn.Parameter(torch.zeros(cfg.latent_channels))  # per-coefficient log step, trained fast
        self.seb_density = FactorizedDensity(cfg.seb_dim, cfg.mixtures)
        self.latent_density = FactorizedDensity(cfg.latent_channels, cfg.mixtures)

    def analyse(self, r: torch.Tensor) -> torch.Tensor:
        """The residual's latent y = g_a(r) (divided by the learned steps, with the block transform)."""
        y = self.g_a(r)
        return y * torch.exp(-self.log_step)[:, None, None] if self.cfg.residual == "block" else y

    def synthesise(self, y_hat: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """x̂ = x_r + g_s(ŷ) (then the post-filter's correction, with the block transform)."""
        if self.cfg.residual == "gdn":
            return ref + self.g_s(y_hat)
        x = ref + self.g_s(y_hat * torch.exp(self.log_step)[:, None, None])
        return x + self.post(torch.cat([x, ref], 1))

    def patch_latents(self, x: torch.Tensor) -> torch.Tensor:
        """Pictures (B, 3, H, W) in [0, 1] → F (B·n_p, d), one Seb-latent vector per patch."""
        return self.seb_encoder(patchify(x - 0.5)).flatten(1)

    def reference(self, s: torch.Tensor, b: int, h: int, w: int) -> torch.Tensor:
        """Seb vectors per patch (B·n_p, d) → the reference pictures (B, 3, H, W)."""
        c = self.cfg.seb_channels
        p = self.seb_decoder(s.reshape(len(s), c, PATCH // 16, PATCH // 16))
        return unpatchify(p, b, h, w) + 0.5

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Training pass over one image set x (n_j, 3, H, W) in [0, 1]: the loss and its parts (bits per pixel)."""
        b, _, h, w = x.shape
        n_p = (h // PATCH) * (w // PATCH)
        k = n_sebs(b, n_p)
        f = self.patch_latents(x)
        with torch.no_grad():
            centres, assign = kmeans(f.detach(), k, generator)
        sums = torch.zeros_like(centres).index_add(0, assign, f)
        counts = torch.bincount(assign, minlength=k).to(f.dtype)[:, None]
        s = torch.where(counts > 0, sums / counts.clamp_min(1), centres)
        s_rate, s_hat = quantise(s, self.training)
        ref = self.reference(f + (s_hat[assign] - f).detach(), b, h, w)  # the gradient copy (eqs. 8–9)
        y = self.analyse(x - ref)
        y_rate, y_hat = quantise(y, self.training)
        x_hat = self.synthesise(y_hat, ref)
        pixels = b * h * w
        bpp_s = self.seb_density.bits(s_rate) / pixels
        bpp_a = torch.tensor(b * usage_bits(n_p, k) / pixels)
        bpp_z = self.latent_density.bits(y_rate.permute(0, 2, 3, 1)) / pixels
        mse, mse_ref = fn.mse_loss(x_hat, x), fn.mse_loss(ref, x)
        commit = fn.mse_loss(f, s.detach()[assign])  # β‖F − sg(S)‖² (eq. 10)
        loss = (self.cfg.lam * 255 ** 2 * (mse + REF_WEIGHT * mse_ref) + bpp_s + bpp_a + bpp_z
                + self.cfg.beta * commit)
        return {"loss": loss, "mse": mse, "mse_ref": mse_ref, "bpp_s": bpp_s, "bpp_a": bpp_a, "bpp_z": bpp_z,
                "commit": commit, "x_hat": x_hat}
