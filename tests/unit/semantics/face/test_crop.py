from __future__ import annotations

import cv2
import numpy as np
import pytest

from semtalk.semantics.face import mesh
from semtalk.semantics.face.crop import CropBox, CropTracker, crop_image, face_box
from tests.unit.semantics.face.face_fixtures import AXES

REF = CropBox(320.0, 240.0, 200.0)


def _face_in_frame(faces, cx: float, cy: float, height: float) -> np.ndarray:
    """The synthetic base face in frame pixels, its oval ``height`` pixels tall, centred at (cx, cy)."""
    k = height / (2 * AXES[1])
    return faces.base * k + np.array([cx, cy, 0.0])


@pytest.mark.parametrize("motion", [(0.0, 0.0, 0.0), (0.1, -0.2, 0.3), (-0.45, 0.45, -0.69)])
def test_motion_and_from_motion_are_inverse(motion):
    box = CropBox.from_motion(np.array(motion), REF)
    np.testing.assert_allclose(box.motion(REF), motion, atol=1e-12)


def test_motion_is_in_reference_size_units():
    box = CropBox(REF.cx + 20.0, REF.cy - 50.0, REF.size * 2)
    np.testing.assert_allclose(box.motion(REF), [0.1, -0.25, np.log(2.0)], atol=1e-12)


def test_from_motion_of_zero_is_the_reference():
    assert CropBox.from_motion(np.zeros(3), REF) == REF


def test_to_crop_maps_the_window_to_unit_square():
    pts = np.array([[220.0, 140.0, 50.0], [420.0, 340.0, -100.0], [320.0, 240.0, 0.0]])
    np.testing.assert_allclose(REF.to_crop(pts), [[0, 0, 0.25], [1, 1, -0.5], [0.5, 0.5, 0]], atol=1e-12)


def test_to_crop_accepts_2d_points_and_keeps_input():
    pts = np.array([[220.0, 340.0]])
    out = REF.to_crop(pts)
    np.testing.assert_allclose(out, [[0.0, 1.0]])
    np.testing.assert_array_equal(pts, [[220.0, 340.0]])


def test_map_to_round_trip():
    rng = np.random.default_rng(0)
    other = CropBox(300.0, 260.0, 150.0)
    uv = rng.uniform(-0.5, 1.5, size=(50, 2))
    np.testing.assert_allclose(other.map_to(REF, REF.map_to(other, uv)), uv, atol=1e-12)


def test_map_to_agrees_with_to_crop():
    rng = np.random.default_rng(1)
    other = CropBox(300.0, 260.0, 150.0)
    pts = rng.uniform(100, 500, size=(20, 2))
    np.testing.assert_allclose(REF.map_to(other, REF.to_crop(pts)), other.to_crop(pts), atol=1e-12)


def test_map_to_itself_is_identity():
    uv = np.array([[0.2, 0.7], [1.0, 0.0]])
    np.testing.assert_allclose(REF.map_to(REF, uv), uv, atol=1e-15)


def test_face_box_centres_on_the_oval(faces):
    pts = _face_in_frame(faces, 300.0, 200.0, 100.0)
    box = face_box(pts, 1.7)
    assert (box.cx, box.cy) == pytest.approx((300.0, 200.0), abs=1e-9)
    assert box.size == pytest.approx(170.0, rel=1e-9)  # the oval is taller than wide


def test_tracker_first_box_is_the_face_box(faces):
    pts = _face_in_frame(faces, 300.0, 200.0, 100.0)
    assert CropTracker(scale=1.7)(pts) == face_box(pts, 1.7)


def test_tracker_without_face_keeps_box(faces):
    tracker = CropTracker()
    assert tracker(None) is None
    box = tracker(_face_in_frame(faces, 300.0, 200.0, 100.0))
    assert tracker(None) == box


def test_tracker_dead_zone_holds_small_drift(faces):
    tracker = CropTracker(scale=1.7, dead_zone=0.08)
    box = tracker(_face_in_frame(faces, 300.0, 200.0, 100.0))
    # 0.05 of the crop size sideways, 3 % larger: inside the dead zone, for many frames.
    for _ in range(10):
        assert tracker(_face_in_frame(faces, 300.0 + 0.05 * 170, 200.0 - 0.05 * 170, 103.0)) == box


def test_tracker_follows_large_drift_with_easing(faces):
    tracker = CropTracker(scale=1.7, dead_zone=0.08, ease=0.25)
    first = tracker(_face_in_frame(faces, 300.0, 200.0, 100.0))
    target_cx = 300.0 + 0.2 * first.size
    second = tracker(_face_in_frame(faces, target_cx, 200.0, 100.0))
    assert second.cx == pytest.approx(300.0 + 0.25 * 0.2 * first.size, rel=1e-9)
    assert second.cy == pytest.approx(200.0, abs=1e-9)
    assert second.size == pytest.approx(first.size, rel=1e-9)
    for _ in range(60):
        box = tracker(_face_in_frame(faces, target_cx, 200.0, 100.0))
    assert box.cx == pytest.approx(target_cx, abs=0.02 * first.size)


def test_tracker_stops_once_settled(faces):
    tracker = CropTracker(scale=1.7, dead_zone=0.08, ease=0.25)
    first = tracker(_face_in_frame(faces, 300.0, 200.0, 100.0))
    target = _face_in_frame(faces, 300.0 + 0.3 * first.size, 200.0, 100.0)
    for _ in range(40):
        tracker(target)
    settled = tracker(target)
    # Back in the dead zone: a further small drift no longer moves the box.
    assert tracker(_face_in_frame(faces, 300.0 + 0.3 * first.size + 0.04 * first.size, 200.0, 100.0)) == settled


def _gradient_frame(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)]).astype(np.uint8)


@pytest.mark.parametrize("out_size", [16, 32, 64, 100])
def test_crop_image_output_size(out_size):
    frame = _gradient_frame(48, 64)
    out = crop_image(frame, CropBox(30.0, 20.0, 40.0), out_size)
    assert out.shape == (out_size, out_size, 3) and out.dtype == np.uint8


def test_crop_image_at_scale_one_copies_pixels():
    frame = _gradient_frame(48, 64)
    out = crop_image(frame, CropBox(30.0, 20.0, 16.0), 16)
    np.testing.assert_array_equal(out, frame[12:28, 22:38])


def test_crop_image_of_the_whole_frame_is_an_area_resize():
    frame = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    out = crop_image(frame, CropBox(32.0, 32.0, 64.0), 32)
    np.testing.assert_array_equal(out, cv2.resize(frame, (32, 32), interpolation=cv2.INTER_AREA))


def test_crop_image_upscaling_the_whole_frame_is_a_linear_resize():
    frame = _gradient_frame(16, 16)
    out = crop_image(frame, CropBox(8.0, 8.0, 16.0), 32)
    ref = cv2.resize(frame, (32, 32), interpolation=cv2.INTER_LINEAR)
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1


def test_crop_image_replicates_edges_outside_the_frame():
    frame = _gradient_frame(48, 64)
    out = crop_image(frame, CropBox(0.0, 0.0, 16.0), 16)  # top-left quarter lies outside the frame
    np.testing.assert_array_equal(out[:8, :8], np.broadcast_to(frame[0, 0], (8, 8, 3)))
    np.testing.assert_array_equal(out[8:, 8:], frame[:8, :8])


def test_crop_image_downscale_matches_direct_sampling_of_a_smooth_image():
    frame = _gradient_frame(128, 128)
    box = CropBox(70.0, 60.0, 64.0)
    out = crop_image(frame, box, 32).astype(float)
    # Pixel j of the output covers source pixels 2j..2j+1 of the window: their mean.
    x0, y0 = 38, 28
    window = frame[y0:y0 + 64, x0:x0 + 64].astype(float)
    expected = window.reshape(32, 2, 32, 2, 3).mean((1, 3))
    assert np.abs(out - expected).max() <= 1.0


def test_mesh_oval_is_used_by_face_box(faces):
    pts = _face_in_frame(faces, 300.0, 200.0, 100.0)
    far = pts.copy()
    not_oval = np.setdiff1d(np.arange(mesh.N_LANDMARKS), mesh.FACE_OVAL)
    far[not_oval[0]] = [5000.0, 5000.0, 0.0]  # points off the oval do not change the box
    assert face_box(far, 1.7) == face_box(pts, 1.7)
