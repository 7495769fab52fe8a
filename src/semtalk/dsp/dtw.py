"""Dynamic time warping between frame sequences."""

from __future__ import annotations

import numpy as np


def dtw_path(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean DTW between frame sequences (symmetric steps); indices of the aligned pairs.

    Each row is done at once: ``D[i,j] = S_j + min_{k≤j}(m_k − S_{k−1})`` where ``S`` is the row's
    running cost sum and ``m_k = min(D[i−1,k−1], D[i−1,k])``, so the horizontal step needs no loop.
    """
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    n, m = cost.shape
    acc = np.empty((n, m))
    acc[0] = np.cumsum(cost[0])
    for i in range(1, n):
        prev = acc[i - 1]
        best = np.minimum(prev, np.concatenate(([np.inf], prev[:-1])))
        s = np.cumsum(cost[i])
        acc[i] = s + np.minimum.accumulate(best - np.concatenate(([0.0], s[:-1])))
    i, j = n - 1, m - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            step = int(np.argmin((acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])))
            i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
        path.append((i, j))
    ij = np.array(path[::-1])
    return ij[:, 0], ij[:, 1]

