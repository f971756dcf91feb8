"""The training chapter's experiment: a GPT trained on Tiny Shakespeare with nanoGPT's recipe.

:func:`shakespeare_run` trains it (chapter training and ``benchmarks/gpu_check.py`` call it);
:func:`run` is the whole chapter: that run, the recorded benchmark
(``benchmarks/results/train_throughput.json``) and the roofline of one training step, as one
:class:`TrainingResult`. The pure pieces (:func:`describe_run`, :func:`describe_benchmark`,
:func:`describe_roofline` and the sentence options they choose from) take plain inputs, so the
tests feed them fabricated runs and files.

What this module does not do: import anything beyond torch and numpy at module level (the lent GPU
machine runs ``gpu_check.py`` with only those), or draw (``book/figures/training.py`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

from ..base.profiles import ChapterConfig
from ..gpt import roofline, training_log
from ..gpt.core import TrainConfig
from ..gpt.device import Device, pick
from ..gpt.flops import matmul_peak
from ..gpt.model import GPTConfig
from ..gpt.text import shakespeare_char
from ..gpt.train import fit, split_loss
from .report import Findings, Result


def recipe_model(vocab_size: int, n_layer: int, n_head: int, n_embd: int, block_size: int,
                 dropout: float) -> GPTConfig:
    """nanoGPT's character model at the chapter's sizes (no biases, as its GPU recipe)."""
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head,
                     n_embd=n_embd, dropout=dropout, bias=False)


def shakespeare_run(n_layer: int, n_head: int, n_embd: int, block_size: int, batch_size: int,
                    max_iters: int, eval_interval: int, eval_iters: int, dropout: float,
                    learning_rate: float, seed: int, sample_chars: int, compile: bool = False,
                    device: Device | None = None) -> dict:
    """Train a GPT on Tiny Shakespeare with nanoGPT's schedule, sampling text at every evaluation.

    Returns the run, the samples (``{step, val_loss, text}``), the loss over the whole validation
    split, and the matmul peak measured on the same device (for MFU).
    """
    device = device or pick()
    train, val, vocab = shakespeare_char()
    model_cfg = recipe_model(len(vocab), n_layer, n_head, n_embd, block_size, dropout)
    tc = TrainConfig(max_iters=max_iters, lr_decay_iters=max_iters, batch_size=batch_size,
                     learning_rate=learning_rate, min_lr=learning_rate / 10,
                     warmup_iters=min(100, max_iters // 10), eval_interval=eval_interval,
                     eval_iters=eval_iters, seed=seed, compile=compile)
    newline = vocab.encode("\n")
    samples = []

    def sample(model, row):
        # Its own generator: sampling must not disturb the training run's random streams.
        gen = torch.Generator(device=device.torch).manual_seed(seed)
        start = torch.as_tensor(newline, device=device.torch)[None]
        model.eval()
        out = model.generate(start, sample_chars, generator=gen)[0, 1:].tolist()
        model.train()
        samples.append({"step": row["step"], "val_loss": row["val_loss"], "text": vocab.decode(out)})

    run = fit(model_cfg, tc, train, val, device, on_eval=sample if sample_chars else None,
              on_start=training_log.from_settings())
    return {"run": run, "samples": samples,
            "val_loss_whole_split": split_loss(run.model, val, block_size, device),
            "peak_flops": matmul_peak(device.torch, device.autocast_dtype or torch.float32)}


# ---------------------------------------------------------------------------------------------
# The chapter: the run, the recorded benchmark, and the roofline of one step, as one result.

CPU_RECIPE = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, max_iters=2000,
                  dropout=0.0)
GPU_RECIPE = dict(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=64, max_iters=5000,
                  dropout=0.2)
NANOGPT_CPU_VAL, NANOGPT_GPU_VAL = 1.88, 1.4697  # nanoGPT README (the chapter's comparison)
HERE = "this machine, measured"
H100 = "H100 (bf16), gpu profile's model, spec sheet"


def matches(values: Mapping[str, Any], recipe: Mapping[str, Any]) -> bool:
    """Whether the chapter's parameters ``values`` are those of ``recipe`` (every key equal)."""
    return all(values[k] == v for k, v in recipe.items())


def recipe_name(values: Mapping[str, Any]) -> str:
    """Which of nanoGPT's recipes the parameters follow, in the words the prose uses."""
    return ("nanoGPT's CPU recipe" if matches(values, CPU_RECIPE) else
            "nanoGPT's GPU recipe" if matches(values, GPU_RECIPE) else
            "a smaller configuration than either recipe")


def published_loss(values: Mapping[str, Any]) -> float | None:
    """nanoGPT's published validation loss for the recipe the parameters follow (None: neither)."""
    return (NANOGPT_CPU_VAL if matches(values, CPU_RECIPE) else
            NANOGPT_GPU_VAL if matches(values, GPU_RECIPE) else None)


def mfu_reading_options(values: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """What the run's own MFU says: the recipe's sizes are the benchmark's, smaller ones are not."""
    is_recipe = (values["n_layer"] == 4 and values["n_embd"] == 128 and values["block_size"] == 64
                 and values["batch_size"] == 12)
    return [
        ("This is nanoGPT's CPU recipe itself, the configuration the MFU targets below refer to.",
         is_recipe),
        ("This configuration is smaller than nanoGPT's CPU recipe and spends a larger share of its time "
         "outside matrix products (layer norms, GELU, softmax, the optimiser), so its MFU says little; "
         "the figure that matters is the benchmark's, for the recipe, below.", True)]


def reference_options(ref_gap: float | None, reference: float | None) -> list[tuple[str, bool]]:
    """The verdict on the run's whole-split loss against the published one (``ref_gap``: this run
    minus the published value; None when the run follows neither recipe)."""
    if ref_gap is None:
        return [("This run follows neither recipe, so neither published figure applies to it.", True)]
    side = "above" if ref_gap > 0 else "below"
    return [
        (f"This run's whole-split loss is within a hundredth of a nat of the published {reference}.",
         abs(ref_gap) < 0.01),
        (f"This run's whole-split loss is {abs(ref_gap):.3f} nats {side} the published {reference}, "
         "a few hundredths of a nat: a gap of the same order as the seed spread the scaling chapter "
         "measures (a few hundredths), so one seed can "
         "neither confirm it nor rule it out.", abs(ref_gap) < 0.1),
        (f"This run's whole-split loss is {abs(ref_gap):.3f} nats {side} the published {reference}, "
         "more than a tenth of a nat, too much to put down to seeds alone.", True)]


def describe_run(found: Findings, values: Mapping[str, Any], summary: Mapping[str, Any],
                 history: list[dict], val_whole: float, device_name: str) -> str:
    """Record the run's values and claims (size, losses, speed, the published comparison) in
    ``found``; returns the recipe's name."""
    recipe = recipe_name(values)
    final = history[-1]
    found.value("tr_params", f"{summary['n_params']:,}")
    found.value("tr_params_pos", f"{summary['n_params'] - summary['n_params_without_position']:,}")
    found.value("tr_recipe", recipe)
    found.value("tr_iters", f"{values['max_iters']:,}")
    found.value("tr_tokens", f"{values['max_iters'] * values['batch_size'] * values['block_size']:,}")
    found.value("tr_val_final", final["val_loss"])
    found.value("tr_train_final", final["train_loss"])
    found.value("tr_val_whole", val_whole)
    found.value("tr_val_bits", val_whole / 0.6931471805599453)
    found.value("tr_gap", final["val_loss"] - final["train_loss"])
    found.value("tr_ms", summary["ms_per_iter"])
    found.value("tr_tps", f"{summary['tokens_per_s']:,.0f}")
    found.value("tr_mfu", 100 * summary["mfu"])
    found.value("tr_mfu_reading", found.choose(mfu_reading_options(values), {
        "n_layer": values["n_layer"], "n_embd": values["n_embd"], "block_size": values["block_size"],
        "batch_size": values["batch_size"]}))
    found.value("tr_peak", summary["peak_flops"] / 1e9)
    found.value("tr_fpt", summary["flops_per_token"] / 1e6)
    found.value("tr_device", device_name)
    reference = published_loss(values)
    ref_gap = None if reference is None else val_whole - reference
    found.claim("this run lands close to (within a tenth of a nat of) nanoGPT's published loss for "
                "its recipe", ref_gap is not None and abs(ref_gap) < 0.1,
                "not a recipe" if ref_gap is None else ref_gap)
    found.claim("the validation loss ends above the training loss (a gap, the first sign of "
                "memorisation)", final["val_loss"] > final["train_loss"],
                final["val_loss"] - final["train_loss"])
    found.value("tr_ref_verdict", found.choose(reference_options(ref_gap, reference),
                                               "not a recipe" if ref_gap is None else ref_gap))
    return recipe


def samples_text(samples: list[dict]) -> str:
    """The text samples as the chapter prints them: a header line per evaluation, then the text."""
    lines = []
    for s in samples:
        lines += [f"--- step {s['step']}, validation loss {s['val_loss']:.3f} nats/char ---",
                  s["text"].rstrip(), ""]
    return "\n".join(lines)


# ---- the recorded benchmark (benchmarks/results/train_throughput.json)

def target_checks(b12: Mapping[str, Any], targets: Mapping[str, Any]) -> list[tuple[str, bool, str]]:
    """``(target, met, what was measured)`` for the throughput, MFU and validation-loss targets."""
    return [
        ("throughput", b12["tokens_per_s"] >= targets["tokens_per_s_batch12"],
         f"{b12['tokens_per_s']:,.0f} tokens per second"),
        ("MFU", b12["mfu"] >= targets["mfu"], f"{100 * b12['mfu']:.1f}%"),
        ("validation-loss", b12["val_loss_whole_split"] <= targets["val_loss_2000"]
         and b12["final"]["val_loss"] <= targets["val_loss_2000"],
         f"{b12['val_loss_whole_split']:.4f} on the whole split, {b12['final']['val_loss']:.4f} on "
         "the fixed batches")]


def target_options(name: str, ok: bool) -> list[tuple[str, bool]]:
    """Met or missed, for one target of the recorded benchmark."""
    return [(f"the recorded benchmark (batch 12) met the {name} target", ok),
            (f"the recorded benchmark (batch 12) missed the {name} target", True)]


def listed(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def targets_sentence(met: list[str], missed: list[str]) -> str:
    """"At batch 12 the recorded run met ... and missed ...", leaving out an empty half."""
    return "At batch 12 the recorded run " + " and ".join(
        part for part in (f"met {listed(met)}" if met else "",
                          f"missed {listed(missed)}" if missed else "") if part) + "."


def speed_options(summary: Mapping[str, Any], b12: Mapping[str, Any],
                  is_cpu_recipe: bool) -> list[tuple[str, bool]]:
    """This page's speed against the recorded benchmark's: comparable only for the CPU recipe."""
    if not is_cpu_recipe:
        return [("This page's own run is not the recipe, so its speed above is not comparable "
                 "with the table.", True)]
    speed_ratio = summary["tokens_per_s"] / b12["tokens_per_s"]
    mfu_side = "lower" if summary["mfu"] < b12["mfu"] else "higher"
    # MFU moves against speed only when the measured peak moved more than the speed did.
    against = (summary["mfu"] < b12["mfu"]) == (speed_ratio > 1)
    peaks = (f"{summary['peak_flops'] / 1e9:.0f} GFLOP/s against {b12['peak_flops'] / 1e9:.0f}")
    tail = (f" ({summary['tokens_per_s']:,.0f} against {b12['tokens_per_s']:,.0f} tokens per "
            f"second), at another commit and on another day; its MFU, {100 * summary['mfu']:.1f}%, is "
            f"{mfu_side} than the table's"
            + (f" because the matmul peak it measured, and divides by, differs more: {peaks}."
               if against else f" (measured peaks: {peaks}).")
            + " The table is one recorded run, not a bound on what this code does on this machine.")
    return [
        ("This page's own run of the same recipe was faster than the recorded benchmark" + tail,
         speed_ratio > 1.1),
        ("This page's own run of the same recipe was slower than the recorded benchmark" + tail,
         speed_ratio < 1 / 1.1),
        ("This page's own run of the same recipe was about as fast as the recorded benchmark" + tail,
         True)]


def describe_benchmark(found: Findings, bench: Mapping[str, Any], values: Mapping[str, Any],
                       summary: Mapping[str, Any]) -> None:
    """Record the recorded benchmark's table, its targets met or missed, and this page's speed
    against it, in ``found``."""
    b12 = next(r for r in bench["runs"] if r["batch_size"] == 12)
    b64 = next(r for r in bench["runs"] if r["batch_size"] == 64)
    found.value("bench_date", bench["date"])
    found.value("bench_commit", bench["commit"][:10])
    found.value("bench_device", bench["device"])
    found.value("bench_peak", b12["peak_flops"] / 1e9)
    for tag, r in (("b12", b12), ("b64", b64)):
        found.value(f"bench_{tag}_ms", r["ms_per_iter"])
        found.value(f"bench_{tag}_tps", f"{r['tokens_per_s']:,.0f}")
        found.value(f"bench_{tag}_mfu", 100 * r["mfu"])
        found.value(f"bench_{tag}_val", r["val_loss_whole_split"])
        found.value(f"bench_{tag}_val_fixed", r["final"]["val_loss"])
    found.value("bench_iters", f"{bench['iters']:,}")
    ref = bench["reference"]
    found.value("bench_nanogpt_tps", f"{ref['nanogpt_tokens_per_s_batch12']:,}")
    found.value("bench_nanogpt_mfu", 100 * ref["nanogpt_mfu_batch12"])
    found.value("bench_nanogpt_ratio", b12["tokens_per_s"] / ref["nanogpt_tokens_per_s_batch12"])
    found.value("bench_target_tps", f"{bench['targets']['tokens_per_s_batch12']:,}")
    found.value("bench_target_mfu", 100 * bench["targets"]["mfu"])
    found.value("bench_target_val", bench["targets"]["val_loss_2000"])
    met, missed = [], []
    for name, ok, detail in target_checks(b12, bench["targets"]):
        verdict = found.choose(target_options(name, ok), detail)
        (met if "met" in verdict.split() else missed).append(f"the {name} target ({detail})")
    found.value("bench_targets_sentence", targets_sentence(met, missed))
    found.claim("batch 64 reaches a higher MFU than batch 12 in the recorded benchmark",
                b64["mfu"] > b12["mfu"], {"batch 12": b12["mfu"], "batch 64": b64["mfu"]})
    found.value("tr_vs_bench", found.choose(
        speed_options(summary, b12, matches(values, CPU_RECIPE)),
        {"this page": summary["tokens_per_s"], "benchmark": b12["tokens_per_s"]}))


# ---- the roofline of one training step

def roofline_rows(mms: list, bytes_per: int, peak: float, bw: float, machine: str,
                  measured: list[float] | None = None) -> list[dict]:
    """One row per product of ``mms``: shape, count, intensity at ``bytes_per`` bytes an element,
    its roof ``min(peak, intensity × bw)``, the measured rate where ``measured`` gives one, and its
    share of the step's product flops."""
    rows = []
    for j, mm in enumerate(mms):
        i = roofline.intensity(mm, bytes_per)
        row = {"product": mm.name, "shape": f"{mm.m} × {mm.k} × {mm.n}", "count": mm.count,
               "intensity": i}
        if measured is not None:
            row["measured"] = measured[j]
        row.update({"roof": roofline.attainable(i, peak, bw), "share": mm.flops, "machine": machine})
        rows.append(row)
    total = sum(r["share"] for r in rows)
    for r in rows:
        r["share"] = r["share"] / total
    return rows


def below(rows: list[dict], balance_point: float) -> float:
    """The share of the step's product flops in products below the balance point."""
    return sum(r["share"] for r in rows if r["intensity"] < balance_point)


def roof_limit(mms: list, bytes_per: int, peak: float, bw: float) -> float:
    """The share of the peak a step's products could reach if each ran at its roof: total flops
    over the sum of each product's flops divided by its attainable rate."""
    flops_ = sum(mm.flops for mm in mms)
    return flops_ / sum(mm.flops / roofline.attainable(roofline.intensity(mm, bytes_per), peak, bw)
                        for mm in mms) / peak


def best_and_worst(here: list[dict]) -> tuple[dict, dict]:
    """The measured rows closest to and farthest from their roofs."""
    return (max(here, key=lambda r: r["measured"] / r["roof"]),
            min(here, key=lambda r: r["measured"] / r["roof"]))


def here_reading_options(share_below: float) -> list[tuple[str, bool]]:
    """Where this machine's step sits on its roof, from the share of flops below the balance."""
    return [("nearly all of it sits on the flat, arithmetic-bound part of this machine's roof",
             share_below < 0.1),
            ("a good part of it waits for memory on this machine", True)]


def compile_gain_options(gain: float, compile_s: float) -> list[tuple[str, bool]]:
    """What compiling did to the recorded ensemble benchmark's step time (``gain``: eager over
    compiled, minus one)."""
    return [
        (f"its steps {100 * gain:.0f} % faster compiled, after about {compile_s:.0f} s "
         "of compilation (the first step's excess, with the compiler's on-disk cache of earlier runs)",
         gain > 0.02),
        (f"no gain from compiling ({100 * gain:+.0f} %), after about {compile_s:.0f} s "
         "of compilation (with the compiler's on-disk cache of earlier runs)", True)]


def cache_note_options(best: Mapping[str, float]) -> list[tuple[str, bool]]:
    """A note when the best product runs above its memory roof (its operands stay in cache)."""
    return [(" A product above 100 % of its roof has operands small enough to stay in the cache, "
             "which the memory roof (main memory's bandwidth) ignores.", best["measured"] > best["roof"]),
            (" None runs above its roof.", True)]


def gpu_bound_options(limit: float) -> list[tuple[str, bool]]:
    """What the GPU recipe's step could use of the tensor cores' peak, each product at its roof."""
    return [("so even at its roof, product by product, the step could not use more than about "
             f"{100 * limit:.0f} % of the tensor cores' peak", limit < 0.9),
            (f"but at its roof, product by product, the step could use {100 * limit:.0f} % of the peak",
             True)]


def gpu_measured_sentence(gpu_check: Mapping[str, Any] | None) -> str:
    """What ``benchmarks/results/gpu_check.json`` says (absent, a smoke rehearsal, or measured)."""
    if gpu_check is None:
        return ("No GPU measurement is recorded yet (`benchmarks/results/gpu_check.json`, written by "
                "`benchmarks/gpu_check.py` on a CUDA machine, is absent), so the H100 figures above "
                "are the datasheet's, not measurements of this code.")
    if gpu_check["smoke"]:
        return ("The recorded `benchmarks/results/gpu_check.json` is a rehearsal at toy sizes "
                f"(`--smoke`, on {gpu_check['device']}), not a GPU measurement, so the H100 figures "
                "above are the datasheet's.")
    thr = {r["compile"]: r for r in gpu_check["throughput"]}
    return (f"Measured on {gpu_check['device']} ({gpu_check['date']}, `benchmarks/gpu_check.py`): "
            f"a bf16 matmul peak of {gpu_check['peak_flops'] / 1e12:.0f} TFLOP/s; the GPU recipe "
            f"trains at {thr[False]['tokens_per_s']:,.0f} tokens per second eagerly "
            f"(MFU {100 * thr[False]['mfu']:.1f} %) and {thr[True]['tokens_per_s']:,.0f} compiled "
            f"(MFU {100 * thr[True]['mfu']:.1f} %); after {gpu_check['training']['steps']:,} steps "
            f"its loss on the whole validation split is "
            f"{gpu_check['training']['val_loss_whole_split']:.4f} nats per character.")


def roofline_table(rows: list[dict]) -> str:
    """The Markdown table of every product: machine, shape, count, intensity, share of flops."""
    lines = ["| product | machine | shape M × K × N | count | flops per byte | share of step flops |",
             "|---|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['product']} | {r['machine']} | {r['shape']} | {r['count']:,} "
                     f"| {r['intensity']:.1f} | {100 * r['share']:.1f} % |")
    return "\n".join(lines)


def roofline_plot(rows: list[dict], machines: list[tuple[str, float, float]]) -> tuple[list, list]:
    """The figure's points (each row at its measured rate, else at its roof) and each machine's
    roof ``(name, peak, bandwidth)`` as line vertices across the points' intensities."""
    points = [{**r, "rate": r.get("measured", r["roof"])} for r in rows]
    xs = [min(r["intensity"] for r in points) / 2, max(r["intensity"] for r in points) * 2]
    roofs = []
    for name, p, b in machines:
        for x in sorted(set(xs + [p / b])):
            if xs[0] <= x <= xs[1]:
                roofs.append({"machine": name, "intensity": x, "rate": roofline.attainable(x, p, b)})
    return points, roofs


@dataclass(frozen=True)
class RooflineInputs:
    """What the roofline section needs besides this machine's rows: the GPU recipe's and the
    sweep model's products, the H100's datasheet figures, and the recorded files."""

    gpu_mms: list
    gpu_model: GPTConfig
    sweep_mms: list
    sweep_width: int
    h100_peak: float
    h100_bw: float
    tensor_ratio: float
    matmul_share: float
    ens_bench: Mapping[str, Any]
    gpu_check: Mapping[str, Any] | None


def describe_roofline(found: Findings, here: list[dict], peak: float, bw: float,
                      inputs: RooflineInputs) -> list[dict]:
    """Record the roofline values and claims in ``found``; returns the GPU recipe's rows."""
    balance = peak / bw
    h100_peak, h100_bw = inputs.h100_peak, inputs.h100_bw
    gpu = roofline_rows(inputs.gpu_mms, 2, h100_peak, h100_bw, H100)
    found.value("rf_bw", bw / 1e9)
    found.value("rf_balance", balance)
    found.value("rf_h100_tflops", f"{h100_peak / 1e12:,.0f}")
    found.value("rf_h100_bw", f"{h100_bw / 1e12:.2f}")
    found.value("rf_h100_balance", h100_peak / h100_bw)
    found.value("rf_below_here", 100 * below(here, balance))
    found.value("rf_below_gpu", 100 * below(gpu, h100_peak / h100_bw))
    found.value("rf_gpu_max", max(r["intensity"] for r in gpu))
    found.value("rf_tensor_ratio", inputs.tensor_ratio)
    found.value("rf_sweep_width", inputs.sweep_width)
    found.value("rf_sweep_max", max(roofline.intensity(mm, 2) for mm in inputs.sweep_mms))
    head = inputs.gpu_model.n_embd // inputs.gpu_model.n_head
    found.value("rf_attn_ratio", 2 * inputs.gpu_model.block_size / (3 * head))
    found.value("rf_gpu_T", inputs.gpu_model.block_size)
    found.value("rf_gpu_head", head)
    found.value("rf_here_reading", found.choose(here_reading_options(below(here, balance)),
                                                below(here, balance)))
    ens = inputs.ens_bench
    walls = {k: ens["rates"][k]["wall_s"] for k in ("ensemble", "ensemble, compiled")}
    found.value("rf_compile_wall", f"{walls['ensemble, compiled']:.1f} s against "
                                   f"{walls['ensemble']:.1f} s eager")
    gain = ens["step"]["eager_s"] / ens["step"]["compiled_s"] - 1
    found.value("rf_compile_gain", found.choose(compile_gain_options(gain, ens["compile_s"]), gain))
    found.value("rf_counted", 100 * inputs.matmul_share)
    best, worst = best_and_worst(here)
    found.value("rf_best", f"{best['product']} ({100 * best['measured'] / best['roof']:.0f} % of its roof)")
    found.value("rf_worst", f"{worst['product']} ({100 * worst['measured'] / worst['roof']:.0f} %)")
    found.value("rf_cache_note", found.choose(cache_note_options(best), best["measured"] / best["roof"]))
    gpu_limit = roof_limit(inputs.gpu_mms, 2, h100_peak, h100_bw)
    sweep_limit = roof_limit(inputs.sweep_mms, 2, h100_peak, h100_bw)
    found.value("rf_gpu_limit", 100 * gpu_limit)
    found.value("rf_sweep_limit", 100 * sweep_limit)
    found.value("rf_gpu_bound", found.choose(gpu_bound_options(gpu_limit), gpu_limit))
    found.value("rf_measured", gpu_measured_sentence(inputs.gpu_check))
    return gpu


@dataclass(frozen=True)
class TrainingResult(Result):
    """The run's evaluations (``history``), its text samples, which recipe it followed, the
    roofline's rows (``roofline``: this machine's products, then the GPU recipe's), the figure's
    roof lines, and every value and claim the chapter states."""

    history: tuple[dict, ...]
    samples: tuple[dict, ...]
    samples_text: str
    recipe: str
    roofline: tuple[dict, ...]
    roofline_table: str
    roofline_points: tuple[dict, ...]
    roofs: tuple[dict, ...]


def run(cfg: ChapterConfig) -> TrainingResult:
    """Chapter training: the run at ``cfg``'s sizes, the recorded benchmark, and the roofline of
    one step on this machine (measured) and on an H100 (datasheet)."""
    import json
    from dataclasses import replace

    from ..base.paths import PROJECT_ROOT
    from ..base.profiles import resolve
    from ..gpt import budget
    from ..gpt.flops import flops_per_token
    from ..sweeps.knob import SWEEP_MODEL, sweep_train_config

    device = pick()
    out = shakespeare_run(cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.block_size, cfg.batch_size,
                          cfg.max_iters, cfg.eval_interval, cfg.eval_iters, cfg.dropout,
                          cfg.learning_rate, cfg.seed, cfg.sample_chars, cfg.compile, device)
    trained = out["run"]
    summary = trained.summary(out["peak_flops"])
    found = Findings()
    recipe = describe_run(found, cfg.values, summary, trained.history, out["val_loss_whole_split"],
                          device.name)
    results = PROJECT_ROOT / "benchmarks/results"
    describe_benchmark(found, json.loads((results / "train_throughput.json").read_text()),
                       cfg.values, summary)

    # The roofline: this machine's bandwidth and each product's rate measured now.
    dtype_bytes = 2 if device.autocast_dtype is not None else 4
    peak = summary["peak_flops"]
    bw = roofline.memory_bandwidth(device.torch)
    mms = roofline.step_matmuls(trained.model.cfg, cfg.batch_size)
    rates = [roofline.time_matmul(mm, device.torch, device.autocast_dtype or torch.float32)
             for mm in mms]
    here = roofline_rows(mms, dtype_bytes, peak, bw, HERE, measured=rates)
    gpu_cfg = resolve("training", "gpu")
    gpu_model = recipe_model(trained.model.cfg.vocab_size, gpu_cfg.n_layer, gpu_cfg.n_head,
                             gpu_cfg.n_embd, gpu_cfg.block_size, gpu_cfg.dropout)
    sweep_gpu = resolve("knob", "gpu")
    sweep_model = replace(SWEEP_MODEL, n_embd=sweep_gpu.width)
    matmul_share = sum(mm.flops for mm in roofline.step_matmuls(trained.model.cfg, 1)) / (
        cfg.block_size * flops_per_token(trained.model.cfg,
                                         trained.model.num_params(include_position=False)))
    gpu_path = results / "gpu_check.json"
    inputs = RooflineInputs(
        gpu_mms=roofline.step_matmuls(gpu_model, gpu_cfg.batch_size), gpu_model=gpu_model,
        sweep_mms=roofline.step_matmuls(sweep_model, sweep_train_config(sweep_gpu.iters).batch_size),
        sweep_width=sweep_gpu.width, h100_peak=budget.H100_BF16_FLOPS,
        h100_bw=budget.H100_MEMORY_BYTES_PER_S,
        tensor_ratio=budget.H100_BF16_FLOPS / budget.H100_FP32_FLOPS, matmul_share=matmul_share,
        ens_bench=json.loads((results / "ensemble_speed.json").read_text()),
        gpu_check=json.loads(gpu_path.read_text()) if gpu_path.exists() else None)
    gpu = describe_roofline(found, here, peak, bw, inputs)
    points, roofs = roofline_plot(here + gpu, [(HERE, peak, bw), (H100, inputs.h100_peak,
                                                                  inputs.h100_bw)])
    return TrainingResult(
        history=tuple(trained.history), samples=tuple(out["samples"]),
        samples_text=samples_text(out["samples"]), recipe=recipe, roofline=tuple(here + gpu),
        roofline_table=roofline_table(here + gpu), roofline_points=tuple(points),
        roofs=tuple(roofs), **found.done())
