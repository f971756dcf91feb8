"""The torch GPT and its training loop, checked against results known in advance."""

import math

import numpy as np
import pytest
import torch

from middleground.model import GPT, GPTConfig
from middleground.sources import IID, Periodic
from middleground.text import CharVocab, split
from middleground.train import TrainConfig, fit, lr_at

SMALL = GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16)


def test_forward_shapes_and_initial_loss_near_uniform():
    torch.manual_seed(0)
    model = GPT(SMALL)
    idx, targets = torch.randint(12, (3, 16)), torch.randint(12, (3, 16))
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 16, 12)
    # Small initial weights give nearly uniform predictions: loss close to ln(vocab).
    assert loss.item() == pytest.approx(math.log(12), abs=0.1)


def test_attention_is_causal():
    torch.manual_seed(0)
    model = GPT(SMALL).eval()
    a = torch.randint(12, (1, 16))
    b = a.clone()
    b[0, 10:] = (b[0, 10:] + 1) % 12
    la, _ = model(a)
    lb, _ = model(b)
    assert torch.allclose(la[0, :10], lb[0, :10], atol=1e-6)
    assert not torch.allclose(la[0, 10:], lb[0, 10:])


def test_parameter_count_counts_tied_weights_once():
    model = GPT(SMALL)
    C, V, T = 16, 12, 16
    per_block = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (4 * C * C + 4 * C) + (4 * C * C + C)
    assert model.num_params() == V * C + T * C + per_block + 2 * C
    assert model.num_params(include_position=False) == model.num_params() - T * C


def test_config_and_input_errors():
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPTConfig(vocab_size=5, n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="exceeds block_size 16"):
        GPT(SMALL)(torch.zeros(1, 17, dtype=torch.long))


def test_learning_rate_schedule():
    tc = TrainConfig(steps=100, warmup_steps=10, learning_rate=1.0, min_lr_ratio=0.1)
    assert lr_at(0, tc) == pytest.approx(0.1) and lr_at(9, tc) == pytest.approx(1.0)
    assert lr_at(99, tc) == pytest.approx(0.1, abs=1e-3)
    assert all(lr_at(s, tc) >= lr_at(s + 1, tc) for s in range(10, 99))


def test_training_is_deterministic_per_seed():
    rng = np.random.default_rng(0)
    x = IID.uniform(12).sample(5000, rng)
    tc = TrainConfig(steps=5, batch_size=4, eval_interval=5, eval_iters=2, seed=3)
    _, h1 = fit(SMALL, tc, x[:4000], x[4000:])
    _, h2 = fit(SMALL, tc, x[:4000], x[4000:])
    assert [r["val_loss"] for r in h1] == [r["val_loss"] for r in h2]
    assert [r["train_loss"] for r in h1[1:]] == [r["train_loss"] for r in h2[1:]]


def test_noise_cannot_be_learned_below_its_entropy_rate():
    """Held-out loss on iid uniform noise stays at ln(k) nats: the exact entropy rate."""
    rng = np.random.default_rng(0)
    source = IID.uniform(12)
    tc = TrainConfig(steps=60, batch_size=16, eval_interval=60, eval_iters=8)
    _, hist = fit(SMALL, tc, source.sample(20_000, rng), source.sample(4_000, rng))
    h_nats = source.entropy_rate * math.log(2)
    assert hist[-1]["val_loss"] == pytest.approx(h_nats, abs=0.05)


def test_periodic_sequence_is_learned_to_near_zero_loss():
    rng = np.random.default_rng(0)
    source = Periodic.random(8, 12, rng)
    tc = TrainConfig(steps=150, batch_size=16, eval_interval=150, eval_iters=4, learning_rate=1e-2)
    _, hist = fit(SMALL, tc, source.sample(5_000, rng), source.sample(1_000, rng))
    assert hist[0]["val_loss"] > 2.0
    assert hist[-1]["val_loss"] < 0.05  # h = 0: everything is learnable


def test_char_vocab_round_trip_and_split():
    vocab = CharVocab.from_text("hello world")
    assert vocab.decode(vocab.encode("hello")) == "hello"
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.encode("z")
    train, val = split(np.arange(100))
    assert len(train) == 90 and val[0] == 90
    with pytest.raises(ValueError, match="train_fraction"):
        split(np.arange(10), 1.0)
