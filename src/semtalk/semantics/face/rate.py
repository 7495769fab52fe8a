"""Rate–distortion side of the face stream: what a code step of each coefficient costs in the picture, and the
precision ladder built from it (``streams.facecode.face_coder`` makes the coder both ends derive from the KB).

Distortion is measured where the renderer warps from: the landmark mesh in output pixels. A step ``Δ`` of
coefficient ``i`` moves the mesh by ``J_i·Δ`` (``J_i`` its Jacobian at the reference face), so uniform
quantisation adds ``w_i·Δ²/12`` with ``w_i = Σ_k a_k·‖J_{i,k}‖²`` over landmarks ``k``; the lips and eyelids
weigh ``FEATURE_WEIGHT`` times the rest because that is where a talking face is looked at. Equal slopes of
the rate–distortion curves (reverse water-filling, Cover & Thomas §10.3.3) then give ``Δ_i ∝ 1/√w_i``: the
ladder's level ``q`` sets one mesh error ``e_q`` (pixels) and every coefficient gets ``Δ_i = e_q/√w_i`` code
steps. The crop motion is never coarsened: sender and receiver must cut the same window
(``encoder.FaceTracker``), and it costs almost nothing since the crop rarely moves.
"""

from __future__ import annotations

import numpy as np

from semtalk.semantics.face import mesh

FEATURE_WEIGHT = 4.0  # lips and eyelids against the rest of the face
LADDER_PX = 0.05  # mesh error of level 1 (pixels); each level up multiplies it by 2^(1/4)
LADDER_RATIO = 2 ** 0.25
MAX_STEP = 64


def distortion_weights(kb) -> np.ndarray:
    """(C,) mean squared mesh displacement in output pixels per squared code step; ``inf`` for the crop."""
    model, quant = kb.face_model, kb.quantizer
    ref = quant.dequantize(kb.reference.codes).astype(np.float64)
    base = model.decode(ref)[: mesh.N_MESH, :2]
    a = np.ones(mesh.N_MESH)
    a[np.concatenate([mesh.LIPS, mesh.LID_PAIRS.ravel(), mesh.EAR_LEFT, mesh.EAR_RIGHT])] = FEATURE_WEIGHT
    a /= a.sum()
    code_step = quant.step()
    w = np.full(model.n_coeffs, np.inf)
    for i in range(model.n_expr + 7):
        h = code_step[i]
        x = ref.copy()
        x[i] += h
        moved = (model.decode(x)[: mesh.N_MESH, :2] - base) * kb.crop.size
        w[i] = float(a @ (moved**2).sum(1))
    return np.maximum(w, 1e-12)


def ladder(weights: np.ndarray, levels: int) -> np.ndarray:
    """(levels, C) integer steps: level 0 lossless, level q a mesh error of LADDER_PX·LADDER_RATIO^(q−1)."""
    err = LADDER_PX * LADDER_RATIO ** np.arange(levels - 1, dtype=np.float64)
    steps = np.rint(err[:, None] / np.sqrt(weights)[None]).clip(1, MAX_STEP)
    return np.vstack([np.ones((1, weights.size)), steps]).astype(np.int64)

