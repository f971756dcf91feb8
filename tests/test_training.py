"""The torch GPT and its training loop, checked against results known in advance."""

import math

import numpy as np
import pytest
import torch

from middleground.gpt.model import GPT, GPTConfig
from middleground.sources.processes import IID, Periodic
from middleground.gpt.text import CharVocab, split
from middleground.gpt.train import TrainConfig, fit, lr_at

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


def test_learning_rate_schedule_is_nanogpts():
    tc = TrainConfig(max_iters=100, warmup_iters=9, learning_rate=1.0, min_lr=0.1)
    assert lr_at(0, tc) == pytest.approx(0.1) and lr_at(8, tc) == pytest.approx(0.9)
    assert lr_at(9, tc) == pytest.approx(1.0)  # the cosine starts at the peak
    assert lr_at(100, tc) == pytest.approx(0.1) and lr_at(500, tc) == 0.1  # then flat at min_lr
    halfway = 9 + (100 - 9) / 2
    assert lr_at(int(halfway), tc) == pytest.approx(0.55, abs=0.02)
    assert all(lr_at(s, tc) >= lr_at(s + 1, tc) for s in range(9, 120))


def test_training_is_deterministic_per_seed():
    rng = np.random.default_rng(0)
    x = IID.uniform(12).sample(5000, rng)
    tc = TrainConfig(max_iters=5, batch_size=4, eval_interval=5, eval_iters=2, seed=3)
    h1 = fit(SMALL, tc, x[:4000], x[4000:]).history
    h2 = fit(SMALL, tc, x[:4000], x[4000:]).history
    assert [r["val_loss"] for r in h1] == [r["val_loss"] for r in h2]
    assert [r["train_loss"] for r in h1] == [r["train_loss"] for r in h2]
    h3 = fit(SMALL, TrainConfig(max_iters=5, batch_size=4, eval_interval=5, eval_iters=2, seed=4),
             x[:4000], x[4000:]).history
    assert h3[-1]["val_loss"] != h1[-1]["val_loss"]  # and the seed matters


def test_noise_cannot_be_learned_below_its_entropy_rate():
    """Held-out loss on iid uniform noise stays at ln(k) nats: the exact entropy rate."""
    rng = np.random.default_rng(0)
    source = IID.uniform(12)
    tc = TrainConfig(max_iters=60, batch_size=16, eval_interval=60, eval_iters=8, warmup_iters=10,
                     learning_rate=3e-3)
    hist = fit(SMALL, tc, source.sample(20_000, rng), source.sample(4_000, rng)).history
    h_nats = source.entropy_rate * math.log(2)
    assert hist[-1]["val_loss"] == pytest.approx(h_nats, abs=0.05)


def test_periodic_sequence_is_learned_to_near_zero_loss():
    rng = np.random.default_rng(0)
    source = Periodic.random(8, 12, rng)
    tc = TrainConfig(max_iters=150, batch_size=16, eval_interval=150, eval_iters=4, warmup_iters=10,
                     learning_rate=1e-2, min_lr=1e-3)
    hist = fit(SMALL, tc, source.sample(5_000, rng), source.sample(1_000, rng)).history
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
