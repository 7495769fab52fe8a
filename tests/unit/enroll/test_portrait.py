"""The one-portrait knowledge base of LGM-TSC, on scikit-image's astronaut (public domain, no shared data)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from semtalk.demo.sample import portrait
from semtalk.enroll.portrait import animation_basis, portrait_kb, portrait_model, read_portrait
from semtalk.errors import SemtalkError
from semtalk.kb.knowledge_base import KnowledgeBase
from semtalk.semantics.face import mesh
from semtalk.semantics.face.encoder import CropConfig


@pytest.fixture(scope="module")
def astronaut_kb() -> KnowledgeBase:
    return portrait_kb(portrait())


def test_the_kb_holds_the_face_crop_as_its_one_keyframe_and_background(astronaut_kb):
    kb = astronaut_kb
    assert len(kb.keyframes) == 1 and kb.mouth_atlas == [] and kb.face_model.n_expr == 2
    image = kb.reference.image
    assert image.shape == (256, 256, 3) and kb.background.shape == (256, 256, 3)
    assert np.abs(image.astype(int) - kb.background).mean() < 3  # the same crop (WebP-coded twice)
    face = kb.face_model.decode(kb.quantizer.dequantize(kb.reference.codes))[mesh.FACE_OVAL, :2]
    assert np.ptp(face, 0).max() == pytest.approx(1 / CropConfig().scale, abs=0.01)  # the clip KB's window
    assert np.abs(face.min(0) + face.max(0) - 1).max() < 0.01  # centred on the face
    box = kb.ref_box
    assert box.cx - box.size / 2 > 0 and box.cx + box.size / 2 < 512 and box.cy - box.size / 2 > 0  # in the photo


def test_the_kb_survives_its_file_format(astronaut_kb):
    kb = astronaut_kb
    again = KnowledgeBase.from_bytes(kb.to_bytes())
    np.testing.assert_array_equal(again.face_model.basis, kb.face_model.basis)
    np.testing.assert_array_equal(again.quantizer.lo, kb.quantizer.lo)
    np.testing.assert_array_equal(again.reference.codes, kb.reference.codes)
    assert np.abs(again.reference.image.astype(int) - kb.reference.image).mean() < 2  # WebP again
    assert again.ref_box == kb.ref_box and again.fps == kb.fps and again.crop == kb.crop
    assert again.info["portrait"] == {"width": 512, "height": 512}


def test_crop_size_fps_voice_and_language_are_kept():
    kb = portrait_kb(portrait()[::2, ::2], fps=30.0, crop_size=128, voice=None, language=None)
    assert kb.crop.size == 128 and kb.reference.image.shape == (128, 128, 3) and kb.fps == 30.0
    assert kb.voice is None and kb.language is None


def test_an_image_without_a_face_is_refused_in_one_line():
    rng = np.random.default_rng(0)
    with pytest.raises(SemtalkError, match="shows no face") as err:
        portrait_kb(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="RGB uint8"):
        portrait_kb(np.zeros((240, 320), np.uint8))


def test_the_jaw_drops_the_lower_lip_and_chin_together_and_no_triangle_turns_over(astronaut_kb):
    from scipy.spatial import Delaunay

    mean = astronaut_kb.face_model.mean
    basis = animation_basis(mean)
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-9)
    jaw = basis[0].reshape(-1, 3)
    assert np.all(jaw[:, [0, 2]] == 0) and jaw[mesh.INNER_LIPS[:11], 1].max() == 0  # the upper lip stays
    for lower in (mesh.INNER_LIPS[15], mesh.OUTER_LIPS[15]):  # the lip's middle, inner and outer, as the chin
        assert jaw[lower, 1] == pytest.approx(jaw[mesh.CHIN, 1], rel=0.01)
    triangles = Delaunay(mean[: mesh.N_MESH, :2]).simplices

    def signed_areas(points: np.ndarray) -> np.ndarray:
        a, b, c = (points[triangles[:, i], :2] for i in range(3))
        return (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]

    rest = np.sign(signed_areas(mean))
    opened = []
    for amount in np.linspace(0.0, 2.5, 11):
        points = mean + amount * jaw
        assert np.all(np.sign(signed_areas(points)) == rest)
        opened.append(mesh.mouth_opening(points))
    assert np.all(np.diff(opened) > 0) and opened[-1] > 0.45


def test_the_model_of_one_face_encodes_that_face_with_no_expression(astronaut_kb):
    points = astronaut_kb.face_model.decode(astronaut_kb.quantizer.dequantize(astronaut_kb.reference.codes))
    model = portrait_model(points)
    coeffs = model.encode(points, np.zeros(3))
    np.testing.assert_allclose(coeffs[: model.n_expr], 0.0, atol=1e-6)


def test_read_portrait_turns_a_photo_upright_and_refuses_what_is_no_image(tmp_path):
    photo = np.zeros((20, 40, 3), np.uint8)
    photo[:, :20] = 255  # white on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90° clockwise to view
    Image.fromarray(photo).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    upright = read_portrait(tmp_path / "phone.jpg")
    assert upright.shape == (40, 20, 3) and upright.dtype == np.uint8
    assert upright[:20].mean() > 200 > 50 > upright[20:].mean()  # the left went to the top
    Image.fromarray(photo[..., 0]).save(tmp_path / "grey.png")
    assert read_portrait(tmp_path / "grey.png").shape == (20, 40, 3)
    (tmp_path / "notes.txt").write_text("not a picture\nat all")
    with pytest.raises(SemtalkError, match="not a readable image") as err:
        read_portrait(tmp_path / "notes.txt")
    assert "\n" not in str(err.value)
    with pytest.raises(SemtalkError, match="portrait not found"):
        read_portrait(tmp_path / "missing.jpg")
