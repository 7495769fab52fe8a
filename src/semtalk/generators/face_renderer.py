"""Receiver face generator: knowledge base + coefficients → a face-crop frame.

The face mesh decoded from the coefficients is extended by two rings that follow the head pose
(hair, ears, neck) with decreasing rigidity, and by points on the crop border that follow the crop
motion (background). The nearest KB keyframes (by mesh distance, i.e. by how far they must be
warped) are piecewise-affinely warped onto that mesh and blended; the mouth comes from the
keyframe or atlas entry whose lip shape is closest, so an open mouth shows teeth rather than
stretched lips.
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
    """Blending: how many keyframes, and how soft the weights (ε in crop units)."""

    blend: int = 3
    epsilon: float = 0.004
    ring_scales: tuple[float, float] = (1.3, 1.9)
    rigidity: tuple[float, float] = (0.7, 0.2)  # outer ring's head-following at the top and bottom
    border_points: int = 9
    lid_closure: float = 0.2  # paint the lids (``paint.paint_lids``) once the eyes are this far shut (0..1)


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
        else:
            self.keyframes, extra = [self._source(k) for k in keyframes], self._kb_keyframes
        if not self.keyframes:
            raise ValueError("the renderer needs at least one source keyframe")
        self.mouths = self.keyframes + extra + self._atlas
        self._key_meshes = np.stack([self.mesh(s.coeffs, s.box)[0][: mesh.N_MESH] for s in self.keyframes])

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

    def __call__(self, coeffs: np.ndarray) -> np.ndarray:
        coeffs = np.asarray(coeffs, dtype=np.float64)
        for src in self.keyframes:
            if np.array_equal(src.coeffs, coeffs):
                return src.image[..., :3].copy()  # zero motion: the stored keyframe itself
        box = self.box_of(coeffs)
        dst, depth = self.mesh(coeffs, box)
        raster = TriangleRaster(self.triangles, dst, self.size, depth)
        face = dst[: mesh.N_MESH] / self.size
        dist = np.sqrt(((self._key_meshes / self.size - face) ** 2).sum(-1).mean(-1))
        order = np.argsort(dist)[: self.config.blend]
        weights = 1.0 / (dist[order] + self.config.epsilon) ** 2
        weights /= weights.sum()
        # Premultiplied-alpha blend of the warped people, then over the still background plate.
        person = np.zeros((self.size, self.size, 3), dtype=np.float32)
        alpha = np.zeros((self.size, self.size, 1), dtype=np.float32)
        for i, w in zip(order, weights, strict=True):
            warped = self._warp(raster, self.keyframes[i], box)
            a = warped[..., 3:] / 255.0 if warped.shape[2] == 4 else np.ones_like(alpha)
            person += w * a * warped[..., :3]
            alpha += w * a
        out = person + (1.0 - alpha) * self._plate(box)
        mouth = self.mouth_source(coeffs)
        if mouth is not None:
            m = self._mouth_mask(dst)
            out = out * (1 - m) + m * self._warp(raster, mouth, box)[..., :3]
        image = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        self._close_eyes(image, coeffs, dst[: mesh.N_MESH], box, self.keyframes[order[0]])
        return image

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
        return np.clip(self._plate(self.box_of(np.asarray(coeffs, dtype=np.float64))) + 0.5, 0, 255).astype(np.uint8)

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
