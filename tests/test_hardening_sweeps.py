"""Hardening of the sweep cache (issue 12): a cache that cannot be written is refused before any
training, a cached file is trusted only if it is a whole record of its cell, a sweep name cannot
leave the cache, and a sweep killed at random moments (SIGKILL) leaves only whole cells, no
temporary file survives the next run, and the finished sweep equals an uninterrupted one.

The cells here train real (tiny) GPTs with the book's trainer, one torch thread each, so "equal"
is exact equality of every number."""

import json
import random
import signal
import time
from pathlib import Path

import pytest
import torch

import forkserver
import tiny_sweep
from middleground.sweeps import cache as sweep
from tiny_sweep import NAME, tiny_cells

N_KILLS = 10


def sweep_process(root: str, result: str | None = None) -> None:
    """A sweep as its own process: every cell of :func:`tiny_sweep.tiny_cells` into ``root``."""
    torch.set_num_threads(1)
    results, counts = tiny_sweep.run_sweep(root)
    if result is not None:
        Path(result).write_text(json.dumps({"results": results, "counts": counts}))


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    root = tmp_path / "sweeps"
    monkeypatch.setenv("MIDDLEGROUND_SWEEP_CACHE", str(root))
    return root


def _one_cell(cells):
    return [{"value": c["x"] * 2} for c in cells]


# --- 5. the cache location is checked before any training --------------------------------------------

def test_a_cache_root_that_is_a_file_is_refused_before_training(tmp_path, monkeypatch):
    """Before: the group trained, then its results were thrown away when the write failed."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("MIDDLEGROUND_SWEEP_CACHE", str(blocker))
    trained = []
    with pytest.raises(ValueError, match=r"MIDDLEGROUND_SWEEP_CACHE.*is a file, not a folder"):
        sweep.run("s", [{"x": 1}], lambda c: (), lambda cells: trained.extend(cells) or _one_cell(cells))
    assert trained == []


# --- 10. what the reader trusts, and where a sweep may write -------------------------------------------

@pytest.mark.parametrize("content", [b"[1, 2, 3]", b"null", b'"text"', b"{}", b'{"result": 5}',
                                     bytes(range(256)), b"\xff\xfe\x00garbage", b""])
def test_a_cached_file_of_the_wrong_shape_or_garbage_is_recomputed(cache_root, content):
    """Before: valid JSON of the wrong shape and binary garbage crashed the reader."""
    cells = [{"x": 1}, {"x": 2}]
    first, _ = sweep.run("s", cells, lambda c: (), _one_cell)
    files = sorted((cache_root / "s").glob("*.json"))
    files[0].write_bytes(content)
    again, counts = sweep.run("s", cells, lambda c: (), _one_cell)
    assert again == first and counts["executed"] == 1
    assert all(json.loads(f.read_text())["result"] in first for f in files)


def test_a_cached_record_of_another_cell_is_not_trusted(cache_root):
    cells = [{"x": 1}, {"x": 2}]
    sweep.run("s", cells, lambda c: (), _one_cell)
    a, b = sorted((cache_root / "s").glob("*.json"))
    b.write_bytes(a.read_bytes())  # a whole record, but under the other cell's key
    results, counts = sweep.run("s", cells, lambda c: (), _one_cell)
    assert results == [{"value": 2}, {"value": 4}] and counts["executed"] == 1


@pytest.mark.parametrize("name", ["..", ".", "../escape", "/abs", "a/b", "a\\b", "", ".hidden", "-x",
                                  None, 3])
def test_a_sweep_name_cannot_leave_the_cache(cache_root, tmp_path, name):
    """Before: ``sweep.run("..", ...)`` wrote next to the cache root."""
    with pytest.raises(ValueError, match="sweep name must be"):
        sweep.run(name, [{"x": 1}], lambda c: (), _one_cell)
    assert not any(p.suffix == ".json" for p in tmp_path.rglob("*"))


def test_stale_temporary_files_are_removed_and_others_kept(cache_root):
    folder = cache_root / "s"
    folder.mkdir(parents=True)
    dead = folder / ".abc.json.zz9.partial"
    unrelated = folder / "notes.txt"
    for p in (dead, unrelated):
        p.write_text("x")
    sweep.run("s", [{"x": 1}], lambda c: (), _one_cell)
    assert not dead.exists() and unrelated.exists()


def sweep_stuck_in_a_write(root: str, marker: str) -> None:
    """A sweep whose first cell write hangs after its temporary file is whole, before the rename."""
    from middleground.base import files

    def hang(*_args):
        Path(marker).touch()
        time.sleep(600)

    files.os.replace = hang
    sweep_process(root)


def test_a_sweep_killed_in_a_cell_write_leaves_no_cell_and_its_temp_file_is_removed(tmp_path):
    ctx = forkserver.context("middleground.sweeps.cache", "middleground.gpt.train", "tiny_sweep", __name__)
    root, marker = tmp_path / "cache", tmp_path / "in-rename"
    p = ctx.Process(target=sweep_stuck_in_a_write, args=(str(root), str(marker)))
    p.start()
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert marker.exists()
    p.kill()
    p.join()
    folder = root / NAME
    assert len(list(folder.glob(".*.partial"))) == 1 and not list(folder.glob("*.json"))
    result = tmp_path / "result.json"
    p = ctx.Process(target=sweep_process, args=(str(root), str(result)))
    p.start()
    p.join()
    assert p.exitcode == 0 and not list(folder.glob(".*.partial"))
    assert json.loads(result.read_text())["counts"]["executed"] == len(tiny_cells())


# --- a sweep killed at random moments ----------------------------------------------------------------

def test_a_sweep_killed_at_random_moments_leaves_whole_cells_and_finishes_the_same(tmp_path):
    ctx = forkserver.context("middleground.sweeps.cache", "middleground.gpt.train", "tiny_sweep", __name__)
    reference = tmp_path / "reference.json"
    t0 = time.monotonic()
    p = ctx.Process(target=sweep_process, args=(str(tmp_path / "whole"), str(reference)))
    p.start()
    p.join()
    assert p.exitcode == 0
    duration = time.monotonic() - t0
    root = tmp_path / "killed"
    folder = root / NAME
    rng = random.Random(3)
    version = sweep.code_version(tiny_sweep.trainer_file())
    by_key = {sweep.cell_key(c, version): c for c in tiny_cells()}
    whole_counts, partials_seen = [], 0
    for _ in range(N_KILLS):
        p = ctx.Process(target=sweep_process, args=(str(root),))
        p.start()
        time.sleep(rng.uniform(0.0, 0.25) * duration)
        p.kill()
        p.join()
        if p.exitcode != -signal.SIGKILL:  # it finished first: every cell is cached
            assert p.exitcode == 0
        partials_seen += len(list(folder.glob("*.partial"))) if folder.exists() else 0
        cached = list(folder.glob("*.json")) if folder.exists() else []
        for f in cached:  # only whole cells, each a record of its own cell
            assert sweep.read_cell(f, by_key[f.stem], version) is not None, f
        whole_counts.append(len(cached))
    assert whole_counts == sorted(whole_counts) and 0 < whole_counts[-1] < len(by_key), whole_counts
    result = tmp_path / "result.json"
    p = ctx.Process(target=sweep_process, args=(str(root), str(result)))
    p.start()
    p.join()
    assert p.exitcode == 0
    assert not list(folder.glob("*.partial")), "a temporary file survived the next run"
    finished, whole = json.loads(result.read_text()), json.loads(reference.read_text())
    assert finished["results"] == whole["results"]
    assert finished["counts"]["reused"] == whole_counts[-1]
    print(f"sweep {duration:.2f} s; {N_KILLS} kills; whole cells after each: {whole_counts}; "
          f"{partials_seen} temporary file(s) seen after kills")
