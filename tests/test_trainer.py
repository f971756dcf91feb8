"""The Part II trainer: optimisation, checkpoints, the command line, devices and FLOP accounting."""

import json
import math

import numpy as np
import pytest
import torch

from middleground.gpt import device as device_mod
from middleground.gpt import train as train_mod
from middleground.gpt.flops import flops_per_token, matmul_peak
from middleground.gpt.model import GPT, GPTConfig
from middleground.sources.processes import IID
from middleground.gpt.core import adamw
from middleground.gpt.train import (CHECKPOINT_NAME, CheckpointError, TrainConfig, fit, load_checkpoint,
                                split_loss)

SMALL = GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16)
TOKENS = IID.uniform(12).sample(6000, np.random.default_rng(0))


def test_one_step_reduces_loss_on_a_fixed_batch_and_a_tiny_batch_is_overfit():
    torch.manual_seed(0)
    model = GPT(SMALL)
    opt = adamw(model, TrainConfig(learning_rate=1e-2, min_lr=0.0), device_mod.pick("cpu"))
    x = torch.randint(12, (2, 16), generator=torch.Generator().manual_seed(1))
    y = torch.randint(12, (2, 16), generator=torch.Generator().manual_seed(2))
    losses = []
    for _ in range(150):
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[1] < losses[0]
    # 32 random targets, memorised: far below the ln(12) = 2.48 nats of chance.
    assert losses[-1] < 0.05


def test_checkpoint_resume_gives_identical_losses(tmp_path):
    tc = TrainConfig(max_iters=12, batch_size=4, eval_interval=3, eval_iters=2, warmup_iters=2,
                     seed=5)
    cfg = GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.1)
    whole = fit(cfg, tc, TOKENS[:5000], TOKENS[5000:])
    fit(cfg, tc, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, stop_after=6)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["iter"] == 6
    resumed = fit(cfg, tc, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, resume=True)
    assert resumed.history == whole.history  # dropout and batch order included
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.partial"))


def test_resume_refuses_a_missing_corrupt_or_foreign_checkpoint(tmp_path):
    tc = TrainConfig(max_iters=4, batch_size=4, eval_interval=2, eval_iters=1, warmup_iters=1)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        fit(SMALL, tc, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, resume=True)
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="damaged or not a checkpoint"):
        fit(SMALL, tc, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, resume=True)
    fit(SMALL, tc, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path)
    other = GPTConfig(vocab_size=12, block_size=16, n_layer=2, n_head=2, n_embd=16)
    with pytest.raises(CheckpointError, match="is for model"):
        fit(other, tc, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, resume=True)


def test_train_config_rejects_bad_values():
    for bad, match in [({"max_iters": 0}, "max_iters"), ({"learning_rate": -1.0}, "learning_rate"),
                       ({"min_lr": 1.0}, "min_lr"), ({"beta2": 1.0}, "beta2"),
                       ({"lr_decay_iters": 50}, "lr_decay_iters"), ({"grad_clip": -1.0}, "grad_clip"),
                       ({"batch_size": 2.5}, "batch_size")]:
        with pytest.raises(ValueError, match=match):
            TrainConfig(**bad)
    with pytest.raises(ValueError, match="tokens must lie in"):
        fit(SMALL, TrainConfig(max_iters=1), TOKENS + 20, TOKENS)


def test_split_loss_is_the_mean_over_non_overlapping_windows():
    torch.manual_seed(0)
    model = GPT(SMALL).eval()
    tokens = TOKENS[:16 * 7 + 5]
    manual = []
    for i in range(7):
        x = torch.as_tensor(tokens[16 * i:16 * i + 16])[None]
        y = torch.as_tensor(tokens[16 * i + 1:16 * i + 17])[None]
        manual.append(model(x, y)[1].item())
    assert split_loss(model, tokens, 16, device_mod.pick("cpu"), chunk=3) == pytest.approx(
        np.mean(manual), rel=1e-6)


def test_flops_per_token_counts_every_matmul_of_forward_and_backward():
    cfg = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, bias=False)
    model = GPT(cfg)
    n = model.num_params(include_position=False)
    C, T, L, V = 128, 64, 4, 65
    # Per token, forward multiply-adds: 12 C^2 per layer in the linears, C V in the output head,
    # 2 T C per layer in QK^T and AV (nanoGPT counts the whole square). Backward is twice forward.
    forward_macs = L * 12 * C * C + C * V + L * 2 * T * C
    # 6N also counts layer-norm gains and the embedding table once more than the head needs:
    # nanoGPT's approximation, which the formula must reproduce exactly.
    assert flops_per_token(cfg, n) == 6 * n + 12 * L * C * T
    assert flops_per_token(cfg, n) == pytest.approx(3 * 2 * forward_macs, rel=0.01)


def test_matmul_peak_is_a_rate_of_counted_flops_per_second(monkeypatch):
    """With a clock that advances 1 ms per reading, the rate is known exactly: no speed asserted."""
    from middleground.gpt import flops

    ticks = iter(range(10**6))
    monkeypatch.setattr(flops.time, "perf_counter", lambda: next(ticks) * 1e-3)
    # the loop stops at the first reading >= 5 ms after the start: 5 products of 2 n^3 FLOPs
    assert matmul_peak("cpu", sizes=(64,), seconds=0.005) == pytest.approx(5 * 2 * 64**3 / 0.005)


def test_summary_reports_speed_and_mfu():
    run = fit(SMALL, TrainConfig(max_iters=30, batch_size=4, eval_interval=30, eval_iters=1,
                                 warmup_iters=1), TOKENS[:5000], TOKENS[5000:])
    s = run.summary(peak_flops=1e12)
    assert s["tokens_per_s"] == pytest.approx(4 * 16 / (s["ms_per_iter"] / 1e3))
    assert s["mfu"] == pytest.approx(s["flops_per_token"] * s["tokens_per_s"] / 1e12)
    assert s["n_params"] - s["n_params_without_position"] == 16 * 16
    assert len(run.history) == 2 and s["final"] is run.history[-1]


def test_device_helper_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device_mod.pick().type in ("cpu", "mps")
    assert device_mod.pick("cpu").autocast_dtype is None  # plain fp32 on the CPU
    with pytest.raises(ValueError, match="'cuda' was requested but is not available"):
        device_mod.pick("cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        device_mod.pick("tpu")


def test_device_helper_picks_cuda_with_bf16_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Fake GPU")
    d = device_mod.pick()
    assert (d.type, d.name, d.autocast_dtype) == ("cuda", "Fake GPU", torch.bfloat16)


def test_the_autocast_training_path_runs_on_the_cpu():
    """No GPU here: exercise the bf16-autocast branch of the loop and the loss upcast on the CPU."""
    bf16_cpu = device_mod.Device("cpu", "CPU under bf16 autocast (test)", torch.bfloat16)
    run = fit(SMALL, TrainConfig(max_iters=20, batch_size=8, eval_interval=20, eval_iters=2,
                                 warmup_iters=2, learning_rate=1e-2, min_lr=1e-3),
              TOKENS[:5000], TOKENS[5000:], bf16_cpu)
    assert all(math.isfinite(r["val_loss"]) for r in run.history)
    with bf16_cpu.autocast():
        logits, loss = run.model(torch.as_tensor(TOKENS[:16])[None], torch.as_tensor(TOKENS[1:17])[None])
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32


# --- the command line ----------------------------------------------------------------------------

def _cli(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_mod.main(argv)
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--n_layer", "0"], "n_layer must be a positive integer"),
    (["--n_embd", "100", "--n_head", "3"], "divisible by n_head"),
    (["--learning_rate", "-1"], "learning_rate must be in (0, 1.0]"),
    (["--max_iters", "ten"], "invalid int value: 'ten'"),
    (["--dropout", "1.5"], "dropout must be in"),
    (["--compile", "maybe"], "expected True or False"),
    (["--device", "tpu"], "invalid choice: 'tpu'"),
    (["--dataset", "wikipedia"], "invalid choice: 'wikipedia'"),
    (["--resume"], "--resume needs --out_dir"),
])
def test_cli_rejects_bad_values_with_a_clear_message(argv, message, capsys):
    code, err = _cli(argv, capsys)
    assert code == 2 and message in err


def test_cli_trains_and_writes_a_summary(tmp_path, capsys, isolated_cache):
    out = tmp_path / "run.json"
    code = train_mod.main(["--n_layer=1", "--n_head=2", "--n_embd=16", "--block_size=16",
                           "--batch_size=4", "--max_iters=6", "--eval_interval=3", "--eval_iters=1",
                           "--warmup_iters=1", "--dropout=0.0", "--device=cpu", "--compile=False",
                           "--out_dir", str(tmp_path / "ckpt"), "--json", str(out), "--sample", "20"])
    text = capsys.readouterr().out
    assert code == 0
    assert "including the position table (256)" in text and "MFU" in text and "tokens/s" in text
    summary = json.loads(out.read_text())
    assert summary["iters"] == 6 and summary["dataset"] == "shakespeare_char"
    assert [r["step"] for r in summary["history"]] == [0, 3, 6]
    assert (tmp_path / "ckpt" / CHECKPOINT_NAME).is_file()


def test_evaluation_is_float32_even_when_training_uses_bf16_autocast():
    """bf16's 7-bit mantissa would blur the 0.01-bit comparisons evaluations feed: scoring ignores
    the device's autocast (issue 15), so it equals the float32 score exactly."""
    from middleground.gpt.core import evaluate, fixed_batches, window_losses

    bf16_cpu = device_mod.Device("cpu", "CPU under bf16 autocast (test)", torch.bfloat16)
    fp32_cpu = device_mod.pick("cpu")
    torch.manual_seed(0)
    model = GPT(SMALL)
    xy = fixed_batches(torch.as_tensor(TOKENS), SMALL.block_size, 8, 2, seed=3)
    assert evaluate(model, xy, bf16_cpu) == evaluate(model, xy, fp32_cpu)
    assert np.array_equal(window_losses(model, xy, bf16_cpu), window_losses(model, xy, fp32_cpu))
    with torch.no_grad(), bf16_cpu.autocast():  # what autocast would have given: measurably different
        _, loss = model(*xy)
    assert abs(loss.item() - evaluate(model, xy, fp32_cpu)) > 1e-6


def test_the_training_log_records_each_run_when_asked(tmp_path, monkeypatch):
    """MIDDLEGROUND_TRAINING_LOG: the caller passes training_log.from_settings() as on_start; one
    JSON line per run started (model, windows per step, steps, members); unset, it is None and
    nothing is written. The trainers themselves read no setting."""
    import numpy as np

    from middleground.gpt import training_log
    from middleground.gpt.ensemble import fit_ensemble
    from middleground.gpt.train import fit
    from middleground.sources.processes import IID

    cfg = GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=2, n_embd=16)
    tc = TrainConfig(max_iters=2, batch_size=4, warmup_iters=0, eval_interval=2, eval_iters=1)
    x = IID.uniform(5).sample(300, np.random.default_rng(0))
    log = tmp_path / "log.jsonl"
    monkeypatch.delenv(training_log.LOG_ENV, raising=False)
    assert training_log.from_settings() is None
    fit(cfg, tc, x[:200], x[200:], on_start=training_log.from_settings())
    assert not log.exists()
    monkeypatch.setenv(training_log.LOG_ENV, str(log))
    fit(cfg, tc, x[:200], x[200:])  # no callback passed: the trainer logs nothing by itself
    assert not log.exists()
    fit(cfg, tc, x[:200], x[200:], on_start=training_log.from_settings())
    fit_ensemble(cfg, tc, [x[:200]] * 3, [x[200:]] * 3, [0, 1, 2], on_start=training_log.from_settings())
    entries = training_log.read(log)
    assert [e["members"] for e in entries] == [1, 3]
    assert all(e["model"]["n_embd"] == 16 and e["batch_size"] == 4 and e["steps"] == 2 for e in entries)
