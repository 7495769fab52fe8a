"""The Seb suite's real-radio contrast and example strip: link adaptation, lost pictures, concealment, the quick
grid's radio cells, the radio table and the strip's panels (hand-made codings and rows; a fake radio delivery)."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.seb import Coding, SebGrid, rgb_psnr
from semtalk.bench.seb_radio import MCS_TABLE, conceal, delivered_pictures, link_adaptation, packet_sizes, send_set
from semtalk.bench.seb_report import (
    EXAMPLE_BPP,
    SCHEMES,
    SNRS,
    example_rows,
    example_strip,
    ideal_bpp,
    markdown,
    radio_points,
)


def _pictures(n=3, size=64, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (size // 8, size // 8, 3)).repeat(8, 0).repeat(8, 1)
    return [np.clip(base + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8) for _ in range(n)]


def _jpeg_coding(pictures, quality):
    from semtalk.imagecodec.base import jpeg
    from semtalk.metrics.video import ms_ssim

    codec = jpeg()
    each = [codec.encode(p, quality) for p in pictures]
    out = [codec.decode(e) for e in each]
    psnr = [rgb_psnr(a, b) for a, b in zip(pictures, out, strict=True)]
    return Coding("jpeg", quality, b"", each, np.array(psnr),
                  np.array([ms_ssim(a, b) for a, b in zip(pictures, out, strict=True)]))


def test_link_adaptation_picks_the_fastest_mcs_below_the_snr():
    assert link_adaptation(-10.0) is None
    assert link_adaptation(20.0).name == "64qam 5/6"
    assert link_adaptation(5.0).name == "qpsk 3/4"  # 4.5 + 0.5 ≤ 5; 16-QAM 1/2 needs 7.25
    assert link_adaptation(4.9).name == "qpsk 2/3"
    assert link_adaptation(4.9, margin_db=0.0).name == "qpsk 3/4"
    rates = [link_adaptation(s).bits_per_use for s in SNRS]
    assert rates == sorted(rates) and rates[0] > 0  # -2 dB: BPSK 1/3 (threshold -4 dB)
    assert [m.bits_per_use for m in MCS_TABLE] == sorted(m.bits_per_use for m in MCS_TABLE)


def test_a_lost_packet_loses_its_picture_and_lost_sebs_lose_every_picture():
    plain = Coding("jpeg", 5, b"", [b"a", b"b", b"c"], np.zeros(3), np.zeros(3))
    assert delivered_pictures(plain, np.array([True, False, True])).tolist() == [True, False, True]
    seb = Coding("seb", 5, b"S", [b"a", b"b"], np.zeros(2), np.zeros(2))
    assert delivered_pictures(seb, np.array([True, True, False])).tolist() == [True, False]
    assert delivered_pictures(seb, np.array([False, True, True])).tolist() == [False, False]
    assert packet_sizes([b"x" * 300, b"", b"y" * 125], 125) == [125, 125, 50, 125]


def test_conceal_shows_the_previous_received_picture_else_grey():
    pics = [np.full((2, 2, 3), v, np.uint8) for v in (10, 20, 30, 40)]
    shown = conceal(np.array([False, True, False, True]), lambda: pics, (2, 2, 3))
    assert [int(s[0, 0, 0]) for s in shown] == [128, 20, 20, 40]

    def never():
        raise AssertionError("nothing arrived: nothing to decode")

    assert all(int(s[0, 0, 0]) == 128 for s in conceal(np.zeros(2, bool), never, (2, 2, 3)))


class _Delivery:
    def __init__(self, keep):
        self.keep, self.channel_uses, self.packets_sent, self.packets_lost = np.asarray(keep), 1, len(keep), 0


def test_send_set_counts_a_picture_with_a_lost_packet_as_lost_and_shows_the_previous(monkeypatch):
    import semtalk.bench.codecs.radio as codec_radio

    pictures = _pictures()
    coding = _jpeg_coding(pictures, 30)
    monkeypatch.setattr(codec_radio, "send_frames", lambda frames, *a, **k: _Delivery([True, False, True]))
    point = send_set([coding], pictures, 20.0, np.random.default_rng(0), cbr=1.0)
    assert point["sent"] and point["lost"] == 1 and point["mcs"] == "64qam 5/6"
    from semtalk.imagecodec.base import jpeg

    shown_1 = jpeg().decode(coding.each[0])  # picture 1 lost: the receiver shows picture 0
    expected = np.mean([coding.psnr[0], rgb_psnr(pictures[1], shown_1), coding.psnr[2]])
    assert point["psnr"] == pytest.approx(expected)
    assert point["psnr"] < float(np.mean(coding.psnr))


def test_send_set_takes_the_best_coding_that_fits_and_nothing_below_every_mcs(monkeypatch):
    import semtalk.bench.codecs.radio as codec_radio

    pictures = _pictures()
    small, large = _jpeg_coding(pictures, 5), _jpeg_coding(pictures, 95)
    monkeypatch.setattr(codec_radio, "send_frames", lambda frames, *a, **k: _Delivery([True] * len(frames)))
    cbr = 8 * small.n_bytes * 2 / (5 * 3 * 3 * 64 * 64)  # ~2× the small coding at 64-QAM 5/6, far under the large
    assert large.n_bytes > 4 * small.n_bytes
    point = send_set([large, small], pictures, 20.0, np.random.default_rng(0), cbr=cbr)
    assert point["sent"] and point["quality"] == 5 and point["lost"] == 0
    assert point["psnr"] == pytest.approx(float(np.mean(small.psnr)))
    low = send_set([large, small], pictures, -10.0, np.random.default_rng(0), cbr=cbr)
    assert not low["sent"] and low["mcs"] is None and low["lost"] == 3


def test_send_set_over_the_real_radio_is_seeded():
    pictures = _pictures()
    coding = _jpeg_coding(pictures, 20)
    a, b = (send_set([coding], pictures, 5.0, np.random.default_rng(7), cbr=1.0) for _ in range(2))
    assert a == b and a["sent"] and a["lost"] == 0  # QPSK 3/4 at 0.5 dB above its 10 % point: all arrive
    # margin -2 dB: QPSK 3/4 at 3 dB, 1.5 dB under its 10 % point
    bad = send_set([coding], pictures, 3.0, np.random.default_rng(7), cbr=1.0, margin_db=-2.0)
    assert bad["sent"] and bad["lost"] == 3 and bad["psnr"] < a["psnr"]


def test_the_quick_grid_has_radio_cells_for_every_scheme():
    quick = SebGrid.quick()
    tasks = quick.radio_tasks()
    assert {t.method for t in tasks} == {"seb_radio"} and len(tasks) == len(quick.clips) * len(SCHEMES)
    assert {t.params["scheme"] for t in tasks} == set(SCHEMES)
    seb = next(t for t in tasks if t.params["scheme"] == "seb")
    assert set(seb.params["codecs"]) == {"seb-low", "seb", "seb-high"}
    assert set(quick.radio_snrs) <= set(SNRS) and len(quick.radio_snrs) < len(SebGrid.full().radio_snrs)


def _radio_row(scheme, clip, points):
    return {"status": "ok", "method": "seb_radio", "clip": clip, "scheme": scheme, "radio": points}


def _pt(snr, sent, psnr=30.0, lost=0):
    return {"snr": snr, "mcs": "qpsk 1/2", "margin_db": 0.5, "sent": sent, "lost": lost, "pictures": 10,
            "psnr": psnr, "ms_ssim": 0.9, "bpp": 0.1}


def test_radio_points_and_table():
    rows = [_radio_row("jpeg2000", "hdtf_a.mp4", [_pt(5.0, True, 30.0, 2), _pt(0.0, False)]),
            _radio_row("jpeg2000", "lrs2_b.mp4", [_pt(5.0, True, 26.0, 1), _pt(0.0, True)])]
    rp = radio_points(rows)
    assert rp["jpeg2000"][5.0]["psnr"] == pytest.approx(28.0) and rp["jpeg2000"][5.0]["lost"] == 3
    assert rp["jpeg2000"][0.0] is None  # one clip sent nothing
    md = markdown(rows)
    assert "| 5 | qpsk 1/2 | 28.00 / 0.9000, 0.100, 3/20 [–] |" in md


def _rd(codec, quality, bpp, psnr, clip="hdtf_a.mp4"):
    return {"status": "ok", "method": "seb_rd", "clip": clip, "codec": codec, "quality": quality, "bpp": bpp,
            "psnr": psnr}


def test_example_rows_one_per_scheme_and_the_strip_has_one_panel_each(tmp_path):
    assert pytest.approx(ideal_bpp(5.0)) == EXAMPLE_BPP
    rows = [_rd(c, q, b, p) for c in ("jpeg2000", "webp", "avif") for q, b, p in ((5, 0.1, 25.0), (20, 0.2, 28.0))]
    rows += [_rd("jpeg", 5, 0.3, 26.0), _rd("jpeg", 20, 0.5, 30.0), _rd("seb-low", 1, 0.19, 27.0),
             _rd("seb", 1, 0.15, 27.5), _rd("webp", 5, 0.05, 99.0, clip="other.mp4")]
    picks = example_rows(rows, "hdtf_a.mp4")
    assert list(picks) == list(SCHEMES)
    assert picks["webp"]["quality"] == 20 and picks["seb"]["codec"] == "seb"  # best PSNR within 0.206 bpp
    assert picks["jpeg"]["quality"] == 5  # none fits: the smallest coding
    panels = [("original", np.zeros((32, 32, 3), np.uint8))] + [(s, np.zeros((32, 32, 3), np.uint8)) for s in picks]
    from PIL import Image

    path = example_strip(panels, tmp_path / "strip.png")
    with Image.open(path) as im:
        assert im.size[0] == round(2.6 * (len(SCHEMES) + 1) * 110)


def test_write_all_puts_the_radio_table_figure_and_example_strip_in_the_report(tmp_path):
    from semtalk.bench.seb_report import write_all

    rows = [{**_rd(c, q, b, p), "dataset": "hdtf", "ms_ssim": p / 40, "pixels": 1000}
            for c in ("jpeg2000", "seb") for q, b, p in ((5, 0.1, 25.0), (20, 0.2, 28.0))]
    rows += [_radio_row("jpeg2000", "hdtf_a.mp4", [_pt(5.0, True, 27.0, 1), _pt(11.0, True, 29.0)])]
    panels = [(f"panel {i}", np.full((16, 16, 3), 40 * i, np.uint8)) for i in range(3)]
    paths = write_all(rows, tmp_path, examples=panels)
    assert {"fig4_radio", "examples", "html"} <= set(paths) and paths["examples"].is_file()
    page = paths["html"].read_text()
    assert "<h2>Real radio at CBR = 1/30" in page and "3. panel 2" in page
    assert page.count("<img") == len([k for k in paths if k not in ("json", "md", "html")])
