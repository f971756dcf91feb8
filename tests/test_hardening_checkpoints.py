"""Hardening of checkpoints (issue 12): a damaged checkpoint is refused, and a trainer killed at
any moment (SIGKILL: no handler runs) leaves a checkpoint that loads, no temporary file survives
the next run, and the resumed run's numbers equal those of a run never interrupted.

The killed trainers are real processes, started from a fork server that has already imported
torch (so each start costs milliseconds, not the second an import takes), each with one torch
thread: "equal" is then exact equality of every loss and every weight."""

import os
import random
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import forkserver
from middleground.gpt.model import GPTConfig
from middleground.gpt.train import CHECKPOINT_NAME, CheckpointError, TrainConfig, fit, load_checkpoint, \
    save_checkpoint
from middleground.sources.processes import IID

CFG = GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.1)
TC = TrainConfig(max_iters=400, batch_size=4, eval_interval=1, eval_iters=1, warmup_iters=5, seed=11)
TOKENS = IID.uniform(12).sample(6000, np.random.default_rng(0))
N_KILLS = 20


def _context():
    return forkserver.context("middleground.gpt.train", __name__)


def train_to_end(out_dir: str, result: str | None = None, block_replace: str | None = None) -> None:
    """A trainer process: resume from ``out_dir`` if it holds a checkpoint, train to the end, and
    save the history and weights to ``result``. ``block_replace``: hang inside the first
    checkpoint write, after the temporary file is whole and before its rename, having created that
    marker file (so the parent can kill the writer at exactly that moment)."""
    torch.set_num_threads(1)
    if block_replace is not None:
        from middleground.base import files

        def hang(*_args):
            Path(block_replace).touch()
            time.sleep(600)

        files.os.replace = hang
    out = Path(out_dir)
    run = fit(CFG, TC, TOKENS[:5000], TOKENS[5000:], out_dir=out,
              resume=(out / CHECKPOINT_NAME).is_file())
    if result is not None:
        torch.save({"history": run.history, "model": run.model.state_dict()}, result)


def _run(ctx, *args, timeout=120):
    p = ctx.Process(target=train_to_end, args=args)
    p.start()
    p.join(timeout)
    assert p.exitcode == 0, f"trainer exited with {p.exitcode}"


def _same_run(a: dict, b: dict) -> None:
    assert a["history"] == b["history"]
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k


def test_a_bit_rotted_checkpoint_is_refused_naming_the_file(tmp_path):
    """Before: flipping 64 bytes loaded silently (exp_avg_sq = -1.3e11), and training later died of NaN."""
    fit(CFG, TrainConfig(max_iters=4, batch_size=4, eval_interval=2, eval_iters=1, warmup_iters=1),
        TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path)
    path = tmp_path / CHECKPOINT_NAME
    good = path.read_bytes()
    rng = np.random.default_rng(0)
    for start in rng.integers(0, len(good) - 64, 40):
        rotted = bytearray(good)
        rotted[start:start + 64] = bytes(b ^ 0xFF for b in rotted[start:start + 64])
        path.write_bytes(bytes(rotted))
        with pytest.raises(CheckpointError, match=f"checkpoint {path} is damaged"):
            load_checkpoint(path)
    path.write_bytes(good)
    assert load_checkpoint(path)["iter"] == 4


def test_a_truncated_checkpoint_is_refused(tmp_path):
    save_checkpoint(tmp_path / "x.pt", {"w": torch.zeros(1000)})
    data = (tmp_path / "x.pt").read_bytes()
    (tmp_path / "x.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged or not a checkpoint"):
        load_checkpoint(tmp_path / "x.pt")


def test_a_checkpoint_write_killed_before_its_rename_leaves_the_old_one_and_is_cleaned(tmp_path):
    ctx = _context()
    reference = tmp_path / "reference.pt"
    _run(ctx, str(tmp_path / "whole"), str(reference))
    out = tmp_path / "run"
    out.mkdir()
    marker = tmp_path / "in-rename"
    p = ctx.Process(target=train_to_end, args=(str(out), None, str(marker)))
    p.start()
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert marker.exists(), "the trainer never reached its first checkpoint write"
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    assert p.exitcode == -signal.SIGKILL
    assert len(list(out.glob(f".{CHECKPOINT_NAME}.*.partial"))) == 1  # the write in flight
    assert not (out / CHECKPOINT_NAME).exists()  # never renamed: no half checkpoint under the name
    result = tmp_path / "result.pt"
    _run(ctx, str(out), str(result))
    assert not list(out.glob("*.partial"))
    _same_run(torch.load(result), torch.load(reference))


def test_a_trainer_killed_at_random_moments_always_resumes_to_the_same_numbers(tmp_path):
    """20 SIGKILLs at random moments (checkpoints are written every iteration, so some land in a
    write): after each, the checkpoint loads; the final run equals an uninterrupted one exactly."""
    ctx = _context()
    reference, whole = tmp_path / "reference.pt", tmp_path / "whole"
    t0 = time.monotonic()
    p = ctx.Process(target=train_to_end, args=(str(whole), str(reference)))
    p.start()
    while not (whole / CHECKPOINT_NAME).exists() and p.is_alive():
        time.sleep(0.002)
    startup = time.monotonic() - t0  # until the first checkpoint
    p.join()
    assert p.exitcode == 0
    training = time.monotonic() - t0 - startup
    out = tmp_path / "run"
    out.mkdir()
    rng = random.Random(12)
    iters, partials_seen, kills = [], 0, 0
    for _ in range(N_KILLS):
        p = ctx.Process(target=train_to_end, args=(str(out),))
        p.start()
        # at most 4 % of the training per attempt beyond the start-up, so 20 attempts rarely
        # finish the run; on a loaded machine one may still outrun its moment and end the run
        time.sleep(rng.uniform(0.0, startup + 0.04 * training))
        p.kill()  # SIGKILL
        p.join()
        if p.exitcode == 0:  # it finished the whole run before its kill: no further kill can land
            assert load_checkpoint(out / CHECKPOINT_NAME)["iter"] == TC.max_iters
            break
        assert p.exitcode == -signal.SIGKILL, f"the trainer failed ({p.exitcode})"
        kills += 1
        partials_seen += len(list(out.glob("*.partial")))
        if (out / CHECKPOINT_NAME).exists():
            iters.append(load_checkpoint(out / CHECKPOINT_NAME)["iter"])  # always loads
    assert kills >= N_KILLS // 2, f"only {kills} kills landed before the run finished"
    assert iters == sorted(iters) and iters and iters[-1] < TC.max_iters, iters
    result = tmp_path / "result.pt"
    _run(ctx, str(out), str(result))
    assert not list(out.glob("*.partial")), "a temporary file survived the next run"
    _same_run(torch.load(result), torch.load(reference))
    print(f"start-up {startup:.2f} s, training {training:.2f} s; {kills} kills; checkpoints at iterations {iters}; "
          f"{partials_seen} temporary file(s) left by kills, all removed")
