"""The ``gpu`` profile, ready for the first GPU it meets: every model it trains is built and takes
two optimisation steps here on the CPU, under bf16 autocast, eagerly and (once per architecture)
compiled; the plan's costs rest on checked counts."""

import math
from dataclasses import replace

import pytest
import torch

from middleground.base.profiles import resolve
from middleground.experiments import central_design, frozen_plan, plan
from middleground.gpt import budget
from middleground.gpt.device import Device
from middleground.gpt.flops import flops_per_token
from middleground.gpt.model import GPT, GPTConfig
from middleground.sweeps import knob

BF16_CPU = Device("cpu", "CPU under bf16 autocast (dry run)", torch.bfloat16)


def _distinct(rows):
    """One row per (model, trained alone or stacked): what a dry run has to build."""
    out = {}
    for r in rows:
        out.setdefault((r.model, r.members > 1), r)
    return list(out.values())


GPU_ROWS = [r for rows in plan.book("gpu").values() for r in rows]


@pytest.mark.parametrize("row", _distinct(GPU_ROWS), ids=lambda r: f"{r.what}-{r.model.n_layer}x{r.model.n_embd}"
                         f"-T{r.model.block_size}-V{r.model.vocab_size}-m{r.members}")
def test_every_gpu_model_builds_and_takes_two_steps_under_bf16(row):
    out = budget.dry_run(row, BF16_CPU, steps=2)
    assert len(out["losses"]) == 2 and len(out["losses"][0]) == min(row.members, 2)
    # a fresh GPT predicts about uniformly: its first loss is near ln(vocabulary)
    assert all(abs(v - math.log(row.model.vocab_size)) < 0.5 for v in out["losses"][0])


def test_the_gpu_table_adds_up():
    """The appendix's totals: every row's time is its training at 40 % of the bf16 peak plus its
    evaluations at 40 % of the float32 peak; the largest rows are the chapters' big models."""
    rows = [r for rs in plan.book("gpu").values() for r in rs]
    for r in rows:
        assert r.gpu_seconds() == pytest.approx(r.flops() / (0.4 * budget.H100_BF16_FLOPS)
                                                + r.eval_flops() / (0.4 * budget.H100_FP32_FLOPS))
        assert r.memory_bytes() > budget.STATE_BYTES_PER_PARAM * r.n_params * r.members
    biggest = max(rows, key=lambda r: r.flops())
    assert biggest.model.n_embd == resolve("training", "gpu").n_embd


@pytest.mark.parametrize("chapter, what", [("training", "nanoGPT's recipe"), ("knob", "standard sweep")])
def test_one_compiled_dry_run_per_architecture_matches_the_eager_one(chapter, what):
    """torch.compile of the single GPT and of the stacked ensemble (one compile each, about half a
    minute here): from the same weights and batches, both steps' losses equal the eager ones to
    bf16 precision. Dropout is set to 0 for the comparison (compiled code draws its masks from the
    random stream in another order). bf16 keeps 8 bits of precision: each product's result carries
    a relative error up to 2^-9, and fused kernels round at other places than eager ones, so
    losses near ln V may differ by a few 1e-4 after a step (measured here: at most 1.6e-4); 5e-3
    is a tolerance no real error (a wrong shape, a missing term, a cast) would stay within."""
    row = next(r for r in plan.trainings(chapter, "gpu") if r.what.startswith(what))
    row = replace(row, model=replace(row.model, dropout=0.0))
    eager = budget.dry_run(row, BF16_CPU, steps=2)
    compiled = budget.dry_run(row, BF16_CPU, steps=2, compile=True)
    assert compiled["compiled"]
    for step_e, step_c in zip(eager["losses"], compiled["losses"]):
        for a, b in zip(step_e, step_c):
            assert abs(a - b) < 5e-3


@pytest.mark.parametrize("s, h, a", [(128, 128, 4), (256, 128, 4), (128, 256, 4), (64, 96, 2)])
def test_activation_bytes_match_korthikanti_et_al_count(s, h, a):
    """Korthikanti et al. 2022 count 34·s·b·h bytes of 16-bit activations per layer, plus 5·a·s²·b
    for the attention matrix. A fused attention kernel keeps no attention matrix, and without
    dropout the two masks (2·s·b·h) go: 32·s·h per window, 64·s·h in float32. The measurement adds
    exactly what that count leaves out: the fused kernel's log-sum-exp (4 bytes per head and
    position) and the two layer norms' mean and reciprocal deviation (4 bytes each per position).
    Under bf16 autocast the per-window part stays proportional to s·h (36 bytes, the same for
    every shape: the layer norms and the residual stream stay float32), and the fixed part is
    exactly the bf16 copies of the layer's 12·h² matrix weights. A stacked member keeps one
    float32 tensor more per layer norm (its gain is applied outside the kernel): 8·s·h."""
    def per_layer(dtype, stacked=False):
        def cfg(layers):
            return GPTConfig(vocab_size=65, block_size=s, n_layer=layers, n_head=a, n_embd=h, bias=False)
        one, two, three = (budget.activations(cfg(L), dtype, stacked) for L in (1, 2, 3))
        assert two.per_window - one.per_window == three.per_window - two.per_window  # linear in depth
        return two.per_window - one.per_window, two.fixed - one.fixed

    extra = 4 * a * s + 16 * s
    window, fixed = per_layer(None)
    assert window == 64 * s * h + extra and fixed == 0
    window, fixed = per_layer(torch.bfloat16)
    assert window == 36 * s * h + extra and fixed == 2 * 12 * h * h
    window, _ = per_layer(None, stacked=True)
    assert window == 72 * s * h + extra


def test_flops_and_state_bytes_of_a_row():
    cfg = GPTConfig(vocab_size=65, block_size=64, n_layer=2, n_head=2, n_embd=32, bias=False)
    row = budget.Training("x", cfg, batch_size=8, steps=10, runs=3, members=3)
    model = GPT(cfg)
    assert row.n_params == model.num_params()
    assert row.flops() == 3 * 10 * 8 * 64 * flops_per_token(cfg, model.num_params(include_position=False))
    act = budget.activations(cfg, stacked=True)
    assert row.memory_bytes() == 3 * (16 * model.num_params() + act.fixed + 8 * act.per_window)
    assert act.at(8) == act.fixed + 8 * act.per_window
    assert budget.gpu_seconds(0.4 * budget.H100_BF16_FLOPS) == pytest.approx(1.0)
    scored = budget.Training("x", cfg, batch_size=8, steps=10, runs=3, eval_tokens=1000)
    assert scored.eval_flops() == pytest.approx(3 * 1000 * flops_per_token(
        cfg, model.num_params(include_position=False)) / 3)
    assert scored.gpu_seconds() == pytest.approx(
        budget.gpu_seconds(scored.flops()) + scored.eval_flops() / (0.4 * budget.H100_FP32_FLOPS))
    with pytest.raises(ValueError, match="mfu"):
        budget.gpu_seconds(1.0, mfu=0)
    with pytest.raises(ValueError, match="Training.runs"):
        budget.Training("x", cfg, 8, 10, 0)


def test_the_sweep_rows_are_the_sweep_cells_grouped_as_the_cache_groups_them():
    for profile in ("quick", "full", "gpu"):
        cfg = resolve("knob", profile)
        cells = knob.standard_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, cfg.width,
                                    **knob.evaluation(cfg))
        rows = [r for r in plan.trainings("knob", profile) if r.what == "standard sweep"]
        assert sum(r.runs for r in rows) == len(cells)
        assert len(rows) == len({knob.group_key(c) for c in cells})
        assert all(r.model.n_embd == cfg.width for r in rows)
        lad = resolve("ladder", profile)
        rows = plan.trainings("ladder", profile)
        ladder_runs = sum(r.runs for r in rows if r.what == "size ladder (other rungs)")
        # the ladder's top rung is the standard sweep's temperature and noise runs: not counted again
        assert ladder_runs == (lad.rungs - 1) * 2 * lad.knob_points * lad.n_seeds
        # the plane test: every width at every candidate rate on the tuning settings, then every
        # setting and seed at every width (one stacked group per width)
        d = central_design.design(frozen_plan.load(central_design.PLAN), profile)
        tuning = [r for r in rows if r.what == "plane test: learning-rate tuning"]
        test = [r for r in rows if r.what == "plane test: ladders"]
        assert sum(r.runs for r in tuning) == len(d.widths) * len(d.learning_rates) * len(d.tuning_settings)
        assert len(test) == len(d.widths) and all(r.runs == len(d.settings) * len(d.seeds) for r in test)
        assert all(r.steps == d.steps for r in tuning + test)


def test_part_three_models_grow_with_the_gpu_profile():
    """Not only steps and seeds: the sweep's model, its ladder, the Mess3 and text models."""
    for chapter, name in (("knob", "width"), ("ladder", "width"), ("theory", "top_width"),
                          ("natural", "strong_width")):
        assert getattr(resolve(chapter, "gpu"), name) > getattr(resolve(chapter, "full"), name)


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="chapter must be one of"):
        plan.trainings("matmul", "gpu")


def test_the_gpu_check_script_rehearses_on_a_machine_with_only_torch_and_numpy(tmp_path):
    """``benchmarks/gpu_check.py --smoke``: every step of the lent-GPU script at toy sizes, compile
    included, with ``python -S`` and a site folder of torch, numpy and their requirements only (as
    on the lent machine); it writes a whole results file."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from test_distributed import _site_with_only

    root = Path(__file__).resolve().parents[1]
    site = _site_with_only(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run([sys.executable, "-S", str(root / "benchmarks" / "gpu_check.py"), "--smoke",
                           "--out", str(out)], env=env, capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["smoke"] and [r["compile"] for r in result["throughput"]] == [False, True]
    assert all(r["tokens_per_s"] > 0 and 0 < r["mfu"] for r in result["throughput"])
    assert math.isfinite(result["training"]["val_loss_whole_split"])
    assert len(result["scaling"]) == 2 and result["scaling"][0]["N"] < result["scaling"][1]["N"]
    # without CUDA and without --smoke it refuses at once, naming the way out
    proc = subprocess.run([sys.executable, "-S", str(root / "benchmarks" / "gpu_check.py"), "--out",
                           str(tmp_path / "x.json")], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--smoke" in proc.stderr and not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("steps, interval", [(7, 3), (6, 3), (5, 5), (4, 10)])
def test_evaluations_count_what_the_trainer_records(steps, interval):
    """The plan's count of evaluations is the number of rows the trainer's history really has."""
    import numpy as np

    from middleground.gpt.core import TrainConfig
    from middleground.gpt.train import fit
    from middleground.sources.processes import IID

    cfg = GPTConfig(vocab_size=5, block_size=8, n_layer=1, n_head=2, n_embd=16)
    tc = TrainConfig(max_iters=steps, batch_size=2, warmup_iters=0, eval_interval=interval, eval_iters=1)
    x = IID.uniform(5).sample(300, np.random.default_rng(0))
    assert len(fit(cfg, tc, x[:200], x[200:]).history) == budget.evaluations(steps, interval)


def test_the_shakespeare_constants_are_the_corpus_s():
    from middleground.gpt.text import SHAKESPEARE_VAL_CHARS, SHAKESPEARE_VOCAB_SIZE, shakespeare_char

    _, val, vocab = shakespeare_char()
    assert len(vocab) == SHAKESPEARE_VOCAB_SIZE and len(val) == SHAKESPEARE_VAL_CHARS


def test_the_roofline_counts_nanogpts_flops_and_its_intensity_formula():
    """The step's products are nanoGPT's count exactly, less the layer norms' gains (parameters in
    6N that take part in no product); intensity and roof follow their formulas; a batched product
    is timed as one."""
    from middleground.gpt import roofline

    cfg = GPTConfig(vocab_size=65, block_size=64, n_layer=3, n_head=4, n_embd=64, bias=False)
    model = GPT(cfg)
    gains = sum(p.numel() for n, p in model.named_parameters() if "ln" in n)
    per_token = sum(mm.flops for mm in roofline.step_matmuls(cfg, 2)) / (2 * cfg.block_size)
    assert per_token == flops_per_token(cfg, model.num_params(include_position=False)) - 6 * gains
    mm = roofline.Matmul("x", 8, 4, 2, 1)
    assert roofline.intensity(mm, 4) == 2 * 8 * 4 * 2 / (4 * (32 + 8 + 16))
    assert roofline.attainable(1.0, 10.0, 3.0) == 3.0 and roofline.attainable(5.0, 10.0, 3.0) == 10.0
    batched = next(m for m in roofline.step_matmuls(cfg, 2) if m.batched)
    assert batched.count == 2 * cfg.n_head * cfg.n_layer and roofline.time_matmul(batched, seconds=0.01) > 0
