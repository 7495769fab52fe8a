"""Shapes of the Seb codec and the closed forms of its side information.

An image set of ``n_j`` pictures, each cut into ``n_p`` patches of ``PATCH``×``PATCH`` pixels, shares
``K = ⌊n_j·n_p/25⌋`` semantic bases (Sebs); every patch names one of them, which costs ``log2 K`` bits (eq. 7).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

PATCH = 32  # side of a patch (pixels): the Seb latent of a patch is one vector
PATCHES_PER_SEB = 25  # the paper's K = ⌊n_j · n_p / 25⌋
BLOCK = 8  # side of the block residual transform


@dataclass(frozen=True)
class SebConfig:
    """Widths of the networks (CPU-sized: the paper's N = 128/192 becomes ``width``).

    ``seb_channels`` × 2 × 2 is the Seb latent of one 32×32 patch (4 stride-2 stages); ``latent`` channels at
    1/16 resolution carry the residual. ``lam`` is the rate–distortion weight of the training loss (λ·255²·MSE)."""

    width: int = 64
    seb_channels: int = 16
    latent: int = 96  # residual channels of the ``gdn`` residual transform
    mixtures: int = 3  # logistic components of each channel's factorized density
    lam: float = 0.01
    beta: float = 1.0  # the commitment weight of β‖F − sg(S)‖² (eq. 10)
    # The residual's transform: "gdn", four conv+GDN stages (Ballé's, /16), or "block", a learned linear 8×8 block
    # transform started at the colour DCT (3·64 channels, /8) with a learned post-filter (model.block_transform).
    residual: str = "block"
    post_width: int = 24

    def __post_init__(self) -> None:
        if min(self.width, self.seb_channels, self.latent, self.mixtures, self.post_width) < 1:
            raise ValueError("width, seb_channels, latent, mixtures and post_width must be ≥ 1")
        if self.residual not in ("gdn", "block"):
            raise ValueError(f"residual must be gdn or block, got {self.residual!r}")

    @property
    def latent_stride(self) -> int:
        """Pixels per residual latent along a side."""
        return 16 if self.residual == "gdn" else BLOCK

    @property
    def latent_channels(self) -> int:
        return self.latent if self.residual == "gdn" else 3 * BLOCK * BLOCK

    @property
    def seb_dim(self) -> int:
        """Length of one patch's Seb latent vector."""
        return self.seb_channels * (PATCH // 16) ** 2

    def to_dict(self) -> dict:
        return asdict(self)


def n_sebs(n_images: int, n_patches: int) -> int:
    """K = ⌊n_j · n_p / 25⌋ Sebs for a subset of ``n_images`` pictures of ``n_patches`` patches (at least 1)."""
    return max(1, (n_images * n_patches) // PATCHES_PER_SEB)


def usage_bits(n_patches: int, k: int) -> float:
    """Eq. 7: an image names a Seb for each of its ``n_p`` patches, ``n_p · log2 K`` bits."""
    return n_patches * math.log2(k) if k > 1 else 0.0


def patch_grid(height: int, width: int) -> tuple[int, int]:
    """Patch rows and columns of a picture padded up to whole patches."""
    return -(-height // PATCH), -(-width // PATCH)
