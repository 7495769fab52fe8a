"""PacSC network and training: shape contracts, determinism, training lowers the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from semtalk.learned.pacsc.config import RATE_CONFIGS, PacscConfig
from semtalk.learned.pacsc.model import LinearDiscriminator, PacscModel
from semtalk.learned.pacsc.train import TrainConfig, sample_windows, train


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_shapes_follow_the_rate_configuration(rate):
    cfg = RATE_CONFIGS[rate]
    assert cfg.code_rate == rate
    assert cfg.frames * cfg.n_coeffs == cfg.n_pv * cfg.d_v
    model = PacscModel(cfg).eval()
    x = torch.rand(3, cfg.frames, cfg.n_coeffs)
    e = model.encoder(model.blocks(x))
    assert e.shape == (3, cfg.rows, cfg.d_p)
    assert float(e.abs().max()) <= 1.0
    mask = torch.ones(3, cfg.rows)
    assert model(x, mask).shape == x.shape
    assert LinearDiscriminator(cfg)(x).shape == (3,)


def test_rows_per_block_match_rs_packets():
    """Rate 1/2 sends 8 rows and 1/4 sends 16 per 20-frame block: RS k=4, n=8 or 16."""
    assert [RATE_CONFIGS[r].rows for r in (0.5, 0.25)] == [8, 16]
    assert {RATE_CONFIGS[r].frames for r in (0.5, 0.25)} == {20}


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="does not split into vectors"):
        PacscConfig(d_v=7)


def test_lost_rows_do_not_reach_the_decoder():
    cfg = RATE_CONFIGS[0.5]
    model = PacscModel(cfg).eval()
    e = torch.rand(1, cfg.rows, cfg.d_p) * 2 - 1
    mask = torch.ones(1, cfg.rows)
    mask[0, :3] = 0
    other = e.clone()
    other[0, :3] = 0.7  # different contents in the lost rows
    with torch.no_grad():
        assert torch.equal(model.decoder(e, mask), model.decoder(other, mask))


def test_quantise_gives_8_bit_levels_and_passes_gradients():
    e = torch.linspace(-1, 1, 1000, requires_grad=True)
    q = PacscModel.quantise(e)
    levels = (q.detach() + 1) / 2 * 255
    assert torch.allclose(levels, levels.round(), atol=1e-4)
    q.sum().backward()
    assert torch.all(e.grad == 1)


def test_sample_windows_are_in_range_and_seeded():
    seqs = [np.random.default_rng(0).random((60, 16)).astype(np.float32)]
    a = sample_windows(seqs, 20, 8, np.random.default_rng(1))
    b = sample_windows(seqs, 20, 8, np.random.default_rng(1))
    assert a.shape == (8, 20, 16)
    assert np.array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 1


def test_a_few_training_steps_reduce_the_loss():
    t = np.arange(200)[:, None]
    seqs = [(0.5 + 0.3 * np.sin(t / (4 + k) + np.arange(16) / 3)).astype(np.float32) for k in range(3)]
    torch.set_num_threads(1)
    small = PacscConfig(d_model=32, ff=64, enc_layers=1, dec_layers=1)
    _, history = train(small, seqs, TrainConfig(epochs=6, steps_per_epoch=10, batch=16, lr=5e-3))
    assert len(history) == 6
    assert history[-1] < 0.8 * history[0]
