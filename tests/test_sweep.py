"""The sweep cache: reuse, selective re-execution, and no partial results after an interruption."""

import numpy as np
import pytest

from middleground import knob, sweep


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIDDLEGROUND_SWEEP_CACHE", str(tmp_path))
    return tmp_path


def make_trainer(log, fail_on=None):
    def train_group(cells):
        if fail_on is not None and any(c["lr"] == fail_on for c in cells):
            raise KeyboardInterrupt("simulated interruption")
        log.append([c["x"] for c in cells])
        return [{"y": c["x"] ** 2 + c["lr"]} for c in cells]
    return train_group


def grid(lrs=(1, 2), xs=(0, 1, 2)):
    return [{"lr": lr, "x": x} for lr in lrs for x in xs]


def by_lr(cell):
    return (cell["lr"],)


def test_a_rerun_executes_nothing(cache):
    log = []
    first, counts = sweep.run("demo", grid(), by_lr, make_trainer(log))
    assert counts == {"cells": 6, "reused": 0, "executed": 6, "groups": 2}
    again, counts = sweep.run("demo", grid(), by_lr, make_trainer(log))
    assert again == first and counts["executed"] == 0 and len(log) == 2


def test_a_changed_cell_re_executes_only_itself(cache):
    log = []
    sweep.run("demo", grid(), by_lr, make_trainer(log))
    cells = grid()
    cells[4] = {"lr": 2, "x": 7}
    results, counts = sweep.run("demo", cells, by_lr, make_trainer(log))
    assert counts["executed"] == 1 and log[-1] == [7]
    assert results[4] == {"y": 51}


def test_an_interrupted_sweep_leaves_no_partial_result(cache):
    log = []
    with pytest.raises(KeyboardInterrupt):
        sweep.run("demo", grid(), by_lr, make_trainer(log, fail_on=2))
    files = list((cache / "demo").iterdir())
    assert len(files) == 3 and all(f.suffix == ".json" for f in files)  # lr=1 group only
    results, counts = sweep.run("demo", grid(), by_lr, make_trainer(log))
    assert counts == {"cells": 6, "reused": 3, "executed": 3, "groups": 1}
    assert [r["y"] for r in results] == [1, 2, 5, 2, 3, 6]


def test_a_corrupt_cache_file_is_recomputed(cache):
    log = []
    sweep.run("demo", grid(lrs=(1,)), by_lr, make_trainer(log))
    victim = next((cache / "demo").iterdir())
    victim.write_text("{not json")
    _, counts = sweep.run("demo", grid(lrs=(1,)), by_lr, make_trainer(log))
    assert counts["executed"] == 1


def test_the_knob_sweep_trains_real_cells_and_caches_them(cache):
    cells = knob.cells("temperature", [0.2, 5.0], [0], iters=30) + knob.cells("hmm", ["even process"], [0], 30)
    results, counts = sweep.run("knob", cells, knob.group_key, knob.train_group)
    assert counts["groups"] == 2 and counts["executed"] == 3
    cold, hot, even = results
    assert cold["h"] < 0.2 < 1.9 < hot["h"]
    assert len(cold["val_bits"]) == len(cold["steps"]) == len(cold["exact_match"])
    assert all(0.0 <= v <= 1.0 for v in cold["token_accuracy"])
    # the held-out loss is a cross-entropy on the source: it cannot sit far below h
    assert min(hot["val_bits"]) > hot["h"] - 0.1
    assert sweep.run("knob", cells, knob.group_key, knob.train_group)[1]["executed"] == 0


def test_dirichlet_segments_and_the_bayes_predictor():
    rng = np.random.default_rng(0)
    segs = knob.dirichlet_markov_segments(2000, 40, 3, 0.5, rng)
    assert segs.shape == (2000, 40) and segs.min() >= 0 and segs.max() <= 2
    bayes = knob.bayes_position_loss(segs, 3, 0.5)
    # the first prediction knows nothing: log2(3) bits; later ones learn the chain in context
    assert bayes[0] == pytest.approx(np.log2(3), abs=0.05)
    assert bayes[-1] < bayes[0] - 0.3
    with pytest.raises(ValueError, match="alpha must be positive"):
        knob.dirichlet_markov_segments(1, 5, 3, 0.0, rng)


def test_a_code_change_invalidates_the_cache(cache, monkeypatch):
    log = []
    sweep.run("demo", grid(lrs=(1,)), by_lr, make_trainer(log))
    monkeypatch.setattr(sweep, "code_version", lambda: "a different code version")
    _, counts = sweep.run("demo", grid(lrs=(1,)), by_lr, make_trainer(log))
    assert counts["executed"] == 3
