"""One prepared script for a lent GPU: measure, then run short versions of the GPU chapters.

    python benchmarks/gpu_check.py [--out benchmarks/results/gpu_check.json] [--smoke]

On a CUDA machine (within about 5 minutes on one H100-class GPU):

1. **Peak.** The bf16 matmul peak of this card, measured (:func:`middleground.gpt.flops.matmul_peak`).
2. **Throughput.** The training chapter's ``gpu`` model (6 layers of width 384, context 256,
   batch 64) trained for a few hundred steps under bf16 autocast, eager and then with
   ``torch.compile``: median ms per step, tokens/s and MFU against that peak.
3. **Chapter training, short.** The same recipe for ``TRAIN_STEPS`` steps (compiled), its
   held-out loss over the whole validation split (in float32), and its memory peak.
4. **Chapter scaling, short.** Every rung of the ``gpu`` profile's size ladder, one seed, the
   profile's own steps, batch and context: the loss of each size over the whole validation split.

Everything is written to one JSON file that chapter ``training`` shows when it exists. The lent
machine has its own Python and torch and none of the book's other packages, and only the working
tree travels: this script imports nothing but torch, numpy and the package's training layers, and
reads Tiny Shakespeare through the data layer (carry ``data/cache/tinyshakespeare`` along, or set
``MIDDLEGROUND_DATA_MIRROR``).

``--smoke`` runs every step at toy sizes on whatever device is present (the CPU here): a rehearsal
that the tests run, so the script cannot first fail on the GPU.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the lent machine has no installed package

from middleground.base.files import write_json  # noqa: E402
from middleground.base.paths import PACKAGE_DIR, fingerprint  # noqa: E402
from middleground.base.profiles import resolve  # noqa: E402  (declarations only: no extra packages)
from middleground.experiments import scaling, training  # noqa: E402
from middleground.gpt.device import pick  # noqa: E402
from middleground.gpt.flops import matmul_peak  # noqa: E402
from middleground.gpt.text import shakespeare_char  # noqa: E402

THROUGHPUT_STEPS = 300
TRAIN_STEPS = 1500


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _sizes(smoke: bool) -> dict:
    t = resolve("training", "gpu")
    s = resolve("scaling", "gpu")
    if smoke:  # toy sizes, the same code path
        return {"layers": 2, "heads": 2, "width": 32, "block": 32, "batch": 4, "throughput_steps": 6,
                "train_steps": 6, "eval_iters": 2, "dropout": t.dropout, "scaling_rungs": 2,
                "scaling_steps": 4, "scaling_batch": 4, "scaling_block": 32}
    return {"layers": t.n_layer, "heads": t.n_head, "width": t.n_embd, "block": t.block_size,
            "batch": t.batch_size, "throughput_steps": THROUGHPUT_STEPS, "train_steps": TRAIN_STEPS,
            "eval_iters": t.eval_iters, "dropout": t.dropout, "scaling_rungs": s.n_sizes,
            "scaling_steps": s.max_iters, "scaling_batch": s.batch_size, "scaling_block": s.block_size}


def _recipe(sizes: dict, steps: int, compile: bool, eval_iters: int, device) -> dict:
    """Chapter training's own run (:func:`middleground.experiments.training.shakespeare_run`) at
    these sizes and steps, without text samples."""
    return training.shakespeare_run(sizes["layers"], sizes["heads"], sizes["width"], sizes["block"],
                                    sizes["batch"], steps, max(1, steps // 5), eval_iters,
                                    sizes["dropout"], resolve("training", "gpu").learning_rate, 0, 0,
                                    compile, device)


def throughput(sizes: dict, device, compile: bool) -> dict:
    """The recipe for a few hundred steps: the median of the second half of its steps (the first
    pay for compilation and autotuning)."""
    t0 = time.perf_counter()
    result = _recipe(sizes, sizes["throughput_steps"], compile, 2, device)
    run = result["run"]
    settled = run.iter_seconds[len(run.iter_seconds) // 2:]
    ms = 1e3 * statistics.median(settled)
    return {"compile": compile, "steps": sizes["throughput_steps"], "wall_s": time.perf_counter() - t0,
            "first_step_s": run.iter_seconds[0], "ms_per_step": ms,
            "tokens_per_s": sizes["batch"] * sizes["block"] / (ms / 1e3),
            "flops_per_token": run.summary()["flops_per_token"], "n_params": run.n_params}


def chapter_training(sizes: dict, device) -> dict:
    """A short version of chapter training's gpu run (compiled), its whole-split loss and memory."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = _recipe(sizes, sizes["train_steps"], True, sizes["eval_iters"], device)
    run = result["run"]
    out = {"model": asdict(run.model_cfg), "steps": sizes["train_steps"], "batch_size": sizes["batch"],
           "wall_s": time.perf_counter() - t0, "history": run.history,
           "val_loss_whole_split": result["val_loss_whole_split"],
           "tokens_per_s": run.summary()["tokens_per_s"]}
    if device.type == "cuda":
        out["max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
    return out


def chapter_scaling(sizes: dict, device) -> list[dict]:
    """Chapter scaling's own ladder (:func:`middleground.experiments.scaling.scaling_family`) at
    the gpu profile's sizes and steps, one seed."""
    records, _ = scaling.scaling_family(sizes["scaling_rungs"], sizes["scaling_steps"],
                                        sizes["scaling_batch"], sizes["scaling_block"], 1, 0, device)
    return records


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/gpu_check.json")
    p.add_argument("--smoke", action="store_true",
                   help="toy sizes on any device (a rehearsal; the tests run it on the CPU)")
    args = p.parse_args(argv)
    device = pick()
    if device.type != "cuda" and not args.smoke:
        p.error("no CUDA device here: this script measures a GPU (--smoke rehearses it at toy sizes)")
    sizes = _sizes(args.smoke)
    started = time.perf_counter()
    shakespeare_char()  # the corpus first: a missing one stops the script before any GPU work
    dtype = device.autocast_dtype or torch.float32
    peak = matmul_peak(device.torch, dtype, sizes=(256,) if args.smoke else None)
    print(f"{device.name}: measured {dtype} matmul peak {peak / 1e12:.1f} TFLOP/s", flush=True)
    rows = []
    for compile in (False, True):
        r = throughput(sizes, device, compile)
        r["mfu"] = r["flops_per_token"] * r["tokens_per_s"] / peak
        rows.append(r)
        print(f"throughput ({'compiled' if compile else 'eager'}): {r['ms_per_step']:.1f} ms/step, "
              f"{r['tokens_per_s']:,.0f} tokens/s, MFU {100 * r['mfu']:.1f}%", flush=True)
    trained = chapter_training(sizes, device)
    print(f"training, {trained['steps']} steps: val loss {trained['val_loss_whole_split']:.4f} "
          f"(whole split) in {trained['wall_s']:.0f} s", flush=True)
    ladder = chapter_scaling(sizes, device)
    for r in ladder:
        print(f"scaling {r['size']:>8}: N {r['N']:>10,}  val {r['val_loss']:.4f} (whole split)  "
              f"train {r['train_loss_batches']:.4f}  {r['wall_s']:.0f} s", flush=True)
    result = {"benchmark": "gpu_check", "smoke": args.smoke, "device": device.name,
              "torch": torch.__version__, "python": platform.python_version(), "commit": _commit(),
              "code": fingerprint(sorted(PACKAGE_DIR.rglob("*.py")), PACKAGE_DIR),
              "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
              "peak_flops": peak, "peak_dtype": str(dtype), "sizes": sizes, "throughput": rows,
              "training": trained, "scaling": ladder, "total_s": time.perf_counter() - started}
    write_json(args.out, result)
    print(f"wrote {args.out} after {result['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
