"""The calculus chapter's experiment: every hand-derived gradient against torch autograd (float64).

:func:`run` measures each component's largest relative error against autograd
(:func:`gradient_errors`) and attention's behaviour over a single position
(:func:`attention_at_one_position`); :func:`summarise` turns those numbers into the chapter's values,
claims and outcome-dependent sentences (:func:`headline`, :func:`zero_noise`,
:func:`layer_norm_sentence`), each a pure function tested on fabricated errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from ..base.profiles import ChapterConfig
from ..gpt.model import GPT, GPTConfig
from ..mechanics import calculus as c
from ..mechanics import numpy_gpt
from .report import Findings, Result


def gradient_errors(trials: int, seed: int) -> list[dict]:
    """Maximum relative error of each hand gradient against torch autograd (float64), over
    ``trials`` random inputs and shapes, including batch 1 and sequence length 1."""
    rng = np.random.default_rng(seed)

    def rel(a, b):
        b = b.detach().numpy() if hasattr(b, "detach") else b
        # Gradients that are exactly zero in theory (attention over one position: dQ = dK = 0) come
        # back from autograd as rounding noise near 1e-16: below 1e-6, compare absolutely.
        return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-6))

    def tt(x):
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    worst: dict[str, float] = {}

    def keep(name, err):
        worst[name] = max(worst.get(name, 0.0), err)

    for trial in range(trials):
        B, T = [(1, 1), (1, 6), (4, 1), (3, 7)][trial % 4]
        N, d = B * T, int(rng.integers(2, 9))
        X, W, b, dY = rng.normal(size=(N, d)), rng.normal(size=(d, 5)), rng.normal(size=5), rng.normal(size=(N, 5))
        _, cache = c.linear_forward(X, W, b)
        grads = c.linear_backward(dY, cache)
        tX, tW, tb = tt(X), tt(W), tt(b)
        (tX @ tW + tb).backward(torch.tensor(dY))
        keep("linear", max(rel(g, r.grad) for g, r in zip(grads, (tX, tW, tb))))

        Z, y = 3 * rng.normal(size=(N, 7)), rng.integers(7, size=N)
        _, cache = c.cross_entropy_forward(Z, y)
        tZ = tt(Z)
        F.cross_entropy(tZ, torch.tensor(y)).backward()
        keep("softmax + cross-entropy", rel(c.cross_entropy_backward(1.0, cache), tZ.grad))

        X3, g, be, dY3 = rng.normal(size=(B, T, d)), rng.normal(size=d), rng.normal(size=d), rng.normal(size=(B, T, d))
        _, cache = c.layernorm_forward(X3, g, be)
        grads = c.layernorm_backward(dY3, cache)
        tX, tg, tb = tt(X3), tt(g), tt(be)
        F.layer_norm(tX, (d,), tg, tb, eps=1e-5).backward(torch.tensor(dY3))
        keep("layer norm", max(rel(gr, r.grad) for gr, r in zip(grads, (tX, tg, tb))))

        _, cache = c.gelu_forward(X)
        tX = tt(X)
        F.gelu(tX).backward(torch.tensor(dY[:, :1].repeat(d, axis=1)))
        keep("GELU (exact, erf)", rel(c.gelu_backward(dY[:, :1].repeat(d, axis=1), cache), tX.grad))

        H = int(rng.integers(1, 4))
        Q, K, V, dA = (rng.normal(size=(B, H, T, 4)) for _ in range(4))
        _, cache = c.attention_forward(Q, K, V)
        grads = c.attention_backward(dA, cache)
        tQ, tK, tV = tt(Q), tt(K), tt(V)
        F.scaled_dot_product_attention(tQ, tK, tV, is_causal=True).backward(torch.tensor(dA))
        keep("causal multi-head attention", max(rel(gr, r.grad) for gr, r in zip(grads, (tQ, tK, tV))))

        E = rng.normal(size=(5, d))
        idx = rng.integers(5, size=(B, T))
        idx.flat[0] = idx.flat[-1]  # a repeated token
        dE = rng.normal(size=(B, T, d))
        _, cache = c.embedding_forward(idx, E)
        tE = tt(E)
        F.embedding(torch.tensor(idx), tE).backward(torch.tensor(dE))
        keep("embedding (repeated tokens)", rel(c.embedding_backward(dE, cache), tE.grad))

        Wr = rng.normal(size=(d, d))
        _, cache = c.linear_forward(X, Wr)
        dXr = c.residual_backward(dY[:, :1].repeat(d, axis=1), c.linear_backward(dY[:, :1].repeat(d, axis=1), cache)[0])
        tX = tt(X)
        (tX + tX @ torch.tensor(Wr)).backward(torch.tensor(dY[:, :1].repeat(d, axis=1)))
        keep("residual connection", rel(dXr, tX.grad))

        cfg = GPTConfig(vocab_size=7, block_size=8, n_layer=2, n_head=2, n_embd=8)
        torch.manual_seed(seed + trial)
        model = GPT(cfg).double()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.2 * torch.randn_like(p))
        params = numpy_gpt.from_torch(model)
        ids, tgt = rng.integers(7, size=(B, T)), rng.integers(7, size=(B, T))
        _, loss = model(torch.tensor(ids), torch.tensor(tgt))
        loss.backward()
        hand = numpy_gpt.to_torch_layout(numpy_gpt.loss_and_grads(params, cfg, ids, tgt)[1])
        keep("whole GPT (every parameter)", max(rel(hand[n], p.grad) for n, p in model.named_parameters()))
    return [{"component": k, "max_rel_error": v} for k, v in worst.items()]


TOL = 1e-8  # the tolerance the test suite enforces on every hand gradient
EPS = float(np.finfo(np.float64).eps)  # double-precision rounding
ATTENTION = "causal multi-head attention"


def attention_at_one_position(trials: int, seed: int) -> tuple[float, float, float]:
    """Attention's hand backward against autograd over ``max(trials, 20)`` draws whose shapes
    include sequence length 1, where the exact query and key gradients are zero (the softmax of
    one score is 1 whatever the score). Returns the largest entry of the hand and of autograd's
    query and key gradients there, and attention's largest error over every draw measured against
    the size of all three of its gradients together (the value gradient is never zero)."""
    rng = np.random.default_rng(seed)
    zero_hand, zero_torch, att_scaled = 0.0, 0.0, 0.0
    for trial in range(max(trials, 20)):
        B, T = [(1, 1), (1, 6), (4, 1), (3, 7)][trial % 4]
        H = int(rng.integers(1, 4))
        Q, K, V, dY = (rng.normal(size=(B, H, T, 4)) for _ in range(4))
        _, cache = c.attention_forward(Q, K, V)
        hand = c.attention_backward(dY, cache)
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (Q, K, V))
        F.scaled_dot_product_attention(tq, tk, tv, is_causal=True).backward(torch.tensor(dY))
        auto = [t.grad.numpy() for t in (tq, tk, tv)]
        scale = max(float(np.abs(a).max()) for a in auto)
        att_scaled = max(att_scaled, max(float(np.abs(h - a).max()) for h, a in zip(hand, auto)) / scale)
        if T == 1:
            zero_hand = max(zero_hand, float(np.abs(hand[0]).max()), float(np.abs(hand[1]).max()))
            zero_torch = max(zero_torch, float(np.abs(auto[0]).max()), float(np.abs(auto[1]).max()))
    return zero_hand, zero_torch, att_scaled


def margin(x: float):
    """How many orders of magnitude ``x`` is below :data:`TOL` (an error of zero counts as 1e-300)."""
    return np.log10(TOL / max(x, 1e-300))


def headline(error: Mapping[str, float], att_scaled: float) -> str:
    """The sentence on the largest error of the table: below the tolerance; or above it only in
    attention, whose error against all its gradients together is below it; or above it."""
    worst_component = max(error, key=error.get)
    worst = error[worst_component]
    worst_other = max(v for k, v in error.items() if k != ATTENTION)
    options = [
        (f"The largest relative error of any component is {worst:.1e} (in {worst_component}), "
         f"{margin(worst):.1f} orders of magnitude below the 1e-8 the test suite enforces.", worst < TOL),
        (f"One entry stands out: {ATTENTION}, at {worst:.1e}. It is not a wrong gradient, as the next "
         f"paragraph shows. Every other component's largest relative error is at most {worst_other:.1e}, "
         f"{margin(worst_other):.1f} orders of magnitude below the 1e-8 the test suite enforces.",
         worst_component == ATTENTION and att_scaled < TOL and worst_other < TOL),
        (f"The largest relative error, {worst:.1e} in {worst_component}, is above the 1e-8 the test "
         "suite enforces.", True)]
    return next(text for text, condition in options if condition)


def zero_noise(zero_torch: float) -> str:
    """What autograd returned for the gradients that are exactly zero: rounding noise, or zeros."""
    options = [
        (f"autograd returns rounding noise, up to {zero_torch:.1e} over the draws of this cell; that "
         "noise divided by itself would be a relative error of 1", zero_torch > 0),
        ("autograd returned zeros too in this cell's draws; where it returns rounding noise instead, "
         "that noise divided by itself would be a relative error of 1", True)]
    return next(text for text, condition in options if condition)


def layer_norm_sentence(error: Mapping[str, float]) -> str:
    """The sentence on the layer norm's error among the components other than attention: the
    largest and well above rounding; well above rounding; everything near rounding; or which
    component has the largest error."""
    others = {k: v for k, v in error.items() if k != ATTENTION}
    worst_other = max(others.values())
    ln = error["layer norm"]
    rest = max(v for k, v in others.items() if k != "layer norm")  # the others without the layer norm
    options = [
        (f"The layer norm's error, {ln:.1e}, is the largest of the components other than attention, and "
         "well above rounding.", ln > 1000 * EPS and ln > rest),
        (f"The layer norm's error, {ln:.1e}, is well above rounding.", ln > 1000 * EPS),
        (f"In this run every component other than attention is within a factor of 1000 of rounding (the "
         f"layer norm's error is {ln:.1e}).", worst_other < 1000 * EPS),
        (f"The largest error of the components other than attention is {worst_other:.1e}, "
         f"in {max(others, key=others.get)}.", True)]
    return next(text for text, condition in options if condition)


def error_table(rows: list[dict]) -> str:
    """The gradient check as the Markdown table the chapter shows: each component's largest
    relative error against autograd."""
    return "| component | max relative error vs autograd (float64) |\n|---|---|\n" + "\n".join(
        f"| {r['component']} | {r['max_rel_error']:.1e} |" for r in rows)


@dataclass(frozen=True)
class CalculusResult(Result):
    """Each component's largest relative error against autograd (``rows``, and as a ``table``),
    and every value and claim the chapter states."""

    rows: tuple[dict, ...]
    table: str


def summarise(rows: list[dict], zero_hand: float, zero_torch: float, att_scaled: float,
              trials: int) -> CalculusResult:
    """The chapter's numbers, claims and sentences from :func:`gradient_errors`' rows and
    :func:`attention_at_one_position`'s three numbers."""
    found = Findings()
    error = {r["component"]: r["max_rel_error"] for r in rows}
    worst_component = max(error, key=error.get)
    worst = error[worst_component]
    others = {k: v for k, v in error.items() if k != ATTENTION}
    worst_other = max(others.values())
    scaled_worst = max(worst_other, att_scaled)
    found.claim("every hand gradient agrees with autograd within the tests' 1e-8 (attention's measured "
                "against the size of all its gradients together)", scaled_worst < TOL, scaled_worst)
    found.claim("the hand backward of attention over one position returns exact zeros for the queries "
                "and keys", zero_hand == 0.0, zero_hand)
    found.value("calc_trials", trials)
    found.value("calc_worst", worst)
    found.value("calc_worst_component", worst_component)
    found.value("calc_scaled_worst", scaled_worst)
    found.value("calc_scaled_margin", float(margin(scaled_worst)))
    found.value("calc_zero_hand", zero_hand)
    found.value("calc_att_scaled", att_scaled)
    sentence = headline(error, att_scaled)
    found.claim(sentence, True, {"worst": worst, "other components": worst_other,
                                 "attention against all its gradients": att_scaled})
    found.value("calc_headline", sentence)
    sentence = zero_noise(zero_torch)
    found.claim(sentence, True, zero_torch)
    found.value("calc_zero_noise", sentence)
    rest = max(v for k, v in others.items() if k != "layer norm")
    sentence = layer_norm_sentence(error)
    found.claim(sentence, True, {"layer norm": error["layer norm"], "largest of the rest": rest})
    found.value("calc_ln_sentence", sentence)
    return CalculusResult(rows=tuple(rows), table=error_table(rows), **found.done())


def run(cfg: ChapterConfig) -> CalculusResult:
    """Chapter calculus: every hand gradient against autograd over ``cfg.trials`` draws."""
    rows = gradient_errors(cfg.trials, cfg.seed)
    return summarise(rows, *attention_at_one_position(cfg.trials, cfg.seed), cfg.trials)
