"""A coarse motion field that moves the rendered face crop onto the original (issue 24).

What the warp-and-blend renderer gets wrong is mostly *where* things are: hair that swings, a neck and a
collar that the head pose does not predict (docs/face-rate.md). A dense optical flow from the rendering to
the original lifts held-out SSIM on the HDTF clips from 0.665 / 0.802 / 0.782 to 0.852 / 0.906 / 0.887, and
the sender can measure it, because it holds the receiver's KB and renderer. What it sends is a coarse version:
a ``grid × grid`` lattice of displacement vectors, integers in units of ``STEP`` of the crop side, one lattice
per face packet (every frame of the packet uses it). The receiver upsamples the lattice bicubically to a dense
field ``u`` and resamples its rendering, ``out(x) = rendered(x + u(x))`` (a backward warp: no holes).

The sender fits the lattice to all the packet's frames: an initial DIS optical flow (Kroeger et al., ECCV 2016,
OpenCV's ``DISOpticalFlow``) averaged over the lattice's cells, then Gauss–Newton steps on the photometric error
at half resolution (the forwards-additive Lucas–Kanade of Baker & Matthews, IJCV 2004, eq. 10, with the
bicubic lattice as the warp's parameters and a ridge that keeps a flat, textureless region's vectors at zero).
The fitted lattice is what the pictures need, not the flow's noise: measured on the HDTF clips, with one 6 × 6
lattice at 2-pixel steps per 5 frames, it gives 0.731 / 0.834 / 0.821 held-out SSIM, where averaging the flow
alone gives 0.704 / 0.825 / 0.800 (docs/face-rate.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from semtalk.streams.facecode import FIELD_LIMIT

STEP = 1 / 128  # a lattice unit in crop sides (2 px of a 256² crop): finer costs bits, coarser costs SSIM
_FIT_SIZE = 128  # Gauss–Newton runs at this resolution
_ITERATIONS = 2  # more changes SSIM by < 0.001 (KatieHill: 0.7312 at 2, 0.7310 at 4)
_RIDGE = 1e3  # squared grey levels per squared pixel: a vector must earn its bits in photometric error
_DAMPING = 0.05  # Levenberg–Marquardt damping, a share of each parameter's own curvature


def dense(field: np.ndarray, size: int) -> np.ndarray:
    """The (grid, grid, 2) lattice in units → (size, size, 2) float32 displacements in pixels."""
    import cv2

    px = np.asarray(field, dtype=np.float32) * np.float32(STEP * size)
    return cv2.resize(px, (size, size), interpolation=cv2.INTER_CUBIC)


def packet_offset(index: int, frames_per_packet: int) -> tuple[int, float]:
    """Frame ``index``'s packet and its offset from the packet's middle in packets (−0.5..0.5): a packet's field
    is anchored there, and a frame off the middle takes ``|offset|`` of the neighbouring packet's on that side."""
    packet, position = divmod(index, frames_per_packet)
    return packet, (position - (frames_per_packet - 1) / 2) / frames_per_packet


def towards(field: np.ndarray, other: np.ndarray | None, offset: float) -> np.ndarray:
    """``field`` moved ``|offset|`` of the way to the neighbouring packet's ``other`` (None: ``field`` itself)."""
    return field if other is None else (1 - abs(offset)) * field + abs(offset) * other


def apply_field(image: np.ndarray, field: np.ndarray | None, rigid: Sequence[np.ndarray] = ()) -> np.ndarray:
    """``image`` resampled at ``x + u(x)``; unchanged when ``field`` is None or all zeros.

    ``rigid``: regions (each an (n, 2) array of its points in pixels) that the field may move but not reshape:
    around each, ``u`` fades (Gaussian, σ = 1.5 region widths) into its value at the region's centre. The eyes
    are such regions: one field serves a whole packet, and its slope across an eye would narrow or widen it in
    every frame of the packet, a blink's included (KatieHill's blink correlation 0.81 → 0.75 without this).
    """
    if field is None or not np.any(field):
        return image
    import cv2

    size = image.shape[0]
    u = dense(field, size)
    grid = np.arange(size, dtype=np.float32)
    for points in rigid:
        centre = points.mean(0)
        sigma = 1.5 * max(float(np.ptp(points[:, 0])), 1.0)
        cx, cy = np.clip(np.rint(centre), 0, size - 1).astype(int)
        w = np.exp(-((grid[None, :] - centre[0]) ** 2 + (grid[:, None] - centre[1]) ** 2) / (2 * sigma ** 2))
        u += w[..., None] * (u[cy, cx] - u)
    return cv2.remap(image, grid[None, :] + u[..., 0], grid[:, None] + u[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


class FieldFitter:
    """``fit(rendered, originals)`` → the (grid, grid, 2) integer lattice that best moves the renderings onto the
    originals (``STEP`` units, clipped to ±``FIELD_LIMIT``, the wire format's range)."""

    def __init__(self, grid: int):
        import cv2

        if not 2 <= grid <= 16:  # ``call.run.MAX_FLOW_GRID``: the CLI's one-line refusal comes first
            raise ValueError(f"the motion field's grid must be 2..16, got {grid}")
        self.grid = grid
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        # Column j: the fit-size field of lattice value j set to one (bicubic, as ``dense`` upsamples).
        eye = np.eye(grid * grid, dtype=np.float32)
        self._basis = np.stack([cv2.resize(e.reshape(grid, grid), (_FIT_SIZE, _FIT_SIZE),
                                           interpolation=cv2.INTER_CUBIC).ravel() for e in eye], 1)
        self._mesh = np.mgrid[0:_FIT_SIZE, 0:_FIT_SIZE].astype(np.float32)

    def fit(self, rendered: Sequence[np.ndarray], originals: Sequence[np.ndarray]) -> np.ndarray:
        import cv2

        if not rendered or len(rendered) != len(originals):
            raise ValueError("the motion field is fitted to one or more (rendered, original) pairs")
        if any(r.shape[:2] != o.shape[:2] for r, o in zip(rendered, originals, strict=True)):
            raise ValueError("a rendering and its original must have the same size")
        size = rendered[0].shape[0]
        pairs = [(self._grey(r), self._grey(o)) for r, o in zip(rendered, originals, strict=True)]
        flows = [self._flow.calc(o, r, None) for r, o in pairs]  # DIS takes 8-bit greys
        pairs = [(r.astype(np.float32), o.astype(np.float32)) for r, o in pairs]
        g = self.grid
        # Initial lattice: the DIS flow (original → rendering) averaged over each cell, in pixels of the fit size.
        p = cv2.resize(np.mean(flows, axis=0), (g, g), interpolation=cv2.INTER_AREA).astype(np.float64)
        n = g * g
        ys, xs = self._mesh
        for _ in range(_ITERATIONS):
            u = (self._basis @ p[..., 0].ravel()).astype(np.float32).reshape(_FIT_SIZE, _FIT_SIZE)
            v = (self._basis @ p[..., 1].ravel()).astype(np.float32).reshape(_FIT_SIZE, _FIT_SIZE)
            # Per pixel, summed over the frames: the gradient's outer products and its product with the error. The
            # Jacobian of frame f is [B·diag(ix_f), B·diag(iy_f)] (B: the basis), so Σ_f JᵀJ needs B only once.
            moments = np.zeros((5, _FIT_SIZE * _FIT_SIZE), dtype=np.float32)  # ix², ix·iy, iy², ix·e, iy·e
            for r, o in pairs:
                warped = cv2.remap(r, xs + u, ys + v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                ix = cv2.Sobel(warped, cv2.CV_32F, 1, 0, ksize=3).ravel() / 8
                iy = cv2.Sobel(warped, cv2.CV_32F, 0, 1, ksize=3).ravel() / 8
                error = (warped - o).ravel()
                moments += np.stack([ix * ix, ix * iy, iy * iy, ix * error, iy * error])
            b = self._basis
            xx, xy, yy = (b.T @ (b * m[:, None]) for m in moments[:3])
            hessian = np.block([[xx, xy], [xy, yy]])  # each block is symmetric
            gradient = np.concatenate([b.T @ moments[3], b.T @ moments[4]])
            # Ridge in full-size pixels (the fit-size Jacobian is scaled by the ratio squared).
            ratio = size / _FIT_SIZE
            step = -np.linalg.solve(hessian + _RIDGE * ratio ** 2 * np.eye(2 * n)
                                    + _DAMPING * np.diag(np.diag(hessian)), gradient)
            p += np.stack([step[:n].reshape(g, g), step[n:].reshape(g, g)], -1)
        units = p * (size / _FIT_SIZE) / (STEP * size)
        return np.clip(np.rint(units), -FIELD_LIMIT, FIELD_LIMIT).astype(np.int64)

    @staticmethod
    def _grey(image: np.ndarray) -> np.ndarray:
        import cv2

        grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
        return cv2.resize(grey, (_FIT_SIZE, _FIT_SIZE), interpolation=cv2.INTER_AREA)
