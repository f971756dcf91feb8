"""Ensemble training against one-after-another training, in the same run, with its limit.

    python benchmarks/ensemble_speed.py [--models 8] [--iters 300] [--out benchmarks/results/ensemble_speed.json]

Trains N copies (different seeds, different sources) of the sweep model (middleground.sweeps.knob)
three ways, with the same configuration and steps: one after another with the single-model
trainer (:func:`middleground.gpt.train.fit`), as one stacked ensemble
(:func:`middleground.gpt.ensemble.fit_ensemble`), and as that ensemble under ``torch.compile``.
Rates are model-tokens per second of the training steps (the median step, so evaluations and the
compiler's first steps are left out; the wall-clock rates of the whole runs are printed too), and
MFU against the matmul peak measured in the same run.

Then *why* the rate is what it is: ``torch.profiler`` over eager ensemble steps, grouped by kind of
operation (and the largest operations of the rest), and a roofline estimate of one step: its FLOPs
(nanoGPT's count) at the measured matmul peak, and the bytes it would move if nothing stayed in
cache (activations written in the forward pass and read in the backward, their gradients
likewise, and AdamW's reads and writes of weights, gradients and moments) at the copy bandwidth
measured here. The step's activations are a few tens of megabytes, so much of that traffic can
stay in cache: the memory time is an estimate, not a floor. Target on this project's 2-core CPU:
>= 3x at N = 8. A benchmark prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from middleground.base.files import write_json
from middleground.book import provenance
from middleground.gpt import budget, core, roofline
from middleground.gpt.device import pick
from middleground.gpt.ensemble import EnsembleGPT, clip_per_member, fit_ensemble
from middleground.gpt.flops import flops_per_token, matmul_peak
from middleground.gpt.model import GPT
from middleground.gpt.train import fit
from middleground.sources.knobs import markov_knob
from middleground.sweeps.knob import SWEEP_MODEL, sweep_train_config

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"matmul": ("aten::bmm", "aten::mm", "aten::addmm", "aten::matmul"),
         "attention": ("scaled_dot_product",),
         "GELU": ("gelu",),
         "layer norm": ("layer_norm",),
         "embedding": ("embedding", "index"),
         "optimiser": ("adamw", "_fused_adam"),
         "loss": ("log_softmax", "nll_loss", "cross_entropy")}


def kind_of(name: str) -> str:
    low = name.lower()
    return next((k for k, keys in KINDS.items() if any(key in low for key in keys)), "other")


def profile_steps(cfg, tc, models: int, device, steps: int = 20) -> dict:
    """Self CPU milliseconds per eager ensemble step, by kind of operation (profiler overhead
    included, so the parts sum to more than a step's wall time)."""
    from torch.profiler import ProfilerActivity, profile

    model = EnsembleGPT.fresh(cfg, list(range(models)))
    opt = core.adamw(model, tc, device, batch_dims=1)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(cfg.vocab_size, (models, tc.batch_size, cfg.block_size), generator=gen)
    y = torch.randint(cfg.vocab_size, (models, tc.batch_size, cfg.block_size), generator=gen)

    def clip(m):
        clip_per_member(m, tc.grad_clip)

    for _ in range(10):
        core.step(model, opt, x, y, tc.learning_rate, device, clip)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            core.step(model, opt, x, y, tc.learning_rate, device, clip)
    out: dict[str, float] = {}
    other: dict[str, float] = {}
    for event in prof.key_averages():
        if event.key.startswith(("aten::", "Optimizer")) or "adam" in event.key.lower():
            kind = kind_of(event.key)
            ms = event.self_cpu_time_total / 1e3 / steps
            out[kind] = out.get(kind, 0.0) + ms
            if kind == "other":
                other[event.key] = ms
    top = dict(sorted(other.items(), key=lambda kv: -kv[1])[:8])
    return {"by_kind": dict(sorted(out.items(), key=lambda kv: -kv[1])), "largest_other": top}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", type=int, default=8)
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ensemble_speed.json")
    args = p.parse_args(argv)
    if args.models < 1 or args.iters < 10:
        p.error("need --models >= 1 and --iters >= 10")
    device = pick("cpu")
    cfg = SWEEP_MODEL
    tc = sweep_train_config(args.iters)
    temps = np.geomspace(0.1, 10, args.models)
    streams = [markov_knob(t, 0).sample(50_000, np.random.default_rng(i)) for i, t in enumerate(temps)]
    vals = [markov_knob(t, 0).sample(5_000, np.random.default_rng(100 + i)) for i, t in enumerate(temps)]
    seeds = list(range(args.models))
    step_tokens = tc.batch_size * cfg.block_size
    tokens = args.iters * step_tokens
    peak_before = matmul_peak("cpu")
    # Warm-up: the first run in a process pays for lazy initialisation (kernels, thread pools,
    # allocator); without it, whichever path runs first would be charged for it.
    warm = replace(tc, max_iters=10, eval_interval=5)
    fit_ensemble(cfg, warm, streams, vals, seeds, device)
    fit(cfg, warm, streams[0], vals[0], device)

    t0 = time.perf_counter()
    eager = fit_ensemble(cfg, tc, streams, vals, seeds, device)
    eager_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    compiled = fit_ensemble(cfg, replace(tc, compile=True), streams, vals, seeds, device)
    compiled_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq_steps, seq_final = [], []
    for i in range(args.models):
        # the same seed as ensemble member i: identical initial weights and batches
        run = fit(cfg, replace(tc, seed=seeds[i]), streams[i], vals[i], device)
        seq_steps += run.iter_seconds
        seq_final.append(run.history[-1]["val_loss"])
    seq_wall = time.perf_counter() - t0
    peak = max(peak_before, matmul_peak("cpu"))
    bandwidth = roofline.memory_bandwidth("cpu")

    n_params = GPT(cfg).num_params()
    fpt = flops_per_token(cfg, GPT(cfg).num_params(include_position=False))
    rates = {"sequential": step_tokens / statistics.median(seq_steps),
             "ensemble": args.models * step_tokens / statistics.median(eager.iter_seconds),
             "ensemble, compiled": args.models * step_tokens / statistics.median(compiled.iter_seconds)}
    walls = {"sequential": seq_wall, "ensemble": eager_wall, "ensemble, compiled": compiled_wall}
    compile_s = compiled.iter_seconds[0] - statistics.median(compiled.iter_seconds)

    # The roofline of one ensemble step.
    step_flops = args.models * step_tokens * fpt
    act = budget.activations(cfg, None, stacked=True).at(tc.batch_size)
    step_bytes = args.models * (4 * act + 28 * n_params)  # activations and their gradients, each
    # written once and read once; AdamW reads weight, gradient and two moments, writes three
    roof_s = max(step_flops / peak, step_bytes / bandwidth)
    profile = profile_steps(cfg, tc, args.models, device)
    # what 3x would take: the ensemble's step at a third of eight sequential steps
    needed_s = args.models * statistics.median(seq_steps) / 3

    print(f"{args.models} models x {args.iters} steps x {step_tokens} tokens ({cfg.n_layer} layers, "
          f"width {cfg.n_embd}, {torch.get_num_threads()} threads); matmul peak {peak / 1e9:.0f} "
          f"GFLOP/s, copy bandwidth {bandwidth / 1e9:.1f} GB/s, measured now")
    rows = {}
    for name, rate in rates.items():
        rows[name] = {"model_tokens_per_s": rate, "speedup": rate / rates["sequential"],
                      "mfu": rate * fpt / peak, "wall_s": walls[name],
                      "wall_model_tokens_per_s": args.models * tokens / walls[name]}
        print(f"{name:>19}: {rate:>10,.0f} model-tokens/s in steps ({rows[name]['speedup']:.2f}x, "
              f"MFU {100 * rows[name]['mfu']:.1f}%); whole run {walls[name]:.1f} s "
              f"({rows[name]['wall_model_tokens_per_s']:,.0f} model-tokens/s)")
    print(f"compiling took about {compile_s:.1f} s (the first step's excess)")
    print(f"one ensemble step: {step_flops / 1e9:.2f} GFLOP ({1e3 * step_flops / peak:.2f} ms at the "
          f"peak), {step_bytes / 1e6:.1f} MB if nothing stayed in cache ({1e3 * step_bytes / bandwidth:.2f} "
          f"ms at the copy bandwidth); measured {1e3 * statistics.median(eager.iter_seconds):.2f} ms "
          f"eager, {1e3 * statistics.median(compiled.iter_seconds):.2f} ms compiled; 3x needs "
          f"{1e3 * needed_s:.2f} ms")
    limit = args.models * statistics.median(seq_steps) / roof_s
    print(f"roofline bound on the speed-up: {limit:.1f}x: the roofline does not bind, the kernels do")
    print("eager step by kind (ms, self CPU time under the profiler, which adds its own overhead): "
          + ", ".join(f"{k} {v:.2f}" for k, v in profile["by_kind"].items()))
    print("largest of the rest: " + ", ".join(f"{k} {v:.3f}" for k, v in profile["largest_other"].items()))
    print("final val loss, ensemble vs sequential (the same runs; equal to float32 rounding): "
          + ", ".join(f"{a:.3f}/{b:.3f}" for a, b in zip(eager.history[-1]["val_loss"], seq_final)))
    result = {"benchmark": "ensemble_speed", **provenance.stamp(), "device": device.name,
              "models": args.models, "iters": args.iters, "tokens_per_model": tokens,
              "peak_flops": peak, "bandwidth_bytes_per_s": bandwidth, "flops_per_token": fpt,
              "rates": rows, "speedup": rows["ensemble"]["speedup"],
              "speedup_compiled": rows["ensemble, compiled"]["speedup"], "compile_s": compile_s,
              "step": {"flops": step_flops, "bytes_if_uncached": step_bytes,
                       "compute_s_at_peak": step_flops / peak, "memory_s_uncached": step_bytes / bandwidth,
                       "needed_for_target_s": needed_s,
                       "eager_s": statistics.median(eager.iter_seconds),
                       "compiled_s": statistics.median(compiled.iter_seconds),
                       "sequential_s_per_model": statistics.median(seq_steps),
                       "roofline_speedup_bound": limit},
              "profile_ms_per_step": profile, "target_speedup": 3.0}
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
