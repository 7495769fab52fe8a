"""Receiver face generator: knowledge base + coefficients → a face-crop frame.

The face mesh decoded from the coefficients is extended by two rings that follow the head pose
(hair, ears, neck) with decreasing rigidity, and by points on the crop border that follow the crop
motion (background). The nearest KB keyframes (by how far they must be warped: mesh distance, plus
a quadratic cost of the head turn a 2-D warp cannot make, plus a cost for eyes narrower than the
frame's, which a warp cannot open) are piecewise-affinely warped onto that mesh and blended; the
mouth comes from the keyframe or atlas entry whose lip shape is closest, so an open mouth shows
teeth rather than stretched lips. A head turned far beyond every keyframe is drawn turned only as
far as the keyframes reach (``within_reach``), and where the crop window leaves the source frame
the output repeats its edge, as the sender's crop does (``_replicate_border``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semtalk.generators.paint import paint_lids
from semtalk.generators.warp import TriangleRaster
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.semantics.face import mesh
from semtalk.semantics.face.crop import CropBox
from semtalk.semantics.face.pose import vector_to_rotation


@dataclass(frozen=True)
class RendererConfig:
    """Blending: how many keyframes, and how soft the weights (ε in crop units).

    ``turn_weights``: a keyframe's distance is its mesh distance (crop units) plus these weights times its squared
    head-turn difference about x, y, z (rad², axis-angle components: pitch, yaw, roll). A warp moves pixels in the
    image plane, so it shifts, scales and rolls a head exactly (roll: weight 0) but cannot show the side a keyframe
    turns away from (yaw most, pitch less); the mesh distance weighs a turn like any other motion. Quadratic, so
    small turns (and their landmark noise) barely count and a keyframe turned the other way is avoided. Measured
    on the HDTF clips (docs/face-rate.md): KatieHill, who turns away from every keyframe, SSIM 0.633 → 0.66.
    ``eye_weight``: a warp can narrow an eye (and ``paint_lids`` shuts it) but cannot open one it has no iris for,
    so a keyframe whose eyes are narrower than the frame's (by more than ``eye_slack``) costs this much per unit of
    eye aspect ratio; without it the turn term picks half-shut keyframes and the blinks fade (KatieHill's blink
    correlation 0.83 → 0.69).
    """

    blend: int = 4
    epsilon: float = 0.004
    ring_scales: tuple[float, float] = (1.3, 1.9)
    rigidity: tuple[float, float] = (0.7, 0.2)  # outer ring's head-following at the top and bottom
    border_points: int = 9
    lid_closure: float = 0.2  # paint the lids (``paint.paint_lids``) once the eyes are this far shut (0..1)
    turn_weights: tuple[float, float, float] = (1.25, 2.5, 0.0)  # crop units per rad² of pitch, yaw, roll
    eye_weight: float = 1.0  # crop units per unit of eye aspect ratio a keyframe's eyes are narrower than the frame's
    eye_slack: float = 0.03  # ... beyond this (the aspect ratio's landmark noise; GRID loses 0.006 SSIM without it)
    pose_reach: float | None = 0.45  # rad a head may turn beyond the keyframes' range before the turn is clamped


@dataclass(frozen=True)
class _Source:
    image: np.ndarray  # RGB, or RGBA when the KB carries the person mask
    coeffs: np.ndarray
    box: CropBox
    offset: tuple[int, int]
    lips: np.ndarray  # frontal lip shape, for choosing the mouth source


class FaceRenderer:
    """``renderer(coeffs) -> uint8 image`` of the KB crop size."""

    def __init__(self, kb: KnowledgeBase, config: RendererConfig | None = None):
        self.kb = kb
        self.config = config or RendererConfig()
        self.size = kb.crop.size
        model = kb.face_model
        self.model = model
        oval = model.mean[mesh.FACE_OVAL]
        centre = oval.mean(0)
        self._rings = [np.column_stack([centre[:2] + k * (oval[:, :2] - centre[:2]), oval[:, 2]])
                       for k in self.config.ring_scales]
        # Rigidity of the outer ring: hair follows the head more than the neck does.
        up = -(oval[:, 1] - centre[1]) / np.linalg.norm(oval[:, :2] - centre[:2], axis=1)
        top, bottom = self.config.rigidity
        self._outer_rigidity = bottom + (top - bottom) * (up + 1) / 2
        n = self.config.border_points
        edge = np.linspace(0.0, 1.0, n)
        border = np.concatenate([np.column_stack([edge, np.zeros(n)]), np.column_stack([edge, np.ones(n)]),
                                 np.column_stack([np.zeros(n - 2), edge[1:-1]]),
                                 np.column_stack([np.ones(n - 2), edge[1:-1]])])
        self._border = np.concatenate([border, (border - 0.5) * 1.3 + 0.5])
        self._background = kb.background.astype(np.float32)
        # The source frame's size (``_replicate_border``): only when the KB (a peer's file) gives a sane one.
        frame = [kb.info.get("source", {}).get(k) for k in ("width", "height")]
        sane = all(isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < 1e5 for v in frame)
        self._frame = (float(frame[0]), float(frame[1])) if sane else None
        self._ref_coeffs = kb.quantizer.dequantize(kb.reference.codes).astype(np.float64)
        self._ref_box = self.box_of(self._ref_coeffs)
        self._ref_ring = self._pose_points(self._ref_coeffs, self._rings[1])
        ref_pts, _ = self.mesh(self._ref_coeffs, self._ref_box)
        from scipy.spatial import Delaunay

        self.triangles = Delaunay(ref_pts).simplices.astype(np.int32)
        self._kb_keyframes = [self._source(k) for k in kb.keyframes]
        self._atlas = [self._source(k) for k in kb.mouth_atlas]
        self.set_sources(None)

    def set_sources(self, keyframes: Sequence[Keyframe] | None) -> None:
        """Warp from ``keyframes`` instead of the KB's keyframes (None: the KB's, as built).

        Wav2Vid animates the clip the sender cached last (the head's current pose and light), not the
        enrollment; the KB's keyframes and mouth atlas stay mouth sources, for the open mouths and teeth a
        short clip may not show.
        """
        if keyframes is None:
            self.keyframes, extra = self._kb_keyframes, []
        else:  # the KB's keyframes among them (a refreshed KB) are mouth sources once
            self.keyframes = [self._source(k) for k in keyframes]
            extra = [s for s, k in zip(self._kb_keyframes, self.kb.keyframes, strict=True)
                     if not any(k is given for given in keyframes)]
        if not self.keyframes:
            raise ValueError("the renderer needs at least one source keyframe")
        self.mouths = self.keyframes + extra + self._atlas
        self._key_meshes = np.stack([self.mesh(s.coeffs, s.box)[0][: mesh.N_MESH] for s in self.keyframes])
        self._turns = np.stack([s.coeffs[self._rot_slice()] for s in self.keyframes])
        self._turn_range = (self._turns.min(0), self._turns.max(0))
        self._eyes = np.array([s.coeffs[self.model.n_expr] for s in self.keyframes])

    def _rot_slice(self) -> slice:
        """Where the head rotation (axis-angle, rad) sits in a coefficient vector (``FaceModel.split``)."""
        return slice(self.model.n_expr + 1, self.model.n_expr + 4)

    def within_reach(self, coeffs: np.ndarray) -> np.ndarray:
        """``coeffs`` with the head's rotation clamped to the keyframes' range widened by ``pose_reach``.

        A warp turns a keyframe's head only so far: beyond that the far cheek folds under the near one, the rings
        that carry hair and neck collapse and drag the background along. Clamping the rotation alone keeps the
        head where the translation puts it and at the size the scale says (the mesh turns about its own centre),
        so a head that turns to profile is drawn turned less, never misplaced or rescaled.
        """
        if self.config.pose_reach is None:
            return coeffs
        rot = self._rot_slice()
        lo, hi = self._turn_range
        clamped = np.clip(coeffs[rot], lo - self.config.pose_reach, hi + self.config.pose_reach)
        if np.array_equal(clamped, coeffs[rot]):
            return coeffs
        out = coeffs.copy()
        out[rot] = clamped
        return out

    def box_of(self, coeffs: np.ndarray) -> CropBox:
        return CropBox.from_motion(self.model.split(coeffs)["crop"], self.kb.ref_box)

    def _source(self, kf: Keyframe) -> _Source:
        coeffs = self.kb.quantizer.dequantize(kf.codes).astype(np.float64)
        lips = self.model.normalised_shape(coeffs)[mesh.LIPS, :2]
        image = kf.image if kf.alpha is None else np.dstack([kf.image, kf.alpha])
        return _Source(image, coeffs, self.box_of(coeffs), kf.offset, lips)

    def _pose_points(self, coeffs: np.ndarray, points: np.ndarray) -> np.ndarray:
        parts = self.model.split(np.asarray(coeffs, dtype=np.float64))
        rot = vector_to_rotation(parts["rot"])
        s = float(np.exp(parts["log_scale"][0]))
        return s * (rot @ points.T).T + np.array([*parts["trans"], 0.0])

    def mesh(self, coeffs: np.ndarray, box: CropBox,
             target_box: CropBox | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Extended mesh in output pixels of the frame whose crop is ``box``, and its depth.

        Border points are those of ``target_box`` (default: ``box``) seen from ``box``, so a
        source's background lines up with the target crop.
        """
        face = self.model.decode(coeffs)[: mesh.N_MESH]
        inner = self._pose_points(coeffs, self._rings[0])
        outer_rigid = self._pose_points(coeffs, self._rings[1])
        outer_still = self._ref_box.map_to(box, self._ref_ring[:, :2])
        w = self._outer_rigidity[:, None]
        outer = w * outer_rigid[:, :2] + (1 - w) * outer_still
        border = (target_box or box).map_to(box, self._border)
        far = face[:, 2].max() + 1.0
        pts = np.concatenate([face[:, :2], inner[:, :2], outer, border]) * self.size
        depth = np.concatenate([face[:, 2], inner[:, 2], np.full(len(outer), far), np.full(len(border), far + 1)])
        return pts, depth

    def __call__(self, coeffs: np.ndarray, variant: int = 0) -> np.ndarray:
        return self.render_variants(coeffs, (variant,))[0]

    @property
    def n_variants(self) -> int:
        """How many ways ``render_variants`` knows to draw a frame (``variant_weights``)."""
        return 3 + len(self.keyframes)

    def render_variants(self, coeffs: np.ndarray, variants: Sequence[int]) -> list[np.ndarray]:
        """The frame of ``coeffs`` drawn each of the ways ``variants`` name (``variant_weights``); each keyframe is
        warped once, however many variants use it, so a sender can compare them all at little more than the cost
        of warping every keyframe."""
        coeffs = np.asarray(coeffs, dtype=np.float64)
        for src in self.keyframes:
            if np.array_equal(src.coeffs, coeffs):
                return [src.image[..., :3].copy() for _ in variants]  # zero motion: the stored keyframe itself
        coeffs = self.within_reach(coeffs)
        box = self.box_of(coeffs)
        dst, depth = self.mesh(coeffs, box)
        raster = TriangleRaster(self.triangles, dst, self.size, depth)
        nearest = self.keyframe_weights(coeffs, dst[: mesh.N_MESH])
        warps: dict[int, np.ndarray] = {}
        plate = self._plate(box)
        mouth = self.mouth_source(coeffs)
        if mouth is not None:
            mask = self._mouth_mask(dst)
            mouth_image = mask * self._warp(raster, mouth, box)[..., :3]
        out = []
        for variant in variants:
            order, weights = self.variant_weights(nearest, variant)
            # Premultiplied-alpha blend of the warped people, then over the still background plate.
            person = np.zeros((self.size, self.size, 3), dtype=np.float32)
            alpha = np.zeros((self.size, self.size, 1), dtype=np.float32)
            for i, w in zip(order, weights, strict=True):
                if i not in warps:
                    warps[i] = self._warp(raster, self.keyframes[i], box)
                warped = warps[i]
                a = warped[..., 3:] / 255.0 if warped.shape[2] == 4 else np.ones_like(alpha)
                person += w * a * warped[..., :3]
                alpha += w * a
            image = person + (1.0 - alpha) * plate
            if mouth is not None:
                image = image * (1 - mask) + mouth_image
            image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
            self._close_eyes(image, coeffs, dst[: mesh.N_MESH], box, self.keyframes[order[0]])
            out.append(self._replicate_border(image, box))
        return out

    def opens_eyes(self, coeffs: np.ndarray, variant: int) -> bool:
        """Whether ``variant`` can draw the eyes of ``coeffs`` as open as they are: a keyframe alone whose eyes are
        narrower than the frame's by more than twice ``eye_slack`` cannot (``eye_weight``: a warp does not open an
        eye); the blends choose their keyframes with that cost already. Twice: once (0.03) costs KatieHill 0.002
        SSIM and its blinks 0.01 (docs/face-rate.md)."""
        if not 3 <= variant < self.n_variants:
            return True
        return float(coeffs[self.model.n_expr]) <= self._eyes[variant - 3] + 2 * self.config.eye_slack

    def variant_weights(self, nearest: tuple[np.ndarray, np.ndarray], variant: int) -> tuple[np.ndarray, np.ndarray]:
        """The keyframes a variant blends, and their weights, from ``keyframe_weights``' ``nearest``.

        0: the ``blend`` nearest (the default); 1: the two nearest; 2: the nearest alone; 3 + j: keyframe j alone.
        Blending averages keyframes that the warp misaligns slightly differently, which blurs detail; one keyframe
        is sharper and, when the sender picks it (``modes.syncsc.motion``), closer to the frame (docs/face-rate.md).
        An index out of range draws the default: a peer's packet cannot break the renderer.
        """
        order, weights = nearest
        if variant in (1, 2):
            order, weights = order[: 3 - variant], weights[: 3 - variant]
            return order, weights / weights.sum()
        if 3 <= variant < self.n_variants:
            return np.array([variant - 3]), np.ones(1)
        return order, weights

    def eyes(self, coeffs: np.ndarray) -> list[np.ndarray]:
        """Where ``self(coeffs)`` draws the eyes: the two eyes' aspect-ratio landmarks in output pixels."""
        coeffs = self.within_reach(np.asarray(coeffs, dtype=np.float64))
        points = self.mesh(coeffs, self.box_of(coeffs))[0]
        return [points[mesh.EAR_RIGHT], points[mesh.EAR_LEFT]]

    def _replicate_border(self, image: np.ndarray, box: CropBox) -> np.ndarray:
        """Where the crop window runs past the source frame, the sender's crop repeats the frame's edge pixels
        (``crop.crop_image``); the output does the same with its own edge, so both sides of the comparison treat
        those pixels alike (the warped plate and keyframes would otherwise smear their own, shifted, edges there)."""
        if self._frame is None:
            return image
        import cv2

        scale = box.size / self.size
        maps = []
        for corner, extent in ((box.cx - box.size / 2, self._frame[0]), (box.cy - box.size / 2, self._frame[1])):
            # Output pixel u samples the frame at x = corner + (u + 0.5)·scale − 0.5: frame edges 0 and extent − 1.
            lo, hi = (0.5 - corner) / scale - 0.5, (extent - 0.5 - corner) / scale - 0.5
            maps.append(np.clip(np.arange(self.size, dtype=np.float32), lo, hi))
        if maps[0][0] == 0 and maps[0][-1] == self.size - 1 and maps[1][0] == 0 and maps[1][-1] == self.size - 1:
            return image
        map_x = np.broadcast_to(maps[0][None, :], (self.size, self.size))
        map_y = np.broadcast_to(maps[1][:, None], (self.size, self.size))
        return cv2.remap(image, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def keyframe_weights(self, coeffs: np.ndarray, face: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The keyframes to blend for ``coeffs`` (indices, nearest first) and their weights (summing to 1).

        Distance: mesh distance in crop units (``face``: the frame's mesh in output pixels, computed when None)
        plus ``turn_weights`` · the squared head-turn differences, plus ``eye_weight`` × how much narrower the
        keyframe's eyes are (beyond ``eye_slack``); weights ∝ 1/(distance + ε)².
        """
        if face is None:
            face = self.mesh(coeffs, self.box_of(coeffs))[0][: mesh.N_MESH]
        dist = np.sqrt(((self._key_meshes - face) ** 2).sum(-1).mean(-1)) / self.size
        dist += ((self._turns - coeffs[self._rot_slice()]) ** 2) @ np.asarray(self.config.turn_weights)
        narrower = coeffs[self.model.n_expr] - self._eyes - self.config.eye_slack
        dist += self.config.eye_weight * np.maximum(narrower, 0.0)
        order = np.argsort(dist, kind="stable")[: self.config.blend]
        weights = 1.0 / (dist[order] + self.config.epsilon) ** 2
        return order, weights / weights.sum()

    def _close_eyes(self, image: np.ndarray, coeffs: np.ndarray, points: np.ndarray, box: CropBox,
                    source: _Source) -> None:
        """A blink: a warp closes an eye by stretching the lid's thin band over it (the iris shows through in dark
        streaks), so once the blink coefficient (the eye aspect ratio) is well below the main source's, the lids
        are painted from that source's skin above its eyes (``paint.paint_lids``, as the talking head does)."""
        e = self.model.n_expr
        open_ear = float(source.coeffs[e])
        closure = 1.0 - float(coeffs[e]) / max(open_ear, 1e-6)
        if closure < self.config.lid_closure:
            return
        wide = coeffs.copy()
        wide[e] = open_ear
        open_points = self.mesh(wide, box)[0][: mesh.N_MESH]
        source_points = self.mesh(source.coeffs, source.box)[0][: mesh.N_MESH] - np.asarray(source.offset)
        # Only the eyes' box is painted (paint_lids warps and blurs whole images): its corner shifts the output's
        # points, the source keeps its own.
        lids = np.concatenate([open_points[mesh.LID_PAIRS.ravel()], points[mesh.LID_PAIRS.ravel()]])
        x0, y0 = np.clip(np.floor(lids.min(0)).astype(int) - 6, 0, self.size)
        x1, y1 = np.clip(np.ceil(lids.max(0)).astype(int) + 7, 0, self.size)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        corner = np.array([x0, y0], dtype=np.float64)
        paint_lids(image[y0:y1, x0:x1], open_points - corner, points - corner,
                   np.ascontiguousarray(source.image[..., :3]), source_points, min(closure, 1.0))

    def _warp(self, raster: TriangleRaster, src: _Source, box: CropBox) -> np.ndarray:
        pts, _ = self.mesh(src.coeffs, src.box, target_box=box)
        return raster.warp(src.image, pts, offset=src.offset).astype(np.float32)

    def plate(self, coeffs: np.ndarray) -> np.ndarray:
        """The empty scene (the background plate) through the crop window of ``coeffs``, as an output frame."""
        box = self.box_of(np.asarray(coeffs, dtype=np.float64))
        return self._replicate_border(np.clip(self._plate(box) + 0.5, 0, 255).astype(np.uint8), box)

    def _plate(self, box: CropBox) -> np.ndarray:
        """The background plate (reference crop) as seen through the crop window ``box``."""
        import cv2

        if box == self._ref_box:
            return self._background
        corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        src = box.map_to(self._ref_box, corners).astype(np.float32) * self.size
        m = cv2.getAffineTransform(src, (corners * self.size).astype(np.float32))
        return cv2.warpAffine(self._background, m, (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def mouth_source(self, coeffs: np.ndarray) -> _Source | None:
        """The source whose mouth is shown for ``coeffs``: the one with the closest lip shape."""
        lips = self.model.normalised_shape(coeffs)[mesh.LIPS, :2]
        dist = [np.abs(m.lips - lips).mean() for m in self.mouths]
        return self.mouths[int(np.argmin(dist))] if self.mouths else None

    def _mouth_mask(self, dst: np.ndarray) -> np.ndarray:
        import cv2

        mask = np.zeros((self.size, self.size), dtype=np.float32)
        lips = dst[mesh.OUTER_LIPS]
        centre = lips.mean(0)
        grown = centre + 1.25 * (lips - centre)
        cv2.fillPoly(mask, [np.rint(grown * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
        sigma = max(1.0, 0.08 * float(np.ptp(lips[:, 0])))
        return cv2.GaussianBlur(mask, (0, 0), sigma)[..., None]
