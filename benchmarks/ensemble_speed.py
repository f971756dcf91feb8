"""Ensemble training against one-after-another training, in the same run.

    python benchmarks/ensemble_speed.py [--models 8] [--iters 300] [--out benchmarks/results/ensemble_speed.json]

Trains N copies (different seeds, different sources) of the sweep model (middleground.sweeps.knob) twice: as
one stacked ensemble (:func:`middleground.gpt.ensemble.fit_ensemble`) and one after another with the
single-model trainer (:func:`middleground.gpt.train.fit`), with the same configuration and steps.
Prints models·tokens/s for both and their ratio. Target on this project's 2-core CPU: >= 3x at
N = 8. A benchmark prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from middleground.base.files import write_json
from middleground.book import provenance
from middleground.gpt.device import pick
from middleground.gpt.ensemble import fit_ensemble
from middleground.gpt.train import fit
from middleground.sources.knobs import markov_knob
from middleground.sweeps.knob import SWEEP_MODEL, sweep_train_config

ROOT = Path(__file__).resolve().parents[1]


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
    tokens = args.iters * tc.batch_size * cfg.block_size

    t0 = time.perf_counter()
    run = fit_ensemble(cfg, tc, streams, vals, seeds, device)
    ens_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq_final = []
    for i in range(args.models):
        # the same seed as ensemble member i: identical initial weights and batches
        seq_final.append(fit(cfg, replace(tc, seed=seeds[i]), streams[i], vals[i], device)
                         .history[-1]["val_loss"])
    seq_s = time.perf_counter() - t0

    ens_rate = args.models * tokens / ens_s
    seq_rate = args.models * tokens / seq_s
    print(f"{args.models} models x {args.iters} steps x {tc.batch_size * cfg.block_size} tokens "
          f"({cfg.n_layer} layers, width {cfg.n_embd}, {torch.get_num_threads()} threads)")
    print(f"ensemble:   {ens_s:.1f} s, {ens_rate:,.0f} model-tokens/s")
    print(f"sequential: {seq_s:.1f} s, {seq_rate:,.0f} model-tokens/s")
    print(f"speed-up: {ens_rate / seq_rate:.2f}x (target >= 3x at N = 8)")
    print("final val loss, ensemble vs sequential (the same runs; equal to float32 rounding): "
          + ", ".join(f"{a:.3f}/{b:.3f}" for a, b in zip(run.history[-1]["val_loss"], seq_final)))
    result = {"benchmark": "ensemble_speed", **provenance.stamp(), "device": device.name,
              "models": args.models, "iters": args.iters, "tokens_per_model": tokens, "ensemble_s": ens_s,
              "sequential_s": seq_s, "ensemble_model_tokens_per_s": ens_rate,
              "sequential_model_tokens_per_s": seq_rate, "speedup": ens_rate / seq_rate,
              "target_speedup": 3.0}
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
