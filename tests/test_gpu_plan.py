"""The ``gpu`` profile, ready for the first GPU it meets: every model it trains is built and takes
two optimisation steps here on the CPU, under bf16 autocast, eagerly and (once per architecture)
compiled; the plan's costs rest on checked counts."""

import math

import pytest
import torch

from middleground.book.profiles import resolve
from middleground.experiments import plan
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


def test_the_dry_run_prints_the_gpu_table(capsys):
    """The table the appendix shows (parameters, FLOPs, memory, H100 time at 40 % MFU)."""
    total = 0.0
    for chapter, rows in plan.book("gpu").items():
        for r in rows:
            f = r.flops()
            total += f
            print(f"{chapter:13s} {r.what[:38]:38s} {r.n_params:>11,} params {f / 1e12:9.1f} TFLOP "
                  f"{r.memory_bytes() / 2**30:6.2f} GiB {budget.gpu_seconds(f):7.1f} s")
    print(f"total {total / 1e15:.2f} PFLOP: {budget.gpu_seconds(total) / 60:.1f} min on one H100 at 40 % MFU")
    assert "PFLOP" in capsys.readouterr().out and total > 1e15


@pytest.mark.parametrize("chapter, what", [("training", "nanoGPT's recipe"), ("knob", "standard sweep")])
def test_one_compiled_dry_run_per_architecture_matches_the_eager_one(chapter, what):
    """torch.compile of the single GPT and of the stacked ensemble (one compile each, about half a
    minute here): the compiled first step computes the eager loss to bf16 precision. Both start from
    the same weights and batch; bf16 keeps 8 bits of mantissa, so logits carry relative errors up to
    2^-8 whose effect on a loss near ln V is well under 0.05 nats."""
    row = next(r for r in plan.trainings(chapter, "gpu") if r.what.startswith(what))
    eager = budget.dry_run(row, BF16_CPU, steps=2)
    compiled = budget.dry_run(row, BF16_CPU, steps=2, compile=True)
    assert compiled["compiled"]
    for a, b in zip(eager["losses"][0], compiled["losses"][0]):
        assert abs(a - b) < 0.05


def test_activation_bytes_match_korthikanti_et_al_count():
    """Korthikanti et al. 2022 count 34·s·b·h bytes of 16-bit activations per layer, plus 5·a·s²·b
    for the attention matrix. Fused attention keeps no attention matrix, and without dropout the
    two masks (2·s·b·h) go, leaving 32·s·b·h; in float32 that is 64·s·h bytes per window and layer.
    The measured count adds only attention's per-row log-sum-exp (a few bytes per head and position)."""
    s, h, a = 128, 128, 4

    def cfg(layers):
        return GPTConfig(vocab_size=65, block_size=s, n_layer=layers, n_head=a, n_embd=h, bias=False)

    per_layer = [budget.activation_bytes(cfg(L + 1), None) - budget.activation_bytes(cfg(L), None)
                 for L in (1, 2)]
    assert per_layer[0] == per_layer[1]  # linear in depth
    assert 0 <= per_layer[0] - 64 * s * h <= 16 * a * s


def test_flops_and_state_bytes_of_a_row():
    cfg = GPTConfig(vocab_size=65, block_size=64, n_layer=2, n_head=2, n_embd=32, bias=False)
    row = budget.Training("x", cfg, batch_size=8, steps=10, runs=3, members=3)
    model = GPT(cfg)
    assert row.n_params == model.num_params()
    assert row.flops() == 3 * 10 * 8 * 64 * flops_per_token(cfg, model.num_params(include_position=False))
    act = budget.activation_bytes(cfg)
    assert row.memory_bytes() == 3 * (16 * model.num_params() + 8 * act)
    assert budget.gpu_seconds(0.4 * budget.H100_BF16_FLOPS) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="mfu"):
        budget.gpu_seconds(1.0, mfu=0)
    with pytest.raises(ValueError, match="Training.runs"):
        budget.Training("x", cfg, 8, 10, 0)


def test_the_sweep_rows_are_the_sweep_cells_grouped_as_the_cache_groups_them():
    for profile in ("quick", "full", "gpu"):
        cfg = resolve("knob", profile)
        cells = knob.standard_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, cfg.width)
        rows = [r for r in plan.trainings("knob", profile) if r.what == "standard sweep"]
        assert sum(r.runs for r in rows) == len(cells)
        assert len(rows) == len({knob.group_key(c) for c in cells})
        assert all(r.model.n_embd == cfg.width for r in rows)
        lad = resolve("ladder", profile)
        ladder_runs = sum(r.runs for r in plan.trainings("ladder", profile))
        # the ladder's top rung is the standard sweep's temperature and noise runs: not counted again
        assert ladder_runs == (lad.rungs - 1) * 2 * lad.knob_points * lad.n_seeds


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
