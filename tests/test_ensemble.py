"""An ensemble of N stacked GPTs computes what N separate GPTs compute."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from middleground.gpt.core import TrainConfig, adamw
from middleground.gpt.device import pick
from middleground.gpt.ensemble import _SAFE, EnsembleGPT, clip_per_member, fit_ensemble
from middleground.gpt.model import GPT, GPTConfig
from middleground.sources.processes import IID, Periodic

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
    opt = adamw(ens, tc, pick("cpu"), batch_dims=1)
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


def test_an_ensemble_of_one_trains_like_the_single_model_trainer():
    """Same seed, hence the same initial weights and the same batches: the same run, to float
    tolerance, after many optimiser steps (schedule, clipping and AdamW included)."""
    from dataclasses import replace

    from middleground.gpt.train import fit, split_loss

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


def test_a_compiled_ensemble_trains_as_the_eager_one():
    """``TrainConfig(compile=True)`` compiles the ensemble's training steps (evaluations stay
    eager, in float32): after 6 steps its members' held-out losses equal the eager run's to float32
    rounding. The compiler fuses element-wise work and may reorder sums: each operation then differs
    by a few ulps (2^-23 relative), which 6 AdamW steps at rate 3e-3 keep far below 1e-4 nats."""
    cfg = GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=2, n_embd=16, bias=False)
    tc = TrainConfig(max_iters=6, batch_size=4, learning_rate=3e-3, warmup_iters=0, eval_interval=3,
                     eval_iters=2)
    rng = np.random.default_rng(0)
    streams = [IID.uniform(5).sample(400, rng) for _ in range(2)]
    vals = [IID.uniform(5).sample(200, rng) for _ in range(2)]
    device = pick("cpu")
    eager = fit_ensemble(cfg, tc, streams, vals, [0, 1], device)
    compiled = fit_ensemble(cfg, replace(tc, compile=True), streams, vals, [0, 1], device)
    assert len(compiled.iter_seconds) == 6
    for a, b in zip(eager.history, compiled.history):
        assert np.allclose(a["val_loss"], b["val_loss"], atol=1e-4), (a, b)
    assert eager.history[-1]["val_loss"] != eager.history[0]["val_loss"]


def test_the_allocator_policy_changes_no_number(tmp_path):
    """keep_freed_memory raises glibc's thresholds (a speed policy the program sets, never the
    trainer): a fit in a process with the policy and one with it refused (MIDDLEGROUND_KEEP_MALLOC=1)
    give identical histories."""
    import json
    import os
    import subprocess
    import sys

    code = ("import json, sys, numpy as np\n"
            "from middleground.gpt import allocator\n"
            "from middleground.gpt.core import TrainConfig\n"
            "from middleground.gpt.model import GPTConfig\n"
            "from middleground.gpt.train import fit\n"
            "from middleground.sources.processes import IID\n"
            "cfg = GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=2, n_embd=16)\n"
            "tc = TrainConfig(max_iters=5, batch_size=4, warmup_iters=0, eval_interval=5, eval_iters=2)\n"
            "x = IID.uniform(5).sample(400, np.random.default_rng(0))\n"
            "fit(cfg, tc, x[:300], x[300:])\n"
            "untouched = not allocator._done  # the trainer sets no process-wide policy itself\n"
            "kept = allocator.keep_freed_memory()  # the program does\n"
            "run = fit(cfg, tc, x[:300], x[300:])\n"
            "json.dump({'untouched': untouched, 'kept': kept, 'history': run.history}, open(sys.argv[1], 'w'))\n")
    out = {}
    for refuse in ("0", "1"):
        path = tmp_path / f"{refuse}.json"
        env = {**os.environ, "MIDDLEGROUND_KEEP_MALLOC": refuse, "OMP_NUM_THREADS": "1"}
        subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True, timeout=300)
        out[refuse] = json.loads(path.read_text())
    assert out["0"]["untouched"] and out["1"]["untouched"]
    assert out["0"]["kept"] is sys.platform.startswith("linux") and out["1"]["kept"] is False
    assert out["0"]["history"] == out["1"]["history"]
