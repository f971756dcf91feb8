"""Pilot for the central test's control (issue 24): how the excess above the floor falls with model
size on settings of the (h, E) plane, under a schedule you choose, and what each run costs.

    python benchmarks/control_pilot.py [--iters 2400] [--widths 6,8,12,16,22,44]
        [--settings iid:0.15,period-8:0.15,period-8:0.85,markov-3:0.5] [--seeds 1]
        [--lr 3e-3 | --lr 6,1e-2,44,2e-3] [--fresh] [--out benchmarks/results/control_pilot.json]

A pilot chooses a design; it is not the test. Its runs go through the sweep cache under their own
name ("control-pilot"), so a rerun with the same arguments reads them back. ``--fresh`` gives
every run a training stream as long as the symbols it reads (steps × 16 windows × 33 symbols), so
no run sees a symbol twice and a larger model cannot do better by memorising; without it, every
run trains on the sweep's 100,000 symbols. ``--lr`` is one peak rate for every width, or
``width,rate`` pairs (a width not named keeps 3e-3); the rate decays to a tenth.

It prints, per setting and width, the excess above the exact finite-context floor with its
standard error, the exact-match rate and the gap to the count-based Bayes predictor, then the
wall time. A benchmark prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from middleground.base.files import write_json
from middleground.sweeps import cache, knob

ROOT = Path(__file__).resolve().parents[1]
BATCH_SYMBOLS = 16 * (knob.SWEEP_MODEL.block_size + 1)  # symbols a sweep step reads


def _settings(text: str) -> list[tuple[str, float]]:
    out = []
    for item in text.split(","):
        family, _, share = item.partition(":")
        out.append((family, float(share)))
    return out


def _rates(text: str, widths: list[int]) -> dict[int, float]:
    parts = text.split(",")
    if len(parts) == 1:
        return {w: float(parts[0]) for w in widths}
    if len(parts) % 2:
        raise SystemExit("--lr takes one rate or width,rate pairs")
    given = {int(parts[i]): float(parts[i + 1]) for i in range(0, len(parts), 2)}
    return {w: given.get(w, knob.LEARNING_RATE) for w in widths}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iters", type=int, default=2400)
    p.add_argument("--widths", default="6,8,12,16,22,44")
    p.add_argument("--settings", default="iid:0.15,period-8:0.15,period-8:0.85,markov-3:0.5")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--lr", default=str(knob.LEARNING_RATE))
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/control_pilot.json")
    args = p.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    rates = _rates(args.lr, widths)
    n_train = max(knob.N_TRAIN, args.iters * BATCH_SYMBOLS) if args.fresh else knob.N_TRAIN
    cells = [c for w in widths for family, share in _settings(args.settings)
             for c in knob.cells(family, [share], list(range(args.seeds)), args.iters, n_embd=w,
                                 n_val=2048 * 33, n_prompts=128, curve_points=8,
                                 learning_rate=rates[w], min_lr=rates[w] / 10, n_train=n_train)]
    t0 = time.perf_counter()
    results, counts = cache.run("control-pilot", cells, knob.group_key, knob.train_group)
    seconds = time.perf_counter() - t0
    rows = []
    print(f"{'setting':16} {'E':>5} {'width':>5} {'N':>7} {'excess (bits)':>16} {'match':>6} {'vs Bayes':>9}")
    for c, r in zip(cells, results):
        f = r["final"]
        row = {"family": c["family"], "share": c["knob"], "seed": c["seed"], "width": c["model"]["n_embd"],
               "N": knob.non_embedding_params(c["model"]["n_embd"]), "E": r["E"], "lr": c["learning_rate"],
               "excess": f["excess_floor"], "excess_se": f["excess_floor_se"],
               "exact_match": f["exact_match"], "vs_bayes": f["model_minus_bayes"]}
        rows.append(row)
        print(f"{row['family'] + ' ' + str(row['share']):16} {row['E']:5.2f} {row['width']:5d} {row['N']:7d} "
              f"{row['excess']:+8.4f} ± {row['excess_se']:.4f} {row['exact_match']:6.3f} {row['vs_bayes']:+9.3f}")
    print(f"{len(cells)} runs ({counts['executed']} trained, the rest from the cache) in {seconds:.0f} s; "
          f"{args.iters} steps, {'fresh data' if args.fresh else f'{n_train:,} training symbols'}")
    write_json(args.out, {"benchmark": "control_pilot", "iters": args.iters, "fresh": args.fresh,
                          "n_train": n_train, "seconds": seconds, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
