"""The backprop chapter's experiment: the numpy GPT and the torch GPT trained side by side."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np
import torch

from ..base.profiles import ChapterConfig
from ..gpt import core
from ..gpt.device import pick
from ..gpt.model import GPT, GPTConfig
from ..gpt.text import shakespeare_char
from ..mechanics import numpy_gpt
from .report import Findings, Result


def train_numpy_and_torch(steps: int, n_layer: int, n_embd: int, block_size: int, batch_size: int,
                          learning_rate: float, seed: int) -> tuple[list[dict], dict]:
    """Train the numpy GPT and the torch GPT from identical weights on identical batches (float64).

    Both use AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices only) at a constant
    learning rate; the torch side is the training core of every other run of the book
    (:mod:`middleground.gpt.core`: its batches, its weight-decay split, its step). Returns per-step
    losses of both and the final parameter differences.
    """
    train, _, vocab = shakespeare_char()
    cfg = GPTConfig(vocab_size=len(vocab), block_size=block_size, n_layer=n_layer, n_head=2,
                    n_embd=n_embd)
    tc = core.TrainConfig(max_iters=steps, batch_size=batch_size, learning_rate=learning_rate,
                          min_lr=learning_rate, warmup_iters=0, beta2=0.95, weight_decay=0.1,
                          grad_clip=0.0, seed=seed)
    device = pick("cpu")
    torch.manual_seed(seed)
    model = GPT(cfg).double()
    params = numpy_gpt.from_torch(model)
    opt = core.adamw(model, tc, device)
    tokens = torch.as_tensor(train, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    state: dict = {}
    records = []
    for it in range(steps):
        x, y = core.random_batch(tokens, block_size, batch_size, gen)
        np_loss, grads = numpy_gpt.loss_and_grads(params, cfg, x.numpy(), y.numpy())
        numpy_gpt.adamw_step(params, grads, state, lr=learning_rate, betas=(tc.beta1, tc.beta2),
                             eps=1e-8, weight_decay=tc.weight_decay,
                             decay=lambda name: core.decays(params[name].ndim))
        loss = core.step(model, opt, x, y, learning_rate, device)
        records.append({"step": it + 1, "implementation": "numpy (by hand)", "loss": float(np_loss)})
        records.append({"step": it + 1, "implementation": "torch (autograd)", "loss": loss.item()})
    reference = numpy_gpt.to_torch_layout(params)
    state_dict = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    abs_diff = max(float(np.abs(reference[k] - v.numpy()).max()) for k, v in state_dict.items())
    scale = max(float(np.abs(v.numpy()).max()) for v in state_dict.values())
    return records, {"max_abs_param_diff": abs_diff, "max_abs_param": scale,
                     "n_params": model.num_params()}


@dataclass(frozen=True)
class BackpropResult(Result):
    """Both runs' losses per step (``records``), the parameter agreement (``facts``), the final
    losses by implementation, and every value and claim the chapter states."""

    records: tuple[dict, ...]
    facts: Mapping[str, float]
    final: Mapping[str, float]


# The agreement sentence, by the larger of the two relative differences (loss and parameters).
_SAME = (": the two runs are the same computation up to the order of floating-point additions, whose "
         "rounding differences the training steps carry forward.")
AGREEMENT = (("Both are below a millionth" + _SAME, 1e-6),
             ("Both are below a thousandth" + _SAME, 1e-3),
             ("Both are a thousandth or more, so something other than rounding separates the two runs.",
              math.inf))


def agreement_sentence(loss_rel: float, param_rel: float) -> str:
    """The first sentence of :data:`AGREEMENT` whose bound exceeds both relative differences."""
    worst = max(loss_rel, param_rel)
    return next(text for text, bound in AGREEMENT if worst < bound)


def summarise(records: list[dict], facts: Mapping[str, float], steps: int, lines: int) -> BackpropResult:
    """The chapter's numbers from the two runs' per-step losses (numpy first at each step, then
    torch, as :func:`train_numpy_and_torch` returns them), their parameter facts and the line count
    of the hand-written mechanics."""
    found = Findings()
    final = {r["implementation"]: r["loss"] for r in records if r["step"] == steps}
    pairs = list(zip(records[::2], records[1::2]))
    max_loss_gap = max(abs(a["loss"] - b["loss"]) for a, b in pairs)
    loss_rel = max(abs(a["loss"] - b["loss"]) / abs(b["loss"]) for a, b in pairs)
    param_rel = facts["max_abs_param_diff"] / facts["max_abs_param"]
    found.value("bp_steps", steps)
    found.value("bp_params", f"{facts['n_params']:,}")
    found.value("bp_param_diff", facts["max_abs_param_diff"])
    found.value("bp_param_scale", facts["max_abs_param"])
    found.value("bp_loss_gap", max_loss_gap)
    found.value("bp_first_loss", records[0]["loss"])
    found.value("bp_final_loss", final["numpy (by hand)"])
    found.value("bp_loss_rel", loss_rel)
    found.value("bp_param_rel", param_rel)
    found.claim("the loss falls over training", final["numpy (by hand)"] < records[0]["loss"],
                [records[0]["loss"], final["numpy (by hand)"]])
    found.claim("the two runs match step for step: their losses differ by less than a thousandth of "
                "the loss at every step", loss_rel < 1e-3, loss_rel)
    found.claim("after training, every numpy parameter matches its torch counterpart to a thousandth "
                "of the largest parameter", param_rel < 1e-3, param_rel)
    # Rounding differences grow as training carries them forward; the bound the prose states is
    # chosen from the data (a wrong gradient would fail the claims above).
    sentence = agreement_sentence(loss_rel, param_rel)
    found.claim(sentence, True, {"loss": loss_rel, "parameters": param_rel})
    found.value("bp_agreement", sentence)
    found.value("bp_lines", lines)
    found.claim("a few hundred lines of numpy", 100 <= lines < 1000, lines)
    return BackpropResult(records=tuple(records), facts=MappingProxyType(dict(facts)),
                          final=MappingProxyType(final), **found.done())


def run(cfg: ChapterConfig) -> BackpropResult:
    """Chapter backprop: both GPTs trained side by side at ``cfg``'s sizes, summarised."""
    from ..mechanics import calculus

    records, facts = train_numpy_and_torch(cfg.steps, cfg.n_layer, cfg.n_embd, cfg.block_size,
                                           cfg.batch_size, cfg.learning_rate, cfg.seed)
    lines = sum(len(Path(m.__file__).read_text().splitlines()) for m in (numpy_gpt, calculus))
    return summarise(records, facts, cfg.steps, lines)
