"""Hardening of the trainer and its command line (issue 12): every bad input and every failure on
the way ends in one clear line and an exit status (2 bad input, 1 failure), checked before work
starts where it can be, with nothing half-written. Each test reproduces a defect found by trying
the trainer as a careless or unlucky user would."""

import errno
import json
import os
import threading

import numpy as np
import pytest
import torch

from middleground.base import files
from middleground.base.locks import FolderBusy, exclusive
from middleground.gpt import train as train_mod
from middleground.gpt.model import GPTConfig
from middleground.gpt.train import CHECKPOINT_NAME, CheckpointError, TrainConfig, fit, load_checkpoint
from middleground.sources.processes import IID

SMALL = GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16)
TOKENS = IID.uniform(12).sample(6000, np.random.default_rng(0))
TC = TrainConfig(max_iters=6, batch_size=4, eval_interval=2, eval_iters=1, warmup_iters=1, seed=3)
TINY_CLI = ["--n_layer=1", "--n_head=2", "--n_embd=16", "--block_size=16", "--batch_size=4",
            "--max_iters=4", "--eval_interval=2", "--eval_iters=1", "--warmup_iters=1",
            "--dropout=0.0", "--device=cpu"]


def _cli(argv, capsys):
    """Run the command line; return (exit status, stderr). argparse errors exit via SystemExit."""
    try:
        code = train_mod.main(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and "Traceback" not in err, err
    return lines[-1]


@pytest.fixture
def no_dataset(monkeypatch):
    """Fail the test if the command line loads the corpus: checks must come before any work."""
    def refuse():
        raise AssertionError("the corpus was loaded before the bad input was refused")
    monkeypatch.setitem(train_mod.DATASETS, "shakespeare_char", refuse)


def _tiny_dataset(monkeypatch, n=3000):
    from middleground.gpt.text import CharVocab

    vocab = CharVocab.from_text("abcdefghijkl")
    monkeypatch.setitem(train_mod.DATASETS, "shakespeare_char",
                        lambda: (TOKENS[:n], TOKENS[n:n + 2000], vocab))


# --- 1. concurrent writers ------------------------------------------------------------------------

def test_concurrent_writers_of_one_file_never_crash_and_a_reader_never_sees_a_part(tmp_path):
    """The issue's first report (a fixed ``<name>.partial`` temp name: concurrent writers crashed
    renaming each other's temp file, a reader saw empty files) was already fixed by unique temp
    names before this work; this guards it, now that temp files are also locked and cleaned."""
    target = tmp_path / "result.json"
    files.write_json(target, {"writer": -1, "payload": []})
    errors, bad_reads = [], []
    stop = threading.Event()

    def writer(i):
        try:
            for n in range(60):
                files.write_json(target, {"writer": i, "payload": list(range(50 * (n % 7)))})
        except Exception as e:  # noqa: BLE001 - the test reports any failure
            errors.append(e)

    def reader():
        while not stop.is_set():
            try:
                json.loads(target.read_text())
            except (json.JSONDecodeError, FileNotFoundError) as e:
                bad_reads.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    r.join()
    assert errors == [] and bad_reads == []
    assert not list(tmp_path.glob("*.partial"))


_HOLD_LOCK = """\
import sys, time
from middleground.base.locks import exclusive
with exclusive(sys.argv[1], "out_dir"):
    print("holding", flush=True)
    time.sleep(120)
"""


def test_a_second_trainer_on_a_busy_out_dir_is_refused_at_once(tmp_path, monkeypatch, capsys):
    import subprocess
    import sys

    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(out)], stdout=subprocess.PIPE,
                              text=True)  # another trainer, as far as the lock can tell
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(FolderBusy, match=f"out_dir .* is in use by process {holder.pid} on"):
            fit(SMALL, TC, TOKENS[:5000], TOKENS[5000:], out_dir=out)

        def refuse():
            raise AssertionError("the corpus was loaded although the out_dir is busy")

        monkeypatch.setitem(train_mod.DATASETS, "shakespeare_char", refuse)
        code, err = _cli(TINY_CLI + ["--out_dir", str(out)], capsys)
    finally:
        holder.kill()
        holder.wait()
    assert code == 1 and f"in use by process {holder.pid}" in _one_line_error(err)
    assert not (out / CHECKPOINT_NAME).exists()
    fit(SMALL, TC, TOKENS[:5000], TOKENS[5000:], out_dir=out)  # free again once the holder is gone
    assert (out / CHECKPOINT_NAME).is_file()


def test_the_lock_is_reentrant_in_one_thread_and_refuses_another_thread(tmp_path):
    with exclusive(tmp_path, "out_dir"):
        with exclusive(tmp_path, "out_dir"):  # the command line holds it, then fit takes it again
            pass
        errors = []
        t = threading.Thread(target=lambda: errors.append(
            pytest.raises(FolderBusy, exclusive(tmp_path, "out_dir").__enter__)))
        t.start()
        t.join()
        assert len(errors) == 1
    with exclusive(tmp_path, "out_dir"):  # released by the outer block
        pass


# --- 4. resume with another configuration -----------------------------------------------------------

def test_resume_with_another_configuration_is_refused_naming_each_change(tmp_path):
    fit(SMALL, TC, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, stop_after=2)
    changed = TrainConfig(**{**TC.__dict__, "learning_rate": 2e-3, "seed": 4})
    with pytest.raises(CheckpointError, match=r"learning_rate 0\.001 -> 0\.002; seed 3 -> 4"):
        fit(SMALL, changed, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, resume=True)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["iter"] == 2  # untouched


def test_allowed_changes_are_recorded_segment_by_segment(tmp_path):
    fit(SMALL, TC, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, stop_after=2)
    changed = TrainConfig(**{**TC.__dict__, "learning_rate": 2e-3})
    run = fit(SMALL, changed, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, resume=True,
              allow_changes=True)
    segments = run.summary()["segments"]
    assert [s["start_iter"] for s in segments] == [0, 2]
    assert [s["train_cfg"]["learning_rate"] for s in segments] == [1e-3, 2e-3]
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["segments"] == segments
    # the schedule's rates in the history follow the segment that ran them
    assert run.history[-1]["lr"] == pytest.approx(train_mod.lr_at(5, changed))


def test_resume_past_max_iters_is_refused(tmp_path):
    """Before: resuming a 10-iteration checkpoint with max_iters 5 wrote ``iters 10`` beside
    ``max_iters 5``."""
    fit(SMALL, TC, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path)
    shorter = TrainConfig(**{**TC.__dict__, "max_iters": 4, "warmup_iters": 1})
    with pytest.raises(CheckpointError, match="at iteration 6, past max_iters = 4"):
        fit(SMALL, shorter, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path, resume=True,
            allow_changes=True)


def test_cli_resume_with_other_settings_exits_2_and_allow_changes_continues(tmp_path, monkeypatch, capsys):
    _tiny_dataset(monkeypatch)
    out = tmp_path / "run"
    assert _cli(TINY_CLI + ["--out_dir", str(out)], capsys)[0] == 0
    code, err = _cli(TINY_CLI + ["--out_dir", str(out), "--resume", "--max_iters=8",
                                 "--learning_rate=0.002"], capsys)
    assert code == 2 and "learning_rate 0.001 -> 0.002" in _one_line_error(err)
    summary = tmp_path / "s.json"
    code, _ = _cli(TINY_CLI + ["--out_dir", str(out), "--resume", "--max_iters=8", "--allow_changes",
                               "--json", str(summary)], capsys)
    assert code == 0
    s = json.loads(summary.read_text())
    assert s["iters"] == 8 and [g["start_iter"] for g in s["segments"]] == [0, 4]
    assert [g["train_cfg"]["max_iters"] for g in s["segments"]] == [4, 8]


# --- 5. output locations checked before any work ------------------------------------------------

def test_an_out_dir_that_is_a_file_is_refused_before_any_work(tmp_path, no_dataset, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, err = _cli(TINY_CLI + ["--out_dir", str(blocker)], capsys)
    assert code == 2 and "--out_dir" in err and "is a file, not a folder" in err
    code, err = _cli(TINY_CLI + ["--out_dir", str(blocker / "below")], capsys)
    assert code == 2 and "is a file, not a folder" in err


def test_a_json_path_that_is_a_folder_is_refused_before_any_work(tmp_path, no_dataset, capsys):
    """Before: refused only after the whole run, losing the summary."""
    code, err = _cli(TINY_CLI + ["--json", str(tmp_path)], capsys)
    assert code == 2 and "--json" in err and "is a folder" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission")
def test_an_unwritable_out_dir_is_refused_before_any_work(tmp_path, no_dataset, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, err = _cli(TINY_CLI + ["--out_dir", str(locked)], capsys)
    assert code == 2 and "is not writable" in err


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's sysfs, where no one may write")
def test_an_out_dir_no_one_can_write_is_refused_before_any_work_even_for_root(no_dataset, capsys):
    """The check is a real write, so it holds for root too: sysfs refuses every new file."""
    code, err = _cli(TINY_CLI + ["--out_dir", "/sys/kernel"], capsys)
    assert code == 2 and "--out_dir /sys/kernel is not writable" in err
    code, err = _cli(TINY_CLI + ["--out_dir", "/sys/kernel/middleground-run"], capsys)
    assert code == 2 and "cannot be created" in err


# --- 7. errors users will hit: one line, a status, nothing half-written ----------------------------

def test_an_unavailable_corpus_is_one_line_and_exit_1(monkeypatch, isolated_cache, capsys):
    monkeypatch.setenv("MIDDLEGROUND_DATA_MIRROR", "")
    monkeypatch.setenv("MIDDLEGROUND_OFFLINE", "1")
    code, err = _cli(TINY_CLI, capsys)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: corpus 'tinyshakespeare' is not available")


def test_a_context_longer_than_the_data_is_refused_with_the_limit(monkeypatch, capsys):
    _tiny_dataset(monkeypatch)
    code, err = _cli(TINY_CLI + ["--block_size=2500"], capsys)
    assert code == 2
    assert "--block_size 2500 is too long for the val split" in _one_line_error(err)
    assert "use at most 1999" in err


def test_divergence_says_clipping_is_on_and_which_checkpoint_is_good(tmp_path, monkeypatch, capsys):
    """Before: "lower learning_rate or enable grad_clip" although clipping was on, as a traceback."""
    _tiny_dataset(monkeypatch)
    real_step, calls = train_mod.accumulate, []

    def diverging(*args, **kwargs):
        calls.append(1)
        loss = real_step(*args, **kwargs)
        return loss if len(calls) < 3 else loss * float("nan")

    monkeypatch.setattr(train_mod, "accumulate", diverging)
    code, err = _cli(TINY_CLI + ["--out_dir", str(tmp_path)], capsys)
    line = _one_line_error(err)
    assert code == 1 and "training loss became nan at iteration 2" in line
    assert "already clipped at norm 1.0" in line and "(iteration 2) predates it" in line
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["iter"] == 2


@pytest.mark.parametrize("seed", [str(2**64), "-1"])
def test_a_seed_outside_the_generator_range_is_refused(seed, no_dataset, capsys):
    code, err = _cli(TINY_CLI + ["--seed", seed], capsys)
    assert code == 2 and "seed must be an integer in [0, 2**64 - 1]" in err


def test_the_largest_seed_is_accepted():
    run = fit(SMALL, TrainConfig(**{**TC.__dict__, "seed": 2**64 - 1, "max_iters": 2}),
              TOKENS[:5000], TOKENS[5000:])
    assert run.history[-1]["step"] == 2


def test_a_foreign_checkpoint_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    """Before: ``KeyError: 'model_cfg'``."""
    _tiny_dataset(monkeypatch)
    torch.save({"weights": torch.zeros(3)}, tmp_path / CHECKPOINT_NAME)
    code, err = _cli(TINY_CLI + ["--out_dir", str(tmp_path), "--resume"], capsys)
    assert code == 2 and "is not a checkpoint of this trainer (it lacks model_cfg" in _one_line_error(err)


def test_a_full_disk_is_one_line_exit_1_and_leaves_the_last_checkpoint(tmp_path, monkeypatch, capsys):
    _tiny_dataset(monkeypatch)
    out = tmp_path / "run"
    assert _cli(TINY_CLI + ["--out_dir", str(out)], capsys)[0] == 0
    before = (out / CHECKPOINT_NAME).read_bytes()

    def full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    code, err = _cli(TINY_CLI + ["--out_dir", str(out), "--resume", "--max_iters=8",
                                 "--allow_changes"], capsys)
    assert code == 1
    assert _one_line_error(err) == f"error: could not write {out / CHECKPOINT_NAME}: No space left on device"
    assert (out / CHECKPOINT_NAME).read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [".lock", CHECKPOINT_NAME]


# --- 8. NaN and infinity ----------------------------------------------------------------------------

@pytest.mark.parametrize("flag, value, message", [
    ("--weight_decay", "nan", "weight_decay must be a finite number"),
    ("--grad_clip", "nan", "grad_clip must be a finite number"),
    ("--grad_clip", "inf", "grad_clip must be a finite number"),
    ("--learning_rate", "1e30", "learning_rate must be in (0, 1.0]"),
    ("--learning_rate", "nan", "learning_rate must be a finite number"),
    ("--min_lr=-inf", None, "min_lr must be a finite number"),
    ("--beta1", "nan", "beta1 must be a finite number"),
    ("--weight_decay", "2000", "weight_decay must be in [0, 1 / learning_rate = 1000)"),
    ("--dropout", "nan", "dropout must be in [0, 1)"),
])
def test_non_finite_and_absurd_values_are_refused(flag, value, message, no_dataset, capsys):
    """Before: ``--grad_clip nan`` silently disabled clipping; nan and 1e30 passed validation."""
    code, err = _cli(TINY_CLI + [flag] + ([value] if value is not None else []), capsys)
    assert code == 2 and message in err


def test_numpy_scalars_are_accepted_and_stored_as_plain_numbers():
    tc = TrainConfig(max_iters=np.int64(3), learning_rate=np.float32(0.002), seed=np.uint64(7))
    assert type(tc.max_iters) is int and type(tc.learning_rate) is float and type(tc.seed) is int
    json.dumps(tc.__dict__)
    with pytest.raises(ValueError, match="max_iters must be an integer >= 1; got 2.5"):
        TrainConfig(max_iters=2.5)


# --- 12. temporary files of killed runs ------------------------------------------------------------

def test_temporary_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    """Before: ``ckpt.pt.partial`` (38 MB) survived 3 of 8 kills, for good."""
    stale = tmp_path / f".{CHECKPOINT_NAME}.x1y2z3.partial"        # a killed writer's
    legacy = tmp_path / f"{CHECKPOINT_NAME}.partial"               # an older version's name
    young = tmp_path / f".{CHECKPOINT_NAME}.q1w2e3.creating"       # being made right now
    unrelated = tmp_path / "notes.partial"                         # not ours
    for p in (stale, legacy, young, unrelated):
        p.write_bytes(b"x" * 100)
    with files.temporary_file(tmp_path / "other.json") as live:    # a live writer's, locked
        fit(SMALL, TC, TOKENS[:5000], TOKENS[5000:], out_dir=tmp_path)
        assert live.exists()
    assert not stale.exists() and not legacy.exists()
    assert young.exists() and unrelated.exists()
    assert (tmp_path / CHECKPOINT_NAME).is_file()


_HOLD = """\
import sys, time
from pathlib import Path
from middleground.base import files
with files.temporary_file(Path(sys.argv[1])) as tmp:
    print(tmp, flush=True)
    time.sleep(120)
"""


def test_another_process_writing_keeps_its_file_until_it_dies(tmp_path):
    """The cleaner judges by the lock, not by names or pids: a live writer in another process
    (another container, another PID namespace alike) is never touched."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    writer = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path / "cell.json")],
                              stdout=subprocess.PIPE, text=True)
    tmp = Path(writer.stdout.readline().strip())
    assert tmp.exists() and files.remove_stale_partials(tmp_path) == [] and tmp.exists()
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert files.remove_stale_partials(tmp_path) == [tmp] and not tmp.exists()
