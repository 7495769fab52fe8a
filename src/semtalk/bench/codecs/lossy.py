"""A codec bitstream sent over a lossy packet channel with Reed–Solomon erasure coding (SyncSC Fig. 8).

SyncSC protects each GOP of the codec's bitstream with one RS code over GF(2^8): the GOP's bytes
are cut into 32-byte source symbols, k of them, and n − k repair symbols are added (code rate k/n,
1/2 or 1/4); every symbol travels as its own packet. zfec allows n ≤ 256, so a GOP needing more
symbols is split into the fewest equal blocks that fit (``LossOutcome.split_gops`` counts them).
A block decodes iff at least k of its n symbols arrive (RS is MDS); a failed block still yields
the source symbols that arrived themselves (the code is systematic). A frame's bytes are
recovered iff every symbol holding them is; ``decode_video`` then applies the reference chain and
the FREEZE convention. ``code_rate=1`` is the no-FEC variant: symbols only, no repair.

Use a GOP with periodic I-frames for this experiment (``LOSS_GOP`` = 25 frames, one I-frame a
second at 25 fps), or one lost symbol would freeze the rest of the clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from semtalk.channel.packet_loss import BernoulliLoss, GilbertElliottLoss
from semtalk.media.video_codec import EncodedVideo

LOSS_GOP = 25  # frames per I-frame in the loss experiment: 1 s at 25 fps
SYMBOL_BYTES = 32  # SyncSC's source symbol size
MAX_N = 256  # zfec's limit on symbols per block


@dataclass(frozen=True)
class LossOutcome:
    """What reached the receiver. ``keep[i]``: frame i's bytes were all recovered (give it to
    ``decode_video``); ``decodable`` also needs the reference chain."""

    keep: np.ndarray
    decodable: np.ndarray
    packets_sent: int
    packets_lost: int
    blocks: int
    blocks_failed: int
    split_gops: int  # GOPs that needed more than one RS block
    sent_kbps: float  # channel rate: all symbols, source and repair

    @property
    def packet_loss(self) -> float:
        return self.packets_lost / self.packets_sent if self.packets_sent else 0.0


def protect_and_lose(
    encoded: EncodedVideo,
    code_rate: float,
    loss: float,
    burst: float | None = None,
    seed: int | np.random.Generator | None = 0,
    symbol_bytes: int = SYMBOL_BYTES,
) -> LossOutcome:
    """Protect each GOP of ``encoded`` with RS at ``code_rate`` and send it through a seeded channel.

    ``burst`` None or ≤ 1: Bernoulli loss with probability ``loss``; otherwise Gilbert–Elliott with
    mean loss ``loss`` and mean burst length ``burst`` (packets). Packets go out GOP by GOP, each
    block's source symbols then its repair symbols, through one channel realisation.
    """
    import zfec

    from semtalk.media.video_codec import decodable

    if not 0.0 < code_rate <= 1.0:
        raise ValueError(f"code_rate must be in (0, 1], got {code_rate}")
    if symbol_bytes < 1:
        raise ValueError(f"symbol_bytes must be at least 1, got {symbol_bytes}")
    channel = (BernoulliLoss(loss, seed=seed) if burst is None or burst <= 1.0
               else GilbertElliottLoss(loss, burst=burst, seed=seed))  # fmt: skip
    k_max = max(1, math.floor(MAX_N * code_rate + 1e-9))
    keep = np.zeros(encoded.n_frames, dtype=bool)
    sent = lost = blocks = failed = split = 0
    for first, last in _gops(encoded.keyframes):
        sizes = [len(p) for p in encoded.packets[first:last]]
        data = b"".join(encoded.packets[first:last])
        n_symbols = max(1, -(-len(data) // symbol_bytes))
        parts = -(-n_symbols // k_max)
        split += parts > 1
        recovered = np.zeros(n_symbols, dtype=bool)
        for part in np.array_split(np.arange(n_symbols), parts):
            k = len(part)
            n = k if code_rate == 1.0 else min(MAX_N, math.ceil(k / code_rate - 1e-9))
            arrived = ~channel.loss_mask(n)
            blocks, sent, lost = blocks + 1, sent + n, lost + int(n - arrived.sum())
            ok = _rs_block(zfec, data, part, n, arrived, symbol_bytes)
            failed += not ok
            recovered[part] = ok or arrived[:k]
        ends = np.cumsum(sizes)
        for j, (start, end) in enumerate(zip(ends - sizes, ends, strict=True)):
            keep[first + j] = end == start or bool(recovered[start // symbol_bytes : -(-end // symbol_bytes)].all())
    seconds = encoded.n_frames / encoded.fps
    return LossOutcome(
        keep, decodable(encoded, keep), sent, lost, blocks, failed, split, sent * symbol_bytes * 8 / seconds / 1000
    )


def _gops(keyframes: tuple[bool, ...]) -> list[tuple[int, int]]:
    """[first, last) frame ranges from each I-frame to the next (frames before the first I-frame
    form a GOP of their own)."""
    starts = sorted({0, *(i for i, k in enumerate(keyframes) if k)})
    return list(zip(starts, [*starts[1:], len(keyframes)], strict=True))


def _rs_block(zfec, data: bytes, part: np.ndarray, n: int, arrived: np.ndarray, size: int) -> bool:
    """Encode one block with zfec, decode it from the symbols that arrived; True iff all k came back
    byte-exact (an MDS code decodes iff ≥ k of n symbols arrive -- zfec checks it on real bytes)."""
    k = len(part)
    if arrived.sum() < k:
        return False
    if n == k:
        return bool(arrived.all())
    chunk = data[int(part[0]) * size : (int(part[-1]) + 1) * size]
    source = [chunk[i * size : (i + 1) * size].ljust(size, b"\0") for i in range(k)]
    repair = zfec.Encoder(k, n).encode(source, list(range(k, n)))
    ids = [int(i) for i in np.flatnonzero(arrived)[:k]]
    symbols = [source[i] if i < k else bytes(repair[i - k]) for i in ids]
    return [bytes(s) for s in zfec.Decoder(k, n).decode(symbols, ids)] == source
