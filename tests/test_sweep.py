"""The sweep cache: reuse, selective re-execution, no partial results after an interruption, a
code version that covers only what a run depends on; and runs that do not depend on their group."""

import shutil

import numpy as np
import pytest
import torch

from middleground.base.profiles import resolve
from middleground.experiments import capabilities as quanta_sweep
from middleground.experiments import knob as icl_sweep
from middleground.experiments import natural
from middleground.sources.tasks import bayes_position_loss, dirichlet_markov_segments
from middleground.sweeps import cache as sweep
from middleground.sweeps import knob


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
    cold, hot, _ = results
    assert cold["h"] < 0.2 < 1.9 < hot["h"]
    assert len(cold["val_bits"]) == len(cold["steps"]) == len(cold["exact_match"])
    assert all(0.0 <= v <= 1.0 for v in cold["token_accuracy"])
    # the held-out loss is a cross-entropy on the source: it cannot sit far below h
    assert min(hot["val_bits"]) > hot["h"] - 0.1
    # the full profile's final evaluation: the whole held-out stream and every prompt
    assert cold["final"]["n_windows"] == knob.N_VAL // 33 and cold["final"]["n_prompts"] == knob.N_PROMPTS
    assert sweep.run("knob", cells, knob.group_key, knob.train_group)[1]["executed"] == 0


def test_the_evaluation_sizes_are_part_of_a_cell_and_checked():
    quick, full = resolve("knob", "quick"), resolve("knob", "full")
    assert (full.eval_symbols, full.eval_prompts, full.curve_points) == (knob.N_VAL, knob.N_PROMPTS,
                                                                         knob.CURVE_POINTS)
    a = knob.cells("noise", [0.1], [0], 40, n_val=quick.eval_symbols, n_prompts=quick.eval_prompts)[0]
    b = knob.cells("noise", [0.1], [0], 40)[0]
    assert (a["n_val"], a["n_prompts"]) == (67_584, 128)
    # different evaluations are different runs, never stacked into one group
    assert knob.group_key(a) != knob.group_key(b)
    with pytest.raises(ValueError, match="n_prompts must be an integer >= 64"):
        knob.cells("noise", [0.1], [0], 40, n_prompts=32)
    with pytest.raises(ValueError, match=r"curve_points must be an integer in \[2, iters=40\]"):
        knob.cells("noise", [0.1], [0], 40, curve_points=41)
    # the schedule's rates and the training stream's length are a cell's too (issue 24's pilots vary them)
    assert (b["learning_rate"], b["min_lr"], b["n_train"]) == (3e-3, 3e-4, knob.N_TRAIN)
    faster = knob.cells("noise", [0.1], [0], 40, learning_rate=1e-2, min_lr=1e-3, n_train=200_000)[0]
    assert knob.group_key(faster) != knob.group_key(b)
    assert knob.sweep_train_config(40, learning_rate=1e-2, min_lr=1e-3).min_lr == 1e-3
    with pytest.raises(ValueError, match="min_lr must be in"):
        knob.cells("noise", [0.1], [0], 40, learning_rate=1e-3, min_lr=1e-2)


def test_dirichlet_segments_and_the_bayes_predictor():
    rng = np.random.default_rng(0)
    segs = dirichlet_markov_segments(2000, 40, 3, 0.5, rng)
    assert segs.shape == (2000, 40) and segs.min() >= 0 and segs.max() <= 2
    bayes = bayes_position_loss(segs, 3, 0.5)
    # the first prediction knows nothing: log2(3) bits; later ones learn the chain in context
    assert bayes[0] == pytest.approx(np.log2(3), abs=0.05)
    assert bayes[-1] < bayes[0] - 0.3
    with pytest.raises(ValueError, match="alpha must be positive"):
        dirichlet_markov_segments(1, 5, 3, 0.0, rng)


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package for the cache's code version to read, so tests can edit it."""
    copy = tmp_path / "pkg"
    shutil.copytree(sweep.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sweep, "PACKAGE", copy)
    return copy


def test_the_code_version_covers_what_a_run_depends_on_and_not_the_book(cache, package_copy):
    log = []
    sweep.run("demo", grid(lrs=(1,)), by_lr, make_trainer(log))
    # the book's tooling and a chapter's own module: a chart colour retrains nothing
    charts = package_copy / "book" / "charts.py"
    charts.write_text(charts.read_text().replace('"#', '"#0', 1))
    chapter = package_copy / "experiments" / "intro.py"
    chapter.write_text(chapter.read_text() + "\n# an edit to the intro's experiment\n")
    assert sweep.run("demo", grid(lrs=(1,)), by_lr, make_trainer(log))[1]["executed"] == 0
    # the training core: everything retrains
    core = package_copy / "gpt" / "core.py"
    core.write_text(core.read_text() + "\n# a change to the training core\n")
    assert sweep.run("demo", grid(lrs=(1,)), by_lr, make_trainer(log))[1]["executed"] == 3


def test_the_code_version_includes_the_group_trainers_module(tmp_path):
    trainer = tmp_path / "trainer.py"
    trainer.write_text("def train_group(cells): return []\n")
    before = sweep.code_version(trainer)
    trainer.write_text("def train_group(cells): return [1]\n")
    assert sweep.code_version(trainer) != before and sweep.code_version() != before


# --- a run depends only on itself ------------------------------------------------------------------
#
# "The same numbers" (float64): equal to 1e-10 with the same torch thread count; measured here,
# the differences are 0 (knob model) and 4e-15 (text model). In float32 the members of a stacked
# ensemble run through batched kernels whose blocking depends on the number of members, so the
# sums inside one member are added in another order: each step's gradients differ by float32
# rounding (eps = 1.2e-7 relative) and training carries those differences forward. Measured on
# this project's CPU machines after 16-24 steps: 0 for the knob model (vocabulary 4, width 32) and
# 1.6e-5 relative for the text model (vocabulary 65, width 48). We allow 1e-4 relative: about ten
# times the largest effect seen, and ten times below the last digit the book prints of a loss
# (three decimals of about 2-5 bits), so a group can never change a printed number.
FLOAT64_TOL = 1e-10
FLOAT32_TOL = 1e-4
# A held-out stream of 1,024 windows instead of the sweep's 13,901, and the 64 curve prompts only,
# for the tests that compare runs with each other: the final evaluation scores each member on its
# own stream and prompts, so their number cannot couple members, and a fraction of them keeps these
# tests to seconds (the sweep's own sizes are tested by the book build and
# test_the_knob_sweep_trains_real_cells_and_caches_them).
SHORT_VAL = 1024 * (knob.SWEEP_MODEL.block_size + 1)


def short(cells: list[dict]) -> list[dict]:
    return [{**c, "n_val": SHORT_VAL, "n_prompts": knob.N_CURVE_PROMPTS, "curve_points": 4} for c in cells]


def train_in(train_group, group, index, dtype):
    torch.set_default_dtype(dtype)
    try:
        return train_group(group)[index]
    finally:
        torch.set_default_dtype(torch.float32)


def assert_same_run(a: dict, b: dict, tol: float):
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, dict):  # the final evaluation
            assert_same_run(value, b[key], tol)
            continue
        flat_a = np.asarray(value, dtype=object).ravel()
        flat_b = np.asarray(b[key], dtype=object).ravel()
        assert flat_a.shape == flat_b.shape, key
        for x, y in zip(flat_a, flat_b):
            if isinstance(x, float) and isinstance(y, float):
                assert abs(x - y) <= tol * max(1.0, abs(x)), (key, x, y)
            else:
                assert x == y, (key, x, y)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, FLOAT64_TOL), (torch.float32, FLOAT32_TOL)],
                         ids=["float64", "float32"])
def test_a_knob_cell_gives_the_same_numbers_alone_and_in_any_group(dtype, tol):
    """One cell alone, then in groups of 2 and of 4 with other companions and at other positions
    (another seed of the same knob setting among them, as raising n_seeds would add)."""
    threads = torch.get_num_threads()
    cell = short(knob.cells("temperature", [1.0], [0], iters=24))[0]
    same_knob_other_seed = short(knob.cells("temperature", [1.0], [1], iters=24))[0]
    others = short(knob.cells("temperature", [0.3], [2], 24) + knob.cells("noise", [0.2], [5], 24))
    alone = train_in(knob.train_group, [cell], 0, dtype)
    groups = [([same_knob_other_seed, cell], 1), ([cell, same_knob_other_seed] + others, 0),
              (others + [same_knob_other_seed, cell], 3)]
    for group, index in groups:
        assert_same_run(alone, train_in(knob.train_group, group, index, dtype), tol)
    assert torch.get_num_threads() == threads
    assert alone["exact_match"][-1] is not None and len(alone["val_bits"]) == len(alone["steps"])
    assert alone["final"]["n_prompts"] == knob.N_CURVE_PROMPTS and alone["final"]["excess_floor_se"] > 0
    assert alone["final"]["n_windows"] == 1024


def test_the_ladder_shares_its_top_rung_with_the_standard_sweep():
    """Under every profile the ladder's largest model is the knob chapter's model (at the sweep's
    width, which grows under gpu), so the cache serves both chapters from the same runs; widths are
    √2 apart and span 16x in parameters (full)."""
    for profile in ("quick", "full", "gpu"):
        test_cfg = resolve("ladder", profile)
        knob_cfg = resolve("knob", profile)
        widths = knob.ladder_widths(test_cfg.rungs, test_cfg.width)
        ladder = knob.ladder_cells(test_cfg.knob_points, test_cfg.n_seeds, test_cfg.iters, 0, widths,
                                   **knob.evaluation(test_cfg))
        standard = knob.standard_cells(knob_cfg.knob_points, knob_cfg.n_seeds, knob_cfg.iters, 0,
                                       knob_cfg.width, **knob.evaluation(knob_cfg))
        top = [c for c in ladder if c["model"]["n_embd"] == widths[-1]]
        assert top and all(c in standard for c in top)
    widths = knob.ladder_widths(resolve("ladder", "full").rungs, 32)
    n = [knob.non_embedding_params(w) for w in widths]
    assert n[-1] >= 16 * n[0] and all(b > 1.6 * a for a, b in zip(n, n[1:]))
    with pytest.raises(ValueError, match="rungs"):
        knob.ladder_widths(2, 32)
    with pytest.raises(ValueError, match="width"):
        knob.ladder_widths(5, 31)


@pytest.mark.parametrize("make,trainer", [
    (lambda: icl_sweep.icl_cells([0.3, 3.0], [0], 16), icl_sweep.train_icl_group),
    (lambda: quanta_sweep.quanta_cells(4, [0, 1], 16), quanta_sweep.train_quanta_group),
    (lambda: natural.cells(["original", "noise 0.3"], [0], 16, 0, 20_000), natural.train_group),
], ids=["icl", "quanta", "natural"])
def test_every_sweep_cell_gives_the_same_numbers_alone_and_in_a_group(make, trainer):
    first, second = make()
    alone = train_in(trainer, [first], 0, torch.float32)
    assert_same_run(alone, train_in(trainer, [second, first], 1, torch.float32), FLOAT32_TOL)


def test_deleting_one_cached_cell_and_rebuilding_gives_the_same_numbers(cache):
    cells = short(knob.cells("temperature", [0.3, 1.0], [0, 1], iters=24))
    first, counts = sweep.run("knob", cells, knob.group_key, knob.train_group)
    assert counts["groups"] == 1 and counts["executed"] == 4  # all four trained together
    victim = sweep.cache_root() / "knob" / f"{sweep.cell_key(cells[2], _version())}.json"
    victim.unlink()
    again, counts = sweep.run("knob", cells, knob.group_key, knob.train_group)
    assert counts["executed"] == 1  # the deleted cell, now trained alone
    for a, b in zip(first, again):
        assert_same_run(a, b, FLOAT32_TOL)


def _version():
    import inspect
    from pathlib import Path

    return sweep.code_version(Path(inspect.getsourcefile(knob.train_group)))
