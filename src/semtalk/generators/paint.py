"""What a warp of one image cannot show, painted over the talking head's frame (``generators.talking_head``).

A piecewise-affine warp only moves the pixels a source has: a mouth the source shows shut opens on its lips
stretched across the gap (and teeth it shows grow long), and an eye closes under the thin band of lid and
lashes above it stretched over the eye. The one-portrait talking head of LGM-TSC meets both all the time, so
it paints the mouth's inside and the closing lids instead, from the rendered mesh.
"""

from __future__ import annotations

import numpy as np

from semtalk.semantics.face import mesh

# The painted mouth: cavity colour at the lips and deep inside (RGB), the upper teeth's, and the opening from
# which the teeth show fully (they fade in from half of it).
CAVITY = (np.array([100.0, 40.0, 38.0]), np.array([38.0, 10.0, 12.0]))
TEETH, TEETH_OPENING = np.array([236.0, 230.0, 218.0]), 0.25
TONGUE = np.array([135.0, 55.0, 55.0])
# The lid's skin lies between these many eye heights above the upper lid (below the crease); the lashes' colour.
LID_SKIN, LASHES = (0.3, 0.9), np.array([45.0, 35.0, 30.0])


def paint_mouth(image: np.ndarray, lips: np.ndarray, source: np.ndarray, source_lips: np.ndarray,
                shut: float) -> None:
    """Redraw the inside of the mouth between the inner lips, in place: a warp stretches whatever the source showed
    between its lips across the new gap (lips drawn out, teeth grown long). Instead the source's teeth above its
    mouth's midline move with the upper lip and those below with the lower lip, and what opens between them is a
    cavity, dark red-brown darkening inwards, over a tongue; a hint of upper teeth shows when it is wide open, as
    far as the source's mouth is ``shut`` (0..1: it shows no teeth of its own); the edges are feathered.

    ``lips`` and ``source_lips`` are ``mesh.INNER_LIPS`` in pixels of ``image`` and of ``source`` (RGB).
    """
    import cv2

    gap = float(np.linalg.norm(lips[5] - lips[15]))  # 13 ↔ 14, as mesh.mouth_opening
    width = float(np.linalg.norm(lips[0] - lips[10]))
    if gap < 0.5 or width < 2:
        return
    feather = max(0.5, 0.015 * width)
    x0, y0 = np.floor(lips.min(0) - 3 * feather - 1).astype(int).clip(0)
    x1, y1 = np.ceil(lips.max(0) + 3 * feather + 2).astype(int)
    roi = image[y0:y1, x0:x1]
    if roi.size == 0:
        return
    h, w = roi.shape[:2]

    def fill(points: np.ndarray) -> np.ndarray:
        mask = np.zeros((h, w), np.float32)
        cv2.fillPoly(mask, [np.rint((points - (x0, y0)) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        return mask[..., None]

    cavity = fill(lips)
    depth = cv2.distanceTransform((cavity[..., 0] > 0.5).astype(np.uint8), cv2.DIST_L2, 3)[..., None]
    t = np.clip(depth / max(0.3 * gap, 1.0), 0.0, 1.0) ** 0.7
    colour = (1 - t) * CAVITY[0] + t * CAVITY[1]
    lower = np.concatenate([lips[10:], lips[:1]])  # 308 … 78 along the lower lip
    tongue = 0.5 * fill(np.concatenate([lower, lower[::-1] - np.array([0.0, 0.4 * gap])])) * cavity
    colour = (1 - tongue) * colour + tongue * TONGUE * (0.75 + 0.25 * t)
    show = shut * float(np.clip(2 * gap / width / TEETH_OPENING - 1, 0.0, 1.0))
    if show > 0:  # an arc of teeth under the upper lip's middle, deepest at the centre
        upper = lips[2:9]  # 80 … 310
        teeth_h = min(0.3 * gap, 0.12 * width)
        arc = teeth_h * (1 - 0.5 * np.linspace(-1, 1, len(upper)) ** 2)[:, None] * np.array([0.0, 1.0])
        rows = np.arange(h)[:, None, None] + y0 - upper[:, 1].min()
        shade = 1 - 0.12 * np.clip(rows / max(teeth_h, 1.0), 0.0, 1.0)
        teeth = cv2.GaussianBlur(fill(np.concatenate([upper, (upper + arc)[::-1]])), (0, 0), feather)[..., None]
        a = 0.95 * show * teeth * cavity
        colour = (1 - a) * colour + a * TEETH * shade
    if np.linalg.norm(source_lips[5] - source_lips[15]) >= 0.5:  # the source's own teeth, in two halves
        middle = (source_lips[1:10] + source_lips[19:10:-1]) / 2  # 191 ↔ 95 … 415 ↔ 324
        seam = np.array([0.0, 1.0])  # each half reaches a pixel past the middle: no seam while they touch
        halves = ((np.concatenate([source_lips[:11], middle[::-1] + seam]), slice(2, 9)),
                  (np.concatenate([source_lips[:1], middle - seam, source_lips[10:]]), slice(12, 19)))
        for outline, centre in reversed(halves):  # the upper teeth in front when the mouth shuts past them
            dx, dy = (lips[centre] - source_lips[centre]).mean(0)
            moved = cv2.warpAffine(source, np.array([[1.0, 0, dx - x0], [0, 1, dy - y0]]), (w, h),
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            a = fill(outline + np.array([dx, dy]))
            colour = (1 - a) * colour + a * moved
    alpha = cv2.GaussianBlur(cavity, (0, 0), feather)[..., None]
    roi[...] = np.clip(roi * (1 - alpha) + colour * alpha + 0.5, 0, 255).astype(np.uint8)


def paint_lids(image: np.ndarray, open_points: np.ndarray, points: np.ndarray, source: np.ndarray,
               source_points: np.ndarray, closure: float) -> None:
    """Draw the upper lids over closing eyes, in place: a warp closes an eye by stretching the thin band of lid and
    lashes above it over the eye (dark streaks). The lid's skin is the source's, from the band between its lashes
    and its crease, moved down over the part of the eye that closed, with the lashes along the lid's new edge.

    ``open_points`` and ``points`` are the rendered mesh (pixels, 2D) with the eyes open and as they are;
    ``source_points`` the source's (RGB ``source``, eyes open); ``closure`` 0..1 how far they are shut.
    """
    import cv2

    h, w = image.shape[:2]
    out = image.astype(np.float32)
    for eye in (mesh.LID_PAIRS[:7], mesh.LID_PAIRS[7:]):
        upper, was = points[eye[:, 0]], open_points[eye[:, 0]]
        src_upper, src_lower = source_points[eye[:, 0]], source_points[eye[:, 1]]
        # The lid's band between the lashes and the crease, squeezed or stretched onto the part now closed.
        eye_h = float(np.linalg.norm(src_upper - src_lower, axis=1).mean())
        closed_h = max(float((upper - was)[:, 1].mean()), 1.0)
        scale = (LID_SKIN[1] - LID_SKIN[0]) * eye_h / closed_h
        top = src_upper[:, 1].mean() - LID_SKIN[1] * eye_h
        to_source = np.array([[1.0, 0, src_upper[:, 0].mean() - was[:, 0].mean()],
                              [0, scale, top - scale * was[:, 1].mean()]])
        skin = cv2.warpAffine(source, to_source, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
        lid, lashes = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
        cv2.fillPoly(lid, [np.rint(np.concatenate([was, upper[::-1]]) * 16).astype(np.int32)], 1.0, cv2.LINE_AA,
                     shift=4)
        cv2.polylines(lashes, [np.rint(upper * 16).astype(np.int32)], False, 1.0, 1, cv2.LINE_AA, shift=4)
        a = cv2.GaussianBlur(lid, (0, 0), 0.8)[..., None]
        out = out * (1 - a) + skin * a
        a = 0.6 * closure * cv2.GaussianBlur(lashes, (0, 0), 0.5)[..., None]
        out = out * (1 - a) + LASHES * a
    image[...] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
