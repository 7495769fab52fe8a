"""DTW: a known warp is recovered, and a band keeps the path near the diagonal without changing a near one."""

from __future__ import annotations

import numpy as np

from semtalk.dsp.dtw import dtw_path


def _warped(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = np.cumsum(rng.normal(size=(n, 3)), axis=0)
    return a, np.repeat(np.arange(n), rng.integers(1, 3, n))  # each frame once or twice


def test_dtw_recovers_a_known_time_warp() -> None:
    a, warp = _warped(80)
    for band in (None, 40):
        i, j = dtw_path(a, a[warp], band=band)
        np.testing.assert_array_equal(i, warp)
        np.testing.assert_array_equal(j, np.arange(len(warp)))


def test_a_band_keeps_the_path_within_it_and_still_reaches_both_ends() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(200, 4))
    i, j = dtw_path(a, b, band=5)
    assert (i[0], j[0], i[-1], j[-1]) == (0, 0, 299, 199)
    assert np.all(np.diff(i) >= 0) and np.all(np.diff(j) >= 0) and np.all(np.diff(i) + np.diff(j) >= 1)
    assert np.abs(j - np.round(i * 199 / 299)).max() <= 5
    free_i, free_j = dtw_path(a, b)
    assert np.abs(free_j - np.round(free_i * 199 / 299)).max() > 5  # the unbanded path does wander further


def test_a_long_alignment_in_a_band_is_cheap() -> None:
    """Twenty thousand frames a side: the unbanded cost tensor would be 20000² × 3 doubles (9.6 GB)."""
    a, warp = _warped(20000, seed=2)
    i, j = dtw_path(a, a[warp[:20000]], band=100)
    assert i[-1] == 19999 and j[-1] == 19999 and len(i) >= 20000
