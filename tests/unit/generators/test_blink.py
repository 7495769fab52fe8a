"""Blinks (issue 24): a closed-eye coefficient renders a closed eye; an open one leaves the eye as warped."""

from __future__ import annotations

import cv2
import numpy as np

from semtalk.generators.face_renderer import FaceRenderer, RendererConfig
from semtalk.semantics.face import mesh
from tests.unit.kb.kb_fixtures import SIZE

E = 6  # the blink coefficient (eye aspect ratio) follows the synthetic KB's 6 expression coefficients


def _moved(kb) -> np.ndarray:
    c = kb.quantizer.dequantize(kb.reference.codes).astype(np.float64)
    c[0] += 0.02  # off the keyframe itself, so the frame is warped and blended
    return c


def dark_share_in_the_eyes(image: np.ndarray, points: np.ndarray) -> float:
    """Share of the open eyes' area (between upper and lower lids of ``points``, pixels) that is the dark eye
    colour of the synthetic face rather than skin."""
    mask = np.zeros(image.shape[:2], np.uint8)
    for eye in (mesh.LID_PAIRS[:7], mesh.LID_PAIRS[7:]):
        poly = np.concatenate([points[eye[:, 0]], points[eye[::-1, 1]]])
        cv2.fillPoly(mask, [np.rint(poly).astype(np.int32)], 1)
    mask = cv2.erode(mask, np.ones((2, 2), np.uint8))
    dark = image.astype(int).sum(-1) < 300
    return float(dark[mask > 0].mean())


def test_a_closed_eye_coefficient_renders_a_closed_eye(synthetic, renderer):
    kb = synthetic.kb
    c = _moved(kb)
    open_points = kb.face_model.decode(c)[:, :2] * SIZE
    opened = renderer(c)
    shut = c.copy()
    shut[E] = 0.1 * c[E]
    closed = renderer(shut)
    assert opened.shape == closed.shape == (SIZE, SIZE, 3)
    seen_open, seen_closed = dark_share_in_the_eyes(opened, open_points), dark_share_in_the_eyes(closed, open_points)
    assert seen_open > 0.8
    assert seen_closed < 0.3 * seen_open  # lid skin over the eye; what stays dark is the lashes and the last 10 %
    # The rest of the face is untouched: far from the eyes the two frames agree.
    lips = np.rint(open_points[mesh.OUTER_LIPS].mean(0)).astype(int)
    np.testing.assert_array_equal(opened[lips[1] - 3:lips[1] + 3, lips[0] - 3:lips[0] + 3],
                                  closed[lips[1] - 3:lips[1] + 3, lips[0] - 3:lips[0] + 3])


def test_lids_are_painted_only_past_the_configured_closure(synthetic):
    kb = synthetic.kb
    c = _moved(kb)
    half = c.copy()
    half[E] = 0.9 * c[E]  # 10 % shut: below the default threshold, the warp alone
    never = FaceRenderer(kb, RendererConfig(lid_closure=2.0))
    np.testing.assert_array_equal(FaceRenderer(kb)(half), never(half))
    shut = c.copy()
    shut[E] = 0.1 * c[E]
    assert not np.array_equal(FaceRenderer(kb)(shut), never(shut))
