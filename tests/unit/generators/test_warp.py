from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import Delaunay

from semtalk.generators.warp import TriangleRaster

SIZE = 64


def _smooth_image(seed: int = 0, size: int = SIZE) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, 3)
    chans = [127 + 100 * np.sin(2 * np.pi * (x * (k + 1) + y * (2 - k / 2)) + phase[k]) for k in range(3)]
    return np.dstack(chans).round().astype(np.uint8)


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, np.ndarray]:
    """A mesh over the image: jittered interior points plus the corners and edge points."""
    rng = np.random.default_rng(0)
    edge = np.linspace(0, SIZE - 1, 5)
    sides = (0, SIZE - 1)
    border = np.array([(a, b) for a in edge for b in sides] + [(b, a) for a in edge[1:-1] for b in sides])
    pts = np.vstack([border, rng.uniform(6, SIZE - 7, size=(25, 2))]).astype(np.float64)
    return pts, Delaunay(pts).simplices.astype(np.int32)


def test_identity_warp_reproduces_the_image(grid):
    pts, tris = grid
    image = _smooth_image()
    raster = TriangleRaster(tris, pts, SIZE)
    out = raster.warp(image, pts)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert raster.covered.sum() > 0.9 * SIZE * SIZE
    diff = np.abs(out.astype(int) - image)[raster.covered]
    assert diff.max() <= 1


def test_translated_source_shifts_the_image(grid):
    pts, tris = grid
    image = _smooth_image(1)
    raster = TriangleRaster(tris, pts, SIZE)
    out = raster.warp(image, pts + np.array([3.0, 2.0]))
    # Output pixel (x, y) samples the source at (x + 3, y + 2).
    inside = raster.covered[: SIZE - 2, : SIZE - 3]
    diff = np.abs(out[: SIZE - 2, : SIZE - 3].astype(int) - image[2:, 3:])[inside]
    assert diff.max() <= 1


def test_offset_reads_a_patch_in_frame_coordinates(grid):
    pts, tris = grid
    image = _smooth_image(2)
    raster = TriangleRaster(tris, pts, SIZE)
    src = pts * 0.5 + np.array([20.0, 10.0])  # the whole mesh maps into [20, 52) × [10, 42)
    full = raster.warp(image, src)
    patch = raster.warp(image[10:44, 20:54], src, offset=(20, 10))
    np.testing.assert_array_equal(patch[raster.covered], full[raster.covered])


def test_scaling_halves_distances():
    pts = np.array([[0.0, 0.0], [63.0, 0.0], [0.0, 63.0], [63.0, 63.0]])
    tris = np.array([[0, 1, 2], [1, 3, 2]], dtype=np.int32)
    image = np.zeros((SIZE, SIZE, 3), np.uint8)
    image[30:34, 30:34] = 255
    out = TriangleRaster(tris, pts, SIZE).warp(image, pts * 2)  # zoom out around the origin
    ys, xs = np.nonzero(out[..., 0] > 127)
    assert (xs.mean(), ys.mean()) == pytest.approx((15.75, 15.75), abs=0.3)


def test_nearer_triangles_are_painted_last():
    pts = np.array([[5.0, 5.0], [40.0, 5.0], [5.0, 40.0], [10.0, 10.0], [50.0, 10.0], [10.0, 50.0]])
    tris = np.array([[0, 1, 2], [3, 4, 5]], dtype=np.int32)
    overlap = (20, 15)  # inside both triangles (row, column)
    near_first = TriangleRaster(tris, pts, SIZE, depth=np.array([0, 0, 0, 1.0, 1.0, 1.0]))
    near_second = TriangleRaster(tris, pts, SIZE, depth=np.array([1.0, 1.0, 1.0, 0, 0, 0]))
    assert near_first.index[overlap] == 0
    assert near_second.index[overlap] == 1
    assert TriangleRaster(tris, pts, SIZE).index[overlap] == 1  # no depth: index order


def test_uncovered_pixels_are_marked():
    pts = np.array([[10.0, 10.0], [30.0, 10.0], [10.0, 30.0]])
    raster = TriangleRaster(np.array([[0, 1, 2]], dtype=np.int32), pts, SIZE)
    assert raster.covered[15, 15] and not raster.covered[40, 40] and not raster.covered[28, 28]
    assert raster.index[40, 40] == -1


def test_degenerate_triangles_do_not_break_the_warp():
    pts = np.array([[0.0, 0.0], [63.0, 0.0], [0.0, 63.0], [63.0, 63.0], [20.0, 20.0], [40.0, 40.0]])
    tris = np.array([[0, 1, 2], [1, 3, 2], [0, 4, 5]], dtype=np.int32)  # the last one is a line
    image = _smooth_image(3)
    raster = TriangleRaster(tris, pts, SIZE)
    aff = raster.affines(pts)
    assert np.all(np.isfinite(aff))
    out = raster.warp(image, pts)
    good = raster.covered & (raster.index != 2)
    assert np.abs(out.astype(int) - image)[good].max() <= 1
