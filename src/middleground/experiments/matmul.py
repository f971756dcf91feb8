"""The matmul chapter's experiment: how much of a numpy GPT's forward pass is matrix multiplication.

:func:`run` builds the chapter's model, checks the numpy forward against torch's, counts the
forward's operations op by op, compares the exact training count with three versions of the 6N
rule across context lengths, and times the forward two ways (the matrix products replayed alone,
:func:`matmul_share`, and a stopwatch around every function the forward calls,
:func:`profile_forward`). The arithmetic on those counts and times is in small pure functions
(:func:`flop_rows`, :func:`training_ratio`, :func:`embedding_share`, :func:`inside_shares`,
:func:`stopwatch_split`, :func:`time_verdict`, :func:`elementwise_verdict`), tested on hand-made
inputs.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..base.profiles import ChapterConfig
from ..mechanics import calculus as calc
from ..mechanics import numpy_gpt
from ..mechanics.config import GPTConfig
from .report import Findings, Result

VOCAB = 65  # the chapter's vocabulary: Tiny Shakespeare's characters
ELEMENTWISE = "element-wise (norms, softmax, GELU, biases, residuals)"  # forward_flops' last term
CONTEXTS = (16, 32, 64, 128, 256, 512, 1024, 2048)  # the context lengths of the 6N comparison
# The three versions of the 6N rule, by the column name the chart shows and the glue key's suffix.
RULES = (("exact / 6N (all parameters)", "all"), ("exact / 6N (non-embedding)", "nonemb"),
         ("exact / (6N + 6 L T C), Kaplan", "kaplan"))


def matmul_share(params, cfg: GPTConfig, idx: np.ndarray, repeats: int) -> dict:
    """Median wall time of the numpy forward, and of the same matmuls alone (same shapes, same data
    type), replayed. Their ratio is the share of the forward spent in matrix multiplication."""
    B, T = idx.shape
    C, H, V = cfg.n_embd, cfg.n_head, cfg.vocab_size
    D = C // H
    shapes = []
    for _ in range(cfg.n_layer):
        shapes += [((B * T, C), (C, 3 * C)), ((B, H, T, D), (B, H, D, T)), ((B, H, T, T), (B, H, T, D)),
                   ((B * T, C), (C, C)), ((B * T, C), (C, 4 * C)), ((B * T, 4 * C), (4 * C, C))]
    shapes.append(((B * T, C), (C, V)))
    rng = np.random.default_rng(0)
    operands = [(rng.normal(size=a), rng.normal(size=b)) for a, b in shapes]

    def median_time(fn):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    forward = median_time(lambda: numpy_gpt.forward(params, cfg, idx))
    matmuls = median_time(lambda: [a @ b for a, b in operands])
    return {"forward_s": forward, "matmul_s": matmuls, "share": matmuls / forward}


def flop_rows(flops: Mapping[str, float]) -> tuple[list[dict], float]:
    """The chart's rows (operation, FLOPs per token, share of the total) of a
    :func:`~middleground.mechanics.numpy_gpt.forward_flops` count, and the FLOPs in matrix products
    (every term but the total and the last, element-wise one)."""
    rows = [{"operation": k, "flops": v, "share": v / flops["total"]} for k, v in flops.items() if k != "total"]
    matmul_flops = sum(v for k, v in flops.items() if k not in ("total", rows[-1]["operation"]))
    return rows, matmul_flops


def training_ratio(T: int, n_layer: int, n_head: int, n_embd: int, n_params: int, block_size: int) -> dict:
    """The exact matrix-product FLOPs of training (three times the forward) at context ``T``, over
    each version of the 6N rule (:data:`RULES`), for the chapter's model of ``n_params`` parameters
    at context ``block_size`` (its position table grows with ``T``)."""
    f = numpy_gpt.forward_flops(GPTConfig(vocab_size=VOCAB, block_size=T, n_layer=n_layer,
                                          n_head=n_head, n_embd=n_embd), T)
    matmul = f["total"] - f[ELEMENTWISE]
    n_all = n_params - block_size * n_embd + T * n_embd  # wpe grows with T
    n_non_embedding = n_all - VOCAB * n_embd - T * n_embd
    return {"T": T, RULES[0][0]: 3 * matmul / (6 * n_all),
            RULES[1][0]: 3 * matmul / (6 * n_non_embedding),
            RULES[2][0]: 3 * matmul / (6 * n_non_embedding + 6 * n_layer * T * n_embd)}


def embedding_share(T: int, n_embd: int, n_params: int, block_size: int) -> float:
    """The token and position embeddings' share of the parameters at context ``T``."""
    return (VOCAB + T) * n_embd / (n_params - block_size * n_embd + T * n_embd)


def rises(series) -> bool:
    """Whether every value of ``series`` is above the one before it."""
    return all(b > a for a, b in zip(series, series[1:]))


# The functions the stopwatch wraps, looked up in the calculus module at each call of the forward
# (the softmax is called from inside attention_forward).
WATCHED = ("linear_forward", "attention_forward", "softmax", "layernorm_forward", "gelu_forward",
           "embedding_forward")


def stopwatch_forward(params, model_cfg: GPTConfig, idx: np.ndarray) -> tuple[float, dict]:
    """One forward with every :data:`WATCHED` function timed: (total seconds, seconds per function).
    The forward looks each function up in the calculus module when it calls it, so wrapping them
    there times them in place; they are put back afterwards."""
    originals = {name: getattr(calc, name) for name in WATCHED}
    spent = defaultdict(float)

    def stopwatch(name, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            spent[name] += time.perf_counter() - t0
            return out
        return timed

    try:
        for name, fn in originals.items():
            setattr(calc, name, stopwatch(name, fn))
        t0 = time.perf_counter()
        numpy_gpt.forward(params, model_cfg, idx)
        return time.perf_counter() - t0, spent
    finally:
        for name, fn in originals.items():
            setattr(calc, name, fn)


def profile_forward(params, model_cfg: GPTConfig, idx: np.ndarray, repeats: int) -> tuple[float, dict]:
    """The stopwatched forward of median length over ``repeats`` runs, as the replay keeps medians."""
    runs = sorted((stopwatch_forward(params, model_cfg, idx) for _ in range(repeats)), key=lambda run: run[0])
    return runs[len(runs) // 2]


def inside_shares(profiled: float, spent: Mapping[str, float]) -> dict[str, float]:
    """The stopwatch's split of one forward of ``profiled`` seconds, as shares of it: each watched
    function (attention without its softmax), and the rest of the time between them."""
    inside = {
        "linear layers (matrix product and bias)": spent["linear_forward"],
        "attention scores, mask and mixing (two products)": spent["attention_forward"] - spent["softmax"],
        "softmax of the attention scores": spent["softmax"],
        "layer norms": spent["layernorm_forward"],
        "GELU": spent["gelu_forward"],
        "embedding lookup": spent["embedding_forward"],
    }
    inside["everything else (residual additions, head splits, reshapes, Python)"] = profiled - sum(inside.values())
    return {k: v / profiled for k, v in inside.items()}


def inside_table(inside: Mapping[str, float]) -> str:
    """The stopwatch's split as the Markdown table the chapter shows."""
    return ("| inside the forward | share of its time |\n|---|---|\n"
            + "\n".join(f"| {name} | {100 * v:.1f} % |" for name, v in inside.items()))


def stopwatch_split(inside: Mapping[str, float]) -> dict:
    """The prose's numbers from the stopwatch's shares (in :func:`inside_shares`' order): linear
    layers, attention, the four element-wise functions together and the largest of them, and the
    rest, in per cent."""
    names = list(inside)
    elementwise = {k: inside[k] for k in names[2:6]}
    largest = max(elementwise, key=elementwise.get)
    return {"mm_in_linear": 100 * inside[names[0]], "mm_in_attention": 100 * inside[names[1]],
            "mm_elem_total": 100 * sum(elementwise.values()), "mm_elem_largest": largest,
            "mm_elem_largest_share": 100 * elementwise[largest], "mm_in_rest": 100 * inside[names[6]]}


TIME_VERDICTS = ("nearly their share of the arithmetic",
                 "most of the time, but less than their share of the arithmetic",
                 "about half of the time, well below their share of the arithmetic",
                 "less than half of the time, although they are almost all of the arithmetic")


def time_verdict(time_share: float, flop_share: float) -> str:
    """What the matrix products' share of the time is, next to their share of the arithmetic."""
    options = [(TIME_VERDICTS[0], time_share >= 0.9 * flop_share), (TIME_VERDICTS[1], time_share > 0.5),
               (TIME_VERDICTS[2], time_share >= 0.4), (TIME_VERDICTS[3], True)]
    return next(text for text, condition in options if condition)


ELEMENTWISE_VERDICTS = ("far more of the time than of the arithmetic",
                        "more of the time than of the arithmetic",
                        "about as much of the time as of the arithmetic")


def elementwise_verdict(per_op: float) -> str:
    """How the rest's share of the time compares with its share of the arithmetic (``per_op``: the
    ratio of the two)."""
    options = [(ELEMENTWISE_VERDICTS[0], per_op >= 5), (ELEMENTWISE_VERDICTS[1], per_op >= 1.5),
               (ELEMENTWISE_VERDICTS[2], True)]
    return next(text for text, condition in options if condition)


@dataclass(frozen=True)
class MatmulResult(Result):
    """The model (``model``, ``n_params``), the forward's FLOPs by operation (``flop_rows``), the
    training-to-rule ratios by context (``ratios``), the replayed timing (``timing``), the
    stopwatch's shares (``inside``, and as a table), the lines the chapter prints, and every value
    and claim the chapter states."""

    model: GPTConfig
    n_params: int
    flop_rows: tuple[dict, ...]
    ratios: tuple[dict, ...]
    timing: Mapping[str, float]
    inside: Mapping[str, float]
    inside_table: str
    model_line: str
    logit_line: str
    timing_line: str


def run(cfg: ChapterConfig) -> MatmulResult:
    """Chapter matmul at ``cfg``'s sizes: the numpy forward checked, counted and timed."""
    import torch

    from ..gpt.model import GPT

    found = Findings()
    model_cfg = GPTConfig(vocab_size=VOCAB, block_size=cfg.block_size, n_layer=cfg.n_layer,
                          n_head=cfg.n_head, n_embd=cfg.n_embd)
    torch.manual_seed(cfg.seed)
    model = GPT(model_cfg).double().eval()
    params = numpy_gpt.from_torch(model)
    idx = np.random.default_rng(cfg.seed).integers(VOCAB, size=(cfg.batch_size, cfg.block_size))
    n_params = model.num_params()

    # The numpy forward against torch's
    with torch.no_grad():
        torch_logits, _ = model(torch.tensor(idx))
    np_logits, _, _ = numpy_gpt.forward(params, model_cfg, idx)
    max_diff = float(np.abs(np_logits - torch_logits.numpy()).max())
    found.value("mm_max_logit_diff", max_diff)
    found.value("mm_params", f"{n_params:,}")
    found.claim("the numpy and torch logits differ only by double-precision rounding (below 1e-12)",
                max_diff < 1e-12, max_diff)

    # The forward's operations
    flops = numpy_gpt.forward_flops(model_cfg, cfg.block_size)
    rows, matmul_flops = flop_rows(flops)
    found.value("mm_flops_total", flops["total"])
    flop_share = matmul_flops / flops["total"]
    found.value("mm_flops_matmul_share", 100 * flop_share)
    found.claim("matrix products are almost all of the forward arithmetic (over 90 %)", flop_share > 0.9,
                flop_share)

    # The 6N rule against the exact count, by context
    def ratio(T):
        return training_ratio(T, cfg.n_layer, cfg.n_head, cfg.n_embd, n_params, cfg.block_size)

    ratios = [ratio(T) for T in CONTEXTS]
    here = ratio(cfg.block_size)
    for key, name in RULES:
        found.value(f"mm_ratio_{name}", here[key])
    for key, name in RULES:
        found.value(f"mm_ratio_{name}_2048", ratios[-1][key])
        series = [r[key] for r in ratios]
        found.claim(f"the ratio {key} drifts upward with the context", rises(series), series)
    share_here, share_2048 = (embedding_share(T, cfg.n_embd, n_params, cfg.block_size)
                              for T in (cfg.block_size, 2048))
    found.value("mm_emb_share", 100 * share_here)
    found.value("mm_emb_share_2048", 100 * share_2048)
    found.claim("the embeddings' share of the parameters grows with the context", share_2048 > share_here,
                [share_here, share_2048])
    gaps = [r[RULES[1][0]] - r[RULES[0][0]] for r in (here, ratios[-1])]
    found.claim("the all-parameter and non-embedding counts part ways as the context grows",
                gaps[1] > 2 * gaps[0], gaps)

    # Where the time goes: the products replayed, then a stopwatch inside the forward
    timing = matmul_share(params, model_cfg, idx, cfg.repeats)
    time_share = timing["share"]
    profiled, spent = profile_forward(params, model_cfg, idx, cfg.repeats)
    inside = inside_shares(profiled, spent)
    found.value("mm_time_forward_ms", 1e3 * timing["forward_s"])
    found.value("mm_time_share", 100 * time_share)
    found.value("mm_batch", f"{cfg.batch_size} × {cfg.block_size}")
    verdict = time_verdict(time_share, flop_share)
    found.claim(verdict, True, {"time share": time_share, "arithmetic share": flop_share})
    found.value("mm_time_verdict", verdict)
    per_op = (1.0 - time_share) / (1.0 - flop_share)
    found.value("mm_elem_per_op", per_op)
    verdict = elementwise_verdict(per_op)
    found.claim(verdict, True, per_op)
    found.value("mm_elem_verdict", verdict)
    for key, value in stopwatch_split(inside).items():
        found.value(key, value)
    return MatmulResult(
        model=model_cfg, n_params=n_params, flop_rows=tuple(rows), ratios=tuple(ratios),
        timing=MappingProxyType(dict(timing)), inside=MappingProxyType(dict(inside)),
        inside_table=inside_table(inside),
        model_line=f"{model_cfg} \n{n_params:,} parameters (position embeddings included, tied output counted once)",
        logit_line=f"max |numpy - torch| over {np_logits.size:,} logits: {max_diff:.2e}",
        timing_line=(f"matrix products, replayed: {time_share:.1%} of the forward; inside the forward: "
                     + ", ".join(f"{k} {v:.1%}" for k, v in inside.items())),
        **found.done())
