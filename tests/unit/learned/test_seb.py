"""Seb's networks and exact coding, on tiny random models (no shipped weights needed but in the last test)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from semtalk.learned.seb.code import SebCoder, channel_steps, from_bundle, quality_step
from semtalk.learned.seb.config import SebConfig, n_sebs, usage_bits
from semtalk.learned.seb.model import GDN, SebModel, block_transform, dct_basis, kmeans, patchify, unpatchify

TINY = SebConfig(width=8, seb_channels=2, latent=4, mixtures=2, post_width=4)  # the block residual transform
TINY_GDN = SebConfig(width=8, seb_channels=2, latent=4, mixtures=2, residual="gdn")


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def _tiny(seed: int = 0, cfg: SebConfig = TINY) -> SebModel:
    torch.manual_seed(seed)
    return SebModel(cfg).eval()


def _pictures(rng: np.random.Generator) -> list[np.ndarray]:
    base = rng.integers(0, 256, (8, 8, 3)).repeat(8, 0).repeat(8, 1).astype(np.uint8)  # 64×64, blocky
    noisy = np.clip(base.astype(int) + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8)
    return [base, noisy, np.ascontiguousarray(base[5:45, 3:60])]  # one not a whole number of patches


def test_gdn_invert_recovers_random_input():
    torch.manual_seed(1)
    gdn = GDN(6)
    with torch.no_grad():
        gdn.gamma_root.add_(0.1 * torch.rand(6, 6))
        gdn.beta_root.mul_(1 + torch.rand(6))
    x = torch.randn(2, 6, 5, 7)
    y = gdn(x)
    assert not torch.allclose(y, x, atol=1e-2)  # GDN does change its input
    assert torch.allclose(gdn.invert(y, iters=200), x, atol=1e-4)


def test_igdn_is_the_first_step_of_the_inverse_and_close_at_initialisation():
    torch.manual_seed(2)
    gdn, igdn = GDN(4), GDN(4, inverse=True)
    igdn.load_state_dict(gdn.state_dict())
    x = 0.5 * torch.randn(3, 4, 6, 6)
    y = gdn(x)
    assert torch.allclose(igdn(y), gdn.invert(y, iters=1))
    assert (igdn(y) - x).abs().max() < 0.1 * x.abs().max()


@pytest.mark.parametrize(("images", "patches", "k"), [(10, 64, 25), (4, 16, 2), (6, 16, 3), (1, 10, 1), (3, 9, 1)])
def test_number_of_sebs_is_floor_of_patches_over_25(images, patches, k):
    assert n_sebs(images, patches) == k == max(1, images * patches // 25)


def test_usage_bits_are_patches_times_log2_k():
    assert usage_bits(64, 25) == pytest.approx(64 * math.log2(25))
    assert usage_bits(16, 2) == 16.0
    assert usage_bits(16, 1) == 0.0


def test_block_transform_starts_as_an_exact_colour_dct_pair():
    g_a, g_s = block_transform()
    x = torch.rand(2, 3, 16, 24)
    assert torch.allclose(g_s(g_a(x)), x, atol=1e-5)
    basis = dct_basis().reshape(64, 64)
    assert torch.allclose(basis @ basis.T, torch.eye(64, dtype=basis.dtype), atol=1e-12)
    flat = torch.full((1, 3, 8, 8), 0.5)  # a flat grey block: only the luma DC is non-zero
    y = g_a(flat)[0, :, 0, 0].detach()
    assert float(y[0]) == pytest.approx(0.5 * 255 * 8 / 8.0, rel=1e-5)  # DC = 8 · mean, over half JPEG's step 16
    assert float(y[1:].abs().max()) < 1e-3


def test_patchify_round_trips():
    x = torch.randn(2, 3, 64, 96)
    p = patchify(x)
    assert p.shape == (12, 3, 32, 32)
    assert torch.equal(p[1], x[0, :, :32, 32:64])  # row-major
    assert torch.equal(unpatchify(p, 2, 64, 96), x)


def test_kmeans_finds_separated_clusters():
    g = torch.Generator().manual_seed(0)
    f = torch.cat([torch.randn(20, 3) * 0.01 + c for c in (0.0, 5.0, -5.0)])
    centres, assign = kmeans(f, 3, g)
    assert len(set(assign[:20].tolist())) == 1 and len(set(assign.tolist())) == 3
    assert sorted(round(float(c)) for c in centres[:, 0]) == [-5, 0, 5]


def test_forward_loss_parts_and_the_gradient_copy():
    model = _tiny().train()
    x = torch.rand(4, 3, 64, 64)
    out = model(x, torch.Generator().manual_seed(0))
    assert out["x_hat"].shape == x.shape
    # 4 pictures × 4 patches: K = ⌊16/25⌋ → 1 Seb, no usage bits; the rate parts are positive
    bpp = {k: float(out[k].detach()) for k in ("bpp_a", "bpp_s", "bpp_z")}
    assert bpp["bpp_a"] == 0.0 and bpp["bpp_s"] > 0 and bpp["bpp_z"] > 0
    out["loss"].backward()
    # the patch encoder learns through the reference although the decoder saw the quantised Sebs (eqs. 8–9)
    assert model.seb_encoder[0].weight.grad.abs().sum() > 0
    assert model.latent_density.log_scales.grad.abs().sum() > 0


@pytest.mark.parametrize("cfg", [TINY, TINY_GDN], ids=["block", "gdn"])
def test_encode_decode_is_exact_and_deterministic(cfg):
    coder = SebCoder(_tiny(cfg=cfg))
    pictures = _pictures(np.random.default_rng(0))
    coded = coder.encode_set(pictures, quality=50)
    again = SebCoder(_tiny(cfg=cfg)).encode_set(pictures, quality=50)
    assert coded.shared == again.shared and coded.each == again.each
    decoded = coder.decode_set(coded.shared, coded.each)
    assert [d.shape for d in decoded] == [p.shape for p in pictures]
    for d, r in zip(decoded, coded.reconstructions, strict=True):
        assert d.dtype == np.uint8 and np.array_equal(d, r)


def test_usage_bits_counted_by_eq7():
    coder = SebCoder(_tiny())
    pictures = [np.random.default_rng(i).integers(0, 256, (96, 96, 3), dtype=np.uint8) for i in range(5)]
    coded = coder.encode_set(pictures, quality=60)
    k = n_sebs(5, 9)  # 9 patches each: K = ⌊45/25⌋ = 1 ... use a set that has K > 1 instead
    assert k == 1 and coded.bits["usage"] == 0.0
    pictures = [np.random.default_rng(i).integers(0, 256, (160, 160, 3), dtype=np.uint8) for i in range(4)]
    coded = coder.encode_set(pictures, quality=60)
    assert coded.bits["usage"] == pytest.approx(4 * usage_bits(25, n_sebs(4, 25)))  # K = 4: 2 bits a patch
    assert coded.bits["sebs"] == 8 * len(coded.shared)


def test_quality_sets_the_step_and_the_size():
    coder = SebCoder(_tiny())
    pictures = _pictures(np.random.default_rng(3))
    assert quality_step(60) == 1.0 and quality_step(10) > quality_step(90) > quality_step(125) == quality_step(200)
    small = coder.encode_set(pictures, quality=5)
    large = coder.encode_set(pictures, quality=100)
    assert sum(map(len, small.each)) < sum(map(len, large.each))


def test_each_picture_carries_its_own_quality():
    coder = SebCoder(_tiny())
    pictures = _pictures(np.random.default_rng(6))
    same, finer = coder.encode_set(pictures, 40), coder.encode_set(pictures, [90, 40, 40])
    assert [e[5] for e in finer.each] == [90, 40, 40]
    assert len(finer.each[0]) > len(same.each[0])
    # the context scales are fitted over the set, so the others' bytes may change, their pictures do not
    assert all(np.array_equal(a, b) for a, b in zip(finer.reconstructions[1:], same.reconstructions[1:], strict=True))
    static, static_finer = (coder.encode_set(pictures, q, adaptive=False) for q in (40, [90, 40, 40]))
    assert static_finer.each[1:] == static.each[1:]
    decoded = coder.decode_set(finer.shared, finer.each)
    assert all(np.array_equal(a, b) for a, b in zip(decoded, finer.reconstructions, strict=True))
    with pytest.raises(ValueError, match="2 qualities for 3 pictures"):
        coder.encode_set(pictures, [60, 60])


@pytest.mark.parametrize("cfg", [TINY, TINY_GDN])
def test_context_adaptive_coding_spends_less_on_flat_areas_and_decodes_to_the_same_pictures(cfg):
    """Format 3 codes ŷ with scales chosen by context (``learned.seb.context``), format 2 with the factorised density
    alone: the same integers, so the same pictures, and both decode; a picture half flat, half busy costs less."""
    coder = SebCoder(_tiny(3, cfg))
    rng = np.random.default_rng(7)
    busy = rng.integers(0, 256, (96, 96, 3)).astype(np.uint8)
    busy[:, :48] = 128
    pictures = [busy, np.ascontiguousarray(busy[:, ::-1])]
    adaptive, static = coder.encode_set(pictures, 60), coder.encode_set(pictures, 60, adaptive=False)
    assert (adaptive.shared[3], static.shared[3]) == (3, 2)
    assert sum(map(len, adaptive.each)) < 0.95 * sum(map(len, static.each))
    for coded in (adaptive, static):
        decoded = coder.decode_set(coded.shared, coded.each)
        assert all(np.array_equal(a, b) for a, b in zip(decoded, static.reconstructions, strict=True))


def test_context_keys_at_the_decoder_follow_the_encoders():
    """The decoder's keys, built channel by channel from what it has decoded, equal the encoder's whole-picture keys;
    an all-zero picture sits in the quietest bucket from its second channel on."""
    from semtalk.learned.seb import context

    rng = np.random.default_rng(8)
    y = rng.integers(-3, 4, (6 * 5, 7)) * (rng.random((6 * 5, 7)) < 0.4)
    keys = context.picture_keys(y, 6, 5)
    ctx = context.Contexts(6, 5)
    for c in range(y.shape[1]):
        black = ctx.black()
        assert np.array_equal(np.where(ctx.white, ctx.white_keys(black, y[:, c]), black), keys[:, c])
        ctx.done(y[:, c])
    zero = context.picture_keys(np.zeros((30, 3), np.int64), 6, 5)
    assert (zero[~ctx.white, 0] == context.N_ACTIVITY - 1).all() and (zero[~ctx.white, 1:] == 0).all()
    assert (zero[ctx.white, 1:] == context.N_ACTIVITY).all()


def test_chroma_factor_coarsens_only_the_chroma_steps_and_travels_in_the_shared_bytes():
    coder = SebCoder(_tiny())
    steps = channel_steps(coder.model, 2.0, eighths=24)
    assert np.all(steps[:64] == 2.0) and np.all(steps[64:] == 6.0) and len(steps) == 192
    assert np.all(channel_steps(_tiny(cfg=TINY_GDN), 2.0, eighths=24) == 2.0)  # no colour channels there
    rng = np.random.default_rng(5)
    pictures = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    plain, coarse = coder.encode_set(pictures, 60), coder.encode_set(pictures, 60, chroma=3.0)
    assert plain.shared[4] == 8 and coarse.shared[4] == 24  # eighths after magic and version
    assert sum(map(len, coarse.each)) < sum(map(len, plain.each))
    decoded = coder.decode_set(coarse.shared, coarse.each)  # the decoder takes the factor from the bytes
    assert all(np.array_equal(a, b) for a, b in zip(decoded, coarse.reconstructions, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(decoded, plain.reconstructions, strict=True))


@pytest.mark.parametrize(("mangle", "message"), [
    (lambda s, e: (b"XYZ" + s[3:], e), "not Seb shared bytes"),
    (lambda s, e: (s[:5], e), "truncated"),
    (lambda s, e: (s, [e[0][:-3]]), "truncated"),
    (lambda s, e: (s[:6] + b"\xff\xff" + s[8:], e), "65535 Sebs for 4 patches"),
    (lambda s, e: (s, [e[0][:5] + b"\x00" + e[0][6:]]), "has quality 0"),
    (lambda s, e: (s, [e[0][:4] + b"\x07" + e[0][5:]]), "names subset 7 of 1"),
])
def test_bad_bytes_are_value_errors(mangle, message):
    coder = SebCoder(_tiny())
    coded = coder.encode_set(_pictures(np.random.default_rng(0))[:1], quality=50)
    with pytest.raises(ValueError, match=message):
        coder.decode_set(*mangle(coded.shared, coded.each))


def test_corrupt_range_codes_are_value_errors_never_crashes():
    """Flipped bits, cut or padded words in either part: decoded to some pictures or refused with ``ValueError``
    (constriction itself raises ``AssertionError`` for a code its model cannot have written)."""
    coder, rng = SebCoder(_tiny()), np.random.default_rng(9)
    coded = coder.encode_set([rng.integers(0, 256, (64, 64, 3)).astype(np.uint8) for _ in range(2)], 60)
    refused = 0
    for trial in range(120):
        shared, each = bytearray(coded.shared), [bytearray(e) for e in coded.each]
        target = shared if trial % 3 == 0 else each[trial % 2]
        if trial % 4 == 3:
            del target[len(target) - 4:]
        else:
            target[rng.integers(5, len(target))] ^= 1 << int(rng.integers(8))
        try:
            coder.decode_set(bytes(shared), [bytes(e) for e in each])
        except ValueError:
            refused += 1
    assert refused > 0


def test_from_bundle_round_trips_a_float16_bundle():
    model = _tiny()
    bundle = {"config": TINY.to_dict(), "state": {k: v.half() for k, v in model.state_dict().items()}}
    coder = from_bundle(bundle)
    pictures = _pictures(np.random.default_rng(4))
    coded = coder.encode_set(pictures, 40)
    assert all(np.array_equal(a, b) for a, b in
               zip(from_bundle(bundle).decode_set(coded.shared, coded.each), coded.reconstructions, strict=True))


def test_shipped_weights_load_offline():
    from semtalk.learned.seb.code import WEIGHTS, load_seb

    for rate in WEIGHTS:
        coder = load_seb(rate)
        assert isinstance(coder.model, SebModel) and not coder.model.training
    with pytest.raises(ValueError, match="no Seb weights"):
        load_seb("huge")


def test_training_runs_a_fixed_number_of_steps_and_ships_a_loadable_bundle():
    from semtalk.learned.seb.data import Pictures, sample_set
    from semtalk.learned.seb.train import TrainConfig, bundle_of, train

    rng = np.random.default_rng(0)
    pics = Pictures(clips={"clip": rng.integers(0, 256, (4, 140, 150, 3), dtype=np.uint8)},
                    photos={"photo": rng.integers(0, 256, (130, 200, 3), dtype=np.uint8)})
    assert sample_set(pics, 3, 128, rng).shape == (3, 128, 128, 3)
    cfg = TrainConfig(steps=2, log_every=1)
    init = {"config": TINY.to_dict(), "state": _tiny().state_dict()}
    model, history, steps = train(pics, cfg, init, log=lambda s: None)
    assert steps == 2 and history["step"] == [1, 2] and not model.training
    assert model.cfg.lam == cfg.lam  # the λ of the run, not of the initial weights
    coder = from_bundle(bundle_of(model, cfg, history, steps, 1.0))
    coded = coder.encode_set(_pictures(rng), 60)
    assert all(np.array_equal(a, b) for a, b in
               zip(coder.decode_set(coded.shared, coded.each), coded.reconstructions, strict=True))


def test_train_cli_refuses_a_folder_without_clips(tmp_path):
    from semtalk.cli import main

    assert main(["train", "seb", "--data", str(tmp_path)]) == 2
    assert main(["train", "seb", "--data", str(tmp_path), "--minutes", "0"]) == 2
