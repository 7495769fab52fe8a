import numpy as np

from semtalk.generators.absence import AbsenceFade

FACE = np.full((4, 4, 3), 200, np.uint8)
PLATE = np.full((4, 4, 3), 40, np.uint8)


def _play(found: list[bool]) -> tuple[AbsenceFade, list[int], list[int]]:
    fade = AbsenceFade(grace=2, fade=4)
    calls: list[int] = []

    def plate() -> np.ndarray:
        calls.append(1)
        return PLATE

    levels = [int(fade(FACE, f, plate)[0, 0, 0]) for f in found]
    return fade, levels, calls


def test_a_lost_face_is_held_for_the_grace_then_fades_into_the_scene_and_returns_at_once():
    fade, levels, _ = _play([True] + [False] * 8 + [True])
    assert levels[:3] == [200, 200, 200]  # found, then two frames of grace
    assert levels[3:7] == [160, 120, 80, 40]  # a quarter of the way each frame (200 → 40)
    assert levels[7:9] == [40, 40]  # the empty scene
    assert levels[9] == 200  # the face is back with its first frame
    assert fade.missing == 8


def test_a_face_in_view_or_lost_within_the_grace_never_asks_for_the_plate():
    fade, levels, calls = _play([True] * 3 + [False] * 2 + [True])
    assert levels == [200] * 6 and fade.missing == 2
    assert calls == []  # within the grace the plate is not even rendered
