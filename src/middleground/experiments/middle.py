"""The middle chapter's experiments: measuring where a sequence sits between noise and structure.

Each function takes plain parameters and returns plain records (lists of dicts), so the chapter
only plots and the tests can call the same code. Exact values come from the sources
(:mod:`middleground.sources`); estimates from :mod:`middleground.measures.entropy`; the
model-based estimate from the training core of :mod:`middleground.gpt`.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..base.bits import NATS_TO_BITS
from ..gpt.core import TrainConfig
from ..gpt.model import GPTConfig
from ..gpt.train import fit, split_loss
from ..measures import entropy
from ..measures.entropy import truth_of
from ..sources import hmm
from ..sources.knobs import KNOB_K, markov_knob, periodic_word
from ..sources.noisy import Noisy
from ..sources.processes import IID, ElementaryCA, Periodic, SantaFe, Source


def gallery(seed: int) -> list[Source]:
    """One of each kind of source, from pure noise to pure order."""
    rng = np.random.default_rng(seed)
    return [
        IID.uniform(KNOB_K),
        IID.zipf(KNOB_K, 1.0),
        markov_knob(3.0, seed),
        markov_knob(1.0, seed),
        markov_knob(0.3, seed),
        hmm.golden_mean(),
        hmm.even_process(),
        hmm.noisy_periodic(periodic_word(8, rng), KNOB_K, 0.2),
        Noisy(hmm.golden_mean(), 0.1),
        SantaFe(0.5, 32),
        ElementaryCA(30),
        ElementaryCA(110),
        Periodic.random(4, KNOB_K, rng),
    ]


def truth_row(source: Source) -> dict:
    t = truth_of(source)
    return {"source": source.name, "kind": t.kind, "h": t.h, "h_low": t.h_low, "h_high": t.h_high,
            "E": t.E, "alphabet": source.alphabet_size, "note": t.note}


def strips(sources: list[Source], length: int, seed: int) -> list[dict]:
    """``length`` symbols of each source, one record per symbol (for a heat-strip chart)."""
    rows = []
    for i, s in enumerate(sources):
        x = s.sample(length, np.random.default_rng(seed + i))
        rows += [{"source": s.name, "position": j, "symbol": int(v)} for j, v in enumerate(x)]
    return rows


def temperature_sweep(temperatures, seed: int) -> list[dict]:
    """Exact h and E of the Markov knob at each temperature."""
    rows = []
    for tau in temperatures:
        m = markov_knob(tau, seed)
        rows.append({"knob": "Markov temperature τ", "value": float(tau), "h": m.entropy_rate,
                     "h_low": m.entropy_rate, "h_high": m.entropy_rate, "E": m.excess_entropy,
                     "kind": "exact"})
    return rows


def noise_sweep(rates, seed: int, L_bounds: int = 6) -> list[dict]:
    """h (exact or bounded) and E (where exact) of two bases as the noise rate goes from 0 to 1.

    The noisy Markov chain is not unifilar: its h is bracketed by mixed-state bounds from words of
    length ``L_bounds`` (a gap near 1e-4 bit at L = 6 for this chain)."""
    rng = np.random.default_rng(seed)
    word = periodic_word(8, rng)
    rows = []
    for rate in rates:
        per = hmm.noisy_periodic(word, KNOB_K, float(rate))
        rows.append({"knob": "noise on a period-8 word", "value": float(rate),
                     "h": per.entropy_rate, "h_low": per.entropy_rate, "h_high": per.entropy_rate,
                     "E": per.excess_entropy, "kind": "exact"})
        t = Noisy(markov_knob(1.0, seed), float(rate)).truth(L=L_bounds) if 0 < rate < 1 else None
        if t is None:  # the end points are exact: the clean chain, or uniform noise
            m = markov_knob(1.0, seed)
            h = m.entropy_rate if rate == 0 else math.log2(KNOB_K)
            E = m.excess_entropy if rate == 0 else 0.0
            rows.append({"knob": "noise on the Markov chain (τ = 1)", "value": float(rate), "h": h,
                         "h_low": h, "h_high": h, "E": E, "kind": "exact"})
        else:
            rows.append({"knob": "noise on the Markov chain (τ = 1)", "value": float(rate),
                         "h": t.h, "h_low": t.h_low, "h_high": t.h_high, "E": None, "kind": t.kind})
    return rows


def exact_block_entropies(source: Source, L_max: int, max_beliefs: int = 50_000) -> np.ndarray | None:
    """Exact H(0..L) for L up to ``L_max``, or a shorter prefix where the number of mixed states
    outgrows ``max_beliefs``; None where the source has no exact block entropies."""
    if isinstance(source, hmm.HMM):
        H = [0.0]
        try:
            for h_L in source.conditional_entropies(max_beliefs=max_beliefs):
                H.append(H[-1] + h_L)
                if len(H) > L_max:
                    break
        except RuntimeError:
            pass  # keep the exact prefix
        return np.array(H)
    if isinstance(source, SantaFe):
        return source.block_entropies(L_max)
    if isinstance(source, IID):
        return np.arange(L_max + 1) * source.entropy_rate
    if isinstance(source, Periodic):
        return exact_block_entropies(
            hmm.noisy_periodic(source.pattern, source.alphabet_size, 0.0), L_max, max_beliefs)
    if isinstance(source, Noisy):
        exact = source.as_exact()
        return None if exact is None else exact_block_entropies(exact, L_max, max_beliefs)
    return None


def block_entropy_curves(sources: list[Source], L_max: int, n_estimate: int, seed: int) -> list[dict]:
    """H(L) per source: exact where available (as far as its mixed states allow), and Miller–Madow
    estimates from ``n_estimate`` symbols beyond that."""
    rows = []
    for i, s in enumerate(sources):
        H = exact_block_entropies(s, L_max)
        n_exact = 0 if H is None else len(H)
        if n_exact <= L_max:
            est = entropy.block_entropies(s.sample(n_estimate, np.random.default_rng(seed + i)),
                                          L_max, "miller-madow")
            H = est if H is None else np.concatenate([H, est[n_exact:]])
        rows += [{"source": s.name, "L": L, "H": float(H[L]),
                  "kind": "exact" if L < n_exact else "estimated"} for L in range(L_max + 1)]
    return rows


def estimates(x: np.ndarray, L_list, compress: bool = True) -> dict[str, float]:
    """Every sample-based estimate of h in bits per symbol: h(L) with each correction, compressors."""
    L_max = max(L_list)
    out = {}
    for correction in entropy.CORRECTIONS:
        h = entropy.conditional_entropies(entropy.block_entropies(x, L_max, correction))
        for L in L_list:
            out[f"{correction} h({L})"] = float(h[L - 1])
    if compress:
        out.update(entropy.compression_rates(x))
    return out


def convergence(sources: list[Source], sizes, n_seeds: int, L_list, seed: int) -> list[dict]:
    """Estimate minus exact h for each source, sample size, seed and estimator."""
    rows = []
    for si, s in enumerate(sources):
        h = truth_of(s).h
        for n in sizes:
            for r in range(n_seeds):
                x = s.sample(int(n), np.random.default_rng([seed, si, int(n), r]))
                for name, value in estimates(x, [L for L in L_list if L < n]).items():
                    rows.append({"source": s.name, "n": int(n), "seed": r, "estimator": name,
                                 "estimate": value, "exact": h, "error": value - h})
    return rows


def complexity_entropy_points(seed: int, n_temperatures: int = 12) -> list[dict]:
    """(h, E) for many sources: Markov chains of orders 1-3 along the temperature knob, noisy
    periodic words of several periods along the noise knob, the ε-machines, iid and Zipf,
    Santa Fe, and two cellular automata (estimated)."""
    rows = []
    for order in (1, 2, 3):
        for tau in np.geomspace(0.05, 20, n_temperatures):
            m = hmm.MarkovChain.random(KNOB_K, order, float(tau), seed + order)
            rows.append({"family": f"Markov, order {order}", "name": m.name, "h": m.entropy_rate,
                         "E": m.excess_entropy, "kind": "exact", "knob": float(tau),
                         "alphabet": m.alphabet_size})
    rng = np.random.default_rng(seed)
    for p in (2, 4, 8):
        word = periodic_word(p, rng)
        for rate in np.linspace(0.0, 0.95, n_temperatures):
            s = hmm.noisy_periodic(word, KNOB_K, float(rate))
            rows.append({"family": f"noisy period {p}", "name": s.name, "h": s.entropy_rate,
                         "E": s.excess_entropy, "kind": "exact", "knob": float(rate),
                         "alphabet": s.alphabet_size})
    for s in (hmm.golden_mean(), hmm.even_process(), IID.uniform(KNOB_K), IID.zipf(KNOB_K, 1.0),
              SantaFe(0.5, 4), SantaFe(0.5, 8)):
        t = truth_of(s)
        rows.append({"family": "other exact", "name": s.name, "h": t.h, "E": t.E, "kind": t.kind,
                     "knob": None, "alphabet": s.alphabet_size})
    for rule in (30, 110):
        t = truth_of(ElementaryCA(rule))
        ca = ElementaryCA(rule)
        rows.append({"family": "cellular automaton (estimated)", "name": f"ECA rule {rule}",
                     "h": t.h, "E": t.E, "kind": t.kind, "knob": None, "alphabet": ca.alphabet_size})
    return rows


def explorer(temperatures, strip_length: int, n: int, L_list, seed: int) -> tuple[list, list]:
    """Precomputed views for the interactive explorer: per knob index, a symbol strip, and the
    exact h, E and every estimator's value on an ``n``-symbol sample."""
    strip_rows, value_rows = [], []
    for i, tau in enumerate(temperatures):
        m = markov_knob(float(tau), seed)
        x = m.sample(n, np.random.default_rng([seed, i]))
        strip_rows += [{"index": i, "position": j, "symbol": int(v)}
                       for j, v in enumerate(x[:strip_length])]
        value_rows.append({"index": i, "tau": float(tau), "quantity": "exact h", "bits": m.entropy_rate,
                           "group": "exact"})
        value_rows.append({"index": i, "tau": float(tau), "quantity": "exact E", "bits": m.excess_entropy,
                           "group": "exact"})
        H = entropy.block_entropies(x, max(L_list), "miller-madow")
        value_rows.append({"index": i, "tau": float(tau), "quantity": f"estimated E({max(L_list)})",
                           "bits": entropy.excess_entropy(H), "group": "estimate"})
        for name, v in estimates(x, L_list).items():
            value_rows.append({"index": i, "tau": float(tau), "quantity": name, "bits": v,
                               "group": "estimate"})
    return strip_rows, value_rows


# --- real text -------------------------------------------------------------------------------------

SHANNON_1951 = {0: 4.76, 1: 4.03, 2: 3.32, 3: 3.1}  # F_N for 27-letter English, bits per letter


def letters_27(text: str) -> np.ndarray:
    """Shannon's alphabet: a-z and space. Lower-case; any run of other characters becomes one space."""
    cleaned = re.sub(r"[^a-z]+", " ", text.lower()).strip()
    codes = np.frombuffer(cleaned.encode("ascii"), dtype=np.uint8).astype(np.int64)
    return np.where(codes == 32, 26, codes - 97)


def text_estimates(x: np.ndarray, L_max: int, n_parts: int = 4) -> dict:
    """h(L) (Miller–Madow) and compression rates on the whole text, and the spread over
    ``n_parts`` disjoint parts as an uncertainty; plus E(L) and a Hilberg fit of H(L)."""
    H = entropy.block_entropies(x, L_max, "miller-madow")
    whole = {"h": entropy.conditional_entropies(H), "compress": entropy.compression_rates(x),
             "H": H, "E": entropy.excess_entropy(H)}
    parts = np.array_split(x, n_parts)
    part_h = np.array([entropy.conditional_entropies(entropy.block_entropies(p, L_max, "miller-madow"))
                       for p in parts])
    part_c = [entropy.compression_rates(p) for p in parts]
    whole["h_part_sd"] = part_h.std(axis=0, ddof=1)
    whole["compress_part_sd"] = {k: float(np.std([c[k] for c in part_c], ddof=1)) for k in part_c[0]}
    whole["hilberg"] = entropy.hilberg_fit(H, L_min=1)
    return whole


CROSS_ENTROPY_BATCH = 32  # windows per step of the model whose cross-entropy bounds h


def cross_entropy_model(vocab_size: int, n_layer: int = 2, n_embd: int = 64,
                        block_size: int = 64) -> GPTConfig:
    """The small GPT whose held-out cross-entropy bounds an entropy rate."""
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=4,
                     n_embd=n_embd, dropout=0.0, bias=False)


def model_cross_entropy(train_tokens, val_tokens, vocab_size: int, iters: int, seed: int,
                        n_layer: int = 2, n_embd: int = 64, block_size: int = 64,
                        batch_size: int = CROSS_ENTROPY_BATCH, device=None) -> float:
    """Held-out cross-entropy (bits/symbol) of a small GPT trained with the Part II trainer.

    On held-out data from a stationary source, a model's expected cross-entropy is at least the
    entropy rate h, whatever the model: this is an upper bound on h (up to sampling noise in the
    held-out set), and a loose one when the model is small or undertrained.
    """
    cfg = cross_entropy_model(vocab_size, n_layer, n_embd, block_size)
    tc = TrainConfig(max_iters=iters, batch_size=batch_size, learning_rate=2e-3, min_lr=2e-4,
                     warmup_iters=min(100, iters // 10), eval_interval=iters, eval_iters=2, seed=seed)
    run = fit(cfg, tc, train_tokens, val_tokens, device)
    return split_loss(run.model, val_tokens, block_size, run.device) * NATS_TO_BITS
