"""Speed of the block-entropy estimator: H(L) for L = 1..12 on 10^6 symbols.

    python benchmarks/entropy_speed.py [--n 1000000] [--L 12] [--out benchmarks/results/entropy_speed.json]

Times :func:`middleground.measures.entropy.block_entropies` (rolling integer codes) against a straightforward
``collections.Counter`` over tuples of the same words, in the same run and on the same samples, for
a binary and a 65-symbol alphabet, checks that both give the same numbers, and prints the ratio.
Target on this project's 2-core machine: <= 2 s for the vectorised version. A benchmark prints
figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from middleground.book import provenance
from middleground.base.files import write_json
from middleground.measures.entropy import block_entropies

ROOT = Path(__file__).resolve().parents[1]


def counter_block_entropies(x: np.ndarray, L_max: int) -> list[float]:
    xs = x.tolist()
    out = [0.0]
    for L in range(1, L_max + 1):
        counts = Counter(tuple(xs[i:i + L]) for i in range(len(xs) - L + 1))
        n = len(xs) - L + 1
        out.append(-sum(c / n * math.log2(c / n) for c in counts.values()))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--L", type=int, default=12)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/entropy_speed.json")
    args = p.parse_args(argv)
    if args.n < 100 or not 1 <= args.L <= 64 or args.repeats < 1:
        p.error("need --n >= 100, 1 <= --L <= 64, --repeats >= 1")
    rows = []
    for k in (2, 65):
        x = np.random.default_rng(0).integers(0, k, size=args.n)
        fast = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            H = block_entropies(x, args.L)
            fast.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        H_ref = counter_block_entropies(x, args.L)
        slow = time.perf_counter() - t0
        agree = float(np.max(np.abs(H - np.array(H_ref))))
        rows.append({"alphabet": k, "n": args.n, "L_max": args.L, "vectorised_s": min(fast),
                     "counter_s": slow, "speedup": slow / min(fast), "max_abs_difference_bits": agree})
        print(f"k = {k:>2}: vectorised {min(fast):.2f} s (best of {args.repeats}), Counter {slow:.1f} s, "
              f"{slow / min(fast):.0f}x faster; results agree to {agree:.1e} bits")
    result = {"benchmark": "entropy_speed", **provenance.stamp(), "target_s": 2.0, "runs": rows}
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
