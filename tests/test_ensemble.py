"""An ensemble of N stacked GPTs computes what N separate GPTs compute."""

import numpy as np
import pytest
import torch

from middleground.device import pick
from middleground.ensemble import (EnsembleGPT, clip_per_member, fit_ensemble, make_optimizer)
from middleground.model import GPT, GPTConfig
from middleground.sources import IID, Periodic
from middleground.train import TrainConfig

CFGS = [GPTConfig(vocab_size=7, block_size=12, n_layer=2, n_head=2, n_embd=16, bias=True),
        GPTConfig(vocab_size=7, block_size=12, n_layer=1, n_head=4, n_embd=16, bias=False)]


@pytest.mark.parametrize("cfg", CFGS, ids=["bias", "no-bias"])
def test_losses_and_gradients_equal_those_of_separate_models(cfg):
    torch.set_default_dtype(torch.float64)
    try:
        seeds = [3, 4, 5]
        ens = EnsembleGPT.fresh(cfg, seeds)
        separate = []
        for s in seeds:
            torch.manual_seed(s)
            separate.append(GPT(cfg))
        gen = torch.Generator().manual_seed(0)
        x = torch.randint(7, (3, 4, 12), generator=gen)
        y = torch.randint(7, (3, 4, 12), generator=gen)
        logits, losses = ens(x, y)
        losses.sum().backward()
        for m, gpt in enumerate(separate):
            ref_logits, ref_loss = gpt(x[m], y[m])
            ref_loss.backward()
            assert torch.allclose(logits[m], ref_logits, atol=1e-12)
            assert losses[m].item() == pytest.approx(ref_loss.item(), abs=1e-12)
            # the member's gradients, mapped back to GPT layout, equal the separate model's
            ens_grads = {k: v for k, v in _member_grads(ens, m).items()}
            for name, p in gpt.named_parameters():
                assert torch.allclose(ens_grads[name], p.grad, atol=1e-10), name
    finally:
        torch.set_default_dtype(torch.float32)


def _member_grads(ens, m):
    """Gradients of member m in GPT's parameter names (wte's gradient includes the tied head)."""
    grads = {"wte.weight": ens.wte.grad[m], "wpe.weight": ens.wpe.grad[m],
             "ln_f.weight": ens.ln_f_weight.grad[m]}
    if ens.ln_f_bias is not None:
        grads["ln_f.bias"] = ens.ln_f_bias.grad[m]
    from middleground.ensemble import _SAFE
    for i, block in enumerate(ens.blocks):
        for key, p in block.items():
            g = p.grad[m]
            grads[f"blocks.{i}.{_SAFE[key]}"] = g.transpose(0, 1) if g.dim() == 2 and "weight" in key and "ln" not in key else g
    return grads


def test_member_round_trip_and_an_optimiser_step_match_separate_training():
    cfg = CFGS[0]
    ens = EnsembleGPT.fresh(cfg, [1, 2])
    copies = [ens.member(m) for m in range(2)]
    tc = TrainConfig(learning_rate=1e-2, min_lr=1e-3, grad_clip=0.05)
    opt = make_optimizer(ens, tc)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(7, (2, 4, 12), generator=gen)
    y = torch.randint(7, (2, 4, 12), generator=gen)
    _, losses = ens(x, y)
    losses.sum().backward()
    clip_per_member(ens, tc.grad_clip)
    opt.step()
    for m, gpt in enumerate(copies):
        ref_opt = torch.optim.AdamW(
            [{"params": [p for p in gpt.parameters() if p.dim() >= 2], "weight_decay": tc.weight_decay},
             {"params": [p for p in gpt.parameters() if p.dim() < 2], "weight_decay": 0.0}],
            lr=tc.learning_rate, betas=(tc.beta1, tc.beta2))
        _, loss = gpt(x[m], y[m])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(gpt.parameters(), tc.grad_clip)
        ref_opt.step()
        stepped = ens.member(m)
        for (name, a), b in zip(gpt.named_parameters(), stepped.parameters()):
            assert torch.allclose(a, b, atol=1e-6), name


def test_fit_ensemble_learns_each_members_own_source():
    rng = np.random.default_rng(0)
    cfg = GPTConfig(vocab_size=6, block_size=16, n_layer=1, n_head=2, n_embd=16, bias=False)
    noise = IID.uniform(6)
    periodic = Periodic.random(5, 6, rng)
    streams = [noise.sample(6000, rng), periodic.sample(6000, rng)]
    vals = [noise.sample(2000, rng), periodic.sample(2000, rng)]
    tc = TrainConfig(max_iters=120, batch_size=16, learning_rate=1e-2, min_lr=1e-3, warmup_iters=10,
                     eval_interval=60, eval_iters=4)
    run = fit_ensemble(cfg, tc, streams, vals, seeds=[0, 1], device=pick("cpu"))
    final = run.history[-1]["val_loss"]
    assert [h["step"] for h in run.history] == [0, 60, 120]
    assert final[0] == pytest.approx(np.log(6), abs=0.05)  # noise: nothing to learn
    assert final[1] < 0.1                                   # periodic: everything


def test_ensemble_rejects_mismatched_input():
    cfg = CFGS[1]
    with pytest.raises(ValueError, match="one train and one validation stream per seed"):
        fit_ensemble(cfg, TrainConfig(max_iters=1), [np.zeros(50, int)], [], seeds=[0])
    with pytest.raises(ValueError, match="tokens must lie in"):
        fit_ensemble(cfg, TrainConfig(max_iters=1), [np.full(50, 9)], [np.zeros(50, int)], seeds=[0])
    with pytest.raises(ValueError, match="without dropout"):
        EnsembleGPT.fresh(GPTConfig(vocab_size=7, dropout=0.1), [0])


# --- capability metrics on hand-made cases ------------------------------------------------------

from middleground import capabilities, hmm  # noqa: E402


def test_exact_match_token_accuracy_and_edit_distance():
    pred = np.array([[1, 2, 3], [1, 0, 3]])
    target = np.array([[1, 2, 3], [1, 2, 3]])
    assert capabilities.exact_match(pred, target).tolist() == [1.0, 0.0]
    assert capabilities.token_accuracy(pred, target).tolist() == pytest.approx([1.0, 2 / 3])
    assert capabilities.edit_distance("kitten", "sitting") == 3
    assert capabilities.edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert capabilities.edit_distance([], [4, 5]) == 2
    with pytest.raises(ValueError, match="shapes differ"):
        capabilities.exact_match([[1]], [[1, 2]])


def test_addition_generator_and_checker():
    assert capabilities.addition_example(7, 45, 2) == "07+45=052"
    problems = capabilities.addition_problems(200, 3, np.random.default_rng(0))
    for p in problems:
        prompt, answer = p[:p.index("=") + 1], p[p.index("=") + 1:]
        assert capabilities.check_addition(prompt, answer)
        assert set(p) <= set(capabilities.ADDITION_VOCAB) and len(p) == 3 + 1 + 3 + 1 + 4
    assert not capabilities.check_addition("12+34=", "047")
    assert not capabilities.check_addition("12+34=", "46")  # must be zero-padded to 3 digits
    with pytest.raises(ValueError, match="not an addition prompt"):
        capabilities.check_addition("12*34=", "408")
    with pytest.raises(ValueError, match="at most 2 digits"):
        capabilities.addition_example(100, 1, 2)


def test_greedy_target_of_a_periodic_word_is_its_continuation():
    src = hmm.noisy_periodic((0, 1, 2, 3, 3), 4, 0.1)
    ctx = np.array([[0, 1, 2, 3, 3, 0, 1]])  # phase after this context: next is 2
    assert capabilities.greedy_target(src, ctx, 6).tolist() == [[2, 3, 3, 0, 1, 2]]
    ok = capabilities.continuation_correct(src, ctx, np.array([[2, 3, 0, 0, 1, 2]]))
    # the third symbol breaks the pattern (a noise event); the phase survives it
    assert ok.tolist() == [[True, True, False, True, True, True]]


def test_continuation_scoring_accepts_either_side_of_an_exact_tie():
    g = hmm.golden_mean()  # after a 0, 0 and 1 are equally likely; after a 1, a 0 is certain
    ctx = np.array([[1, 0, 1, 0]])
    assert capabilities.continuation_correct(g, ctx, np.array([[1, 0, 0, 1]])).all()
    assert capabilities.continuation_correct(g, ctx, np.array([[0, 0, 0, 0]])).all()
    bad = capabilities.continuation_correct(g, ctx, np.array([[1, 1, 0, 0]]))
    assert bad.tolist() == [[True, False, True, True]]  # two 1s in a row are impossible


def test_quanta_segments_follow_their_tasks_permutation():
    q = capabilities.Quanta(n_tasks=5, k=6, exponent=1.5, segment=8, seed=1)
    x, tasks = q.sample(400, np.random.default_rng(0))
    seg = x.reshape(400, 8)
    assert np.array_equal(seg[:, 0], 6 + tasks)
    perms = q.permutations
    assert np.array_equal(seg[:, 2:], perms[tasks[:, None], seg[:, 1:-1]])
    # Zipf frequencies: task 0 the most common
    assert np.bincount(tasks, minlength=5).argmax() == 0


def test_an_ensemble_of_one_trains_like_the_single_model_trainer():
    """Same seed, hence the same initial weights and the same batches: the same run, to float
    tolerance, after many optimiser steps (schedule, clipping and AdamW included)."""
    from dataclasses import replace

    from middleground.train import fit, split_loss

    cfg = GPTConfig(vocab_size=5, block_size=16, n_layer=1, n_head=2, n_embd=16, bias=False)
    rng = np.random.default_rng(0)
    tokens = IID((0.4, 0.3, 0.1, 0.1, 0.1)).sample(8000, rng)
    tc = TrainConfig(max_iters=40, batch_size=8, learning_rate=1e-2, min_lr=1e-3, warmup_iters=4,
                     eval_interval=40, eval_iters=2, seed=3)
    device = pick("cpu")
    ens = fit_ensemble(cfg, tc, [tokens[:7000]], [tokens[7000:]], [3], device)
    single = fit(cfg, replace(tc, seed=3), tokens[:7000], tokens[7000:], device)
    a = split_loss(ens.model.member(0), tokens[7000:], 16, device)
    b = split_loss(single.model, tokens[7000:], 16, device)
    assert a == pytest.approx(b, abs=1e-4)
