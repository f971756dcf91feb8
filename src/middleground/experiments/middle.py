"""The middle chapter's experiments: measuring where a sequence sits between noise and structure.

Each function takes plain parameters and returns plain records (lists of dicts), so the chapter
only plots and the tests can call the same code. Exact values come from the sources
(:mod:`middleground.sources`); estimates from :mod:`middleground.measures.entropy`; the
model-based estimate from the training core of :mod:`middleground.gpt`.

:func:`run` is the chapter: it computes everything in the chapter's order and returns a
:class:`MiddleResult` (the records the figures draw, the tables, and every value and claim of the
prose). The ``*_findings`` functions turn records into values and claims, and the sentence
functions (:func:`shannon_verdict`, :func:`gpt_vs_compressors`, :func:`share_verdict`, ...) choose
the prose that depends on the outcome; both take plain inputs, so the tests feed them fabricated
ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..base.bits import NATS_TO_BITS
from ..base.profiles import ChapterConfig
from ..gpt import training_log
from ..gpt.core import TrainConfig
from ..gpt.model import GPTConfig
from ..gpt.train import fit, split_loss
from ..measures import entropy, regions
from ..measures.entropy import truth_of
from ..sources import hmm, knobs
from ..sources.knobs import KNOB_K, markov_knob, periodic_word
from ..sources.noisy import Noisy
from ..sources.processes import IID, ElementaryCA, Periodic, SantaFe, Source
from .report import Findings, Result


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
    run = fit(cfg, tc, train_tokens, val_tokens, device, on_start=training_log.from_settings())
    return split_loss(run.model, val_tokens, block_size, run.device) * NATS_TO_BITS


# --- the chapter, as data: every value and claim it states -----------------------------------------

NO_REGION = "none (estimated)"  # the region of a point whose values are estimated
REGION_ORDER = (regions.ORDERED, regions.MIDDLE, regions.SHALLOW, regions.NOISY, NO_REGION)
E_MIN = regions.E_MIN
STUDY = (3, 6, 8, 9)  # the gallery's Markov τ = 1, even, noisy golden mean and Santa Fe sources
STUDY_L = [2, 4, 8]  # word lengths of the estimator study
KNOB_SETTINGS = 9  # settings per knob in the table of the knobs of chapters knob and ladder


def _first(options: list[tuple[str, bool]]) -> str:
    """The first sentence whose condition holds (the last condition is ``True``)."""
    return next(text for text, holds in options if holds)


def by_randomness(truths: list[dict]) -> list[str]:
    """Source names sorted from the most random to the most ordered, by h / log2(alphabet)."""
    return [t["source"] for t in sorted(truths, key=lambda t: -t["h"] / math.log2(t["alphabet"]))]


def truth_table(truths: list[dict]) -> str:
    """The Markdown table of every source's exact (or bounded) h and E."""
    lines = ["| source | alphabet | h (bits/symbol) | E (bits) | how known |", "|---|---|---|---|---|"]
    for t in truths:
        h = (f"{t['h']:.4f}" if t["kind"] != "bounded"
             else f"{t['h_low']:.4f} – {t['h_high']:.4f}")
        E = "–" if t["E"] is None else f"{t['E']:.4f}"
        lines.append(f"| {t['source']} | {t['alphabet']} | {h} | {E} | {t['kind']} |")
    return "\n".join(lines)


def cycle_words(cycle: int) -> str:
    """The cold chain's attracting cycle in words."""
    return "a fixed point, one symbol repeated for ever" if cycle == 1 else f"a cycle of {cycle} contexts"


def knob_findings(found: Findings, temp_rows: list[dict], noise_rows: list[dict], cycle: int) -> None:
    """The temperature knob's peak and ends, the noise knob's bound gap and constant E, and the cold
    chain's attracting cycle (``cycle`` contexts), as values and claims."""
    E_temp = [r["E"] for r in temp_rows]
    i_peak = int(np.argmax(E_temp))
    found.value("mid_E_peak", E_temp[i_peak])
    found.value("mid_E_peak_tau", temp_rows[i_peak]["value"])
    found.value("mid_h_at_peak", temp_rows[i_peak]["h"])
    found.value("mid_E_cold", E_temp[0])
    found.value("mid_tau_cold", float(temp_rows[0]["value"]))
    found.value("mid_E_hot", E_temp[-1])
    found.value("mid_tau_hot", float(temp_rows[-1]["value"]))
    found.value("mid_bound_gap", max(r["h_high"] - r["h_low"] for r in noise_rows))
    found.value("mid_cold_cycle", cycle)
    found.value("mid_cold_E_limit", math.log2(cycle))
    found.value("mid_cold_cycle_words", cycle_words(cycle))
    h_temp = [r["h"] for r in temp_rows]
    found.claim("along the temperature knob h rises from near 0 to log2 4 = 2 bits",
                h_temp[0] < 0.05 and h_temp[-1] > 1.95 and all(np.diff(h_temp) > -1e-9),
                (h_temp[0], h_temp[-1]))
    found.claim("E peaks inside the temperature knob, well above both ends",
                0 < i_peak < len(E_temp) - 1 and E_temp[i_peak] > 2 * max(E_temp[0], E_temp[-1]) + 0.1,
                (E_temp[0], E_temp[i_peak], E_temp[-1]))
    found.claim("at the coldest temperature E is close to log2 of the attracting cycle's length",
                abs(E_temp[0] - math.log2(cycle)) < 0.05, (E_temp[0], cycle))
    p8 = [r for r in noise_rows if r["knob"].startswith("noise on a period-8")]
    found.claim("along the noise knob the period-8 word keeps E = 3 bits (every rate below 1) while h "
                "climbs to 2",
                all(abs(r["E"] - 3) < 1e-6 for r in p8 if r["value"] < 1) and abs(p8[-1]["h"] - 2) < 1e-6,
                (min(r["E"] for r in p8 if r["value"] < 1), p8[-1]["h"]))


def mean_error(conv_rows: list[dict], source: str, estimator: str, n: int) -> float:
    """Mean over seeds of one estimator's error on one source at sample size ``n``."""
    v = [r["error"] for r in conv_rows
         if r["source"] == source and r["estimator"] == estimator and r["n"] == n]
    return float(np.mean(v))


def _err_key(estimator: str) -> str:
    """'grassberger h(8)' -> 'grassberger_h8', a glue key's part."""
    return estimator.replace(" ", "_").replace("(", "").replace(")", "").replace("-", "_")


def estimator_findings(found: Findings, conv_rows: list[dict], study: list[str], sizes: list[int],
                       n_seeds: int) -> None:
    """The estimator study's errors at the largest sample and its three lessons, checked.

    ``study``: the names of the Markov, even, noisy golden-mean and Santa Fe sources, in that order;
    ``sizes``: the sample sizes, increasing."""
    n_top = int(sizes[-1])
    found.value("mid_n_top", f"{n_top:,}")
    found.value("mid_n_seeds", n_seeds)
    found.value("mid_n_seeds_text", f"{n_seeds} sample" + ("" if n_seeds == 1 else "s"))
    tagged = (("markov", study[0]), ("even", study[1]), ("santa", study[3]))
    for tag, src in tagged:
        for est in ("plugin h(4)", "grassberger h(8)", "lzma", "zlib"):
            found.value(f"mid_err_{tag}_{_err_key(est)}", mean_error(conv_rows, src, est, n_top))
    err = {(tag, est): mean_error(conv_rows, src, est, n_top)
           for tag, src in tagged
           for est in ("plugin h(4)", "miller-madow h(4)", "grassberger h(4)", "grassberger h(8)")}
    markov_block = [err[("markov", e)] for e in ("plugin h(4)", "miller-madow h(4)", "grassberger h(4)",
                                                 "grassberger h(8)")]
    found.claim("on the Markov chain (memory of two symbols) every block estimator converges to h: "
                "within 0.02 bits at the largest sample", max(abs(v) for v in markov_block) < 0.02,
                markov_block)
    even_h4 = [err[("even", e)] for e in ("plugin h(4)", "miller-madow h(4)", "grassberger h(4)")]
    found.claim("at a short word length block estimates lie above h on the even process",
                min(even_h4) > 0.05, even_h4)
    found.claim("on the even process the longer word h(8) comes closer to h, still from above",
                0 < err[("even", "grassberger h(8)")] < min(even_h4), err[("even", "grassberger h(8)")])
    santa_h4 = [err[("santa", e)] for e in ("plugin h(4)", "miller-madow h(4)", "grassberger h(4)")]
    found.claim("on the Santa Fe process sparse words push block estimates below h, the plug-in most "
                "and the corrections less", santa_h4[0] < santa_h4[1] < santa_h4[2] < 0, santa_h4)
    found.claim("on the Santa Fe process longer words fall further below h",
                err[("santa", "grassberger h(8)")] < santa_h4[2], err[("santa", "grassberger h(8)")])
    comp = {(r["source"], r["estimator"], r["n"]): mean_error(conv_rows, s_, r["estimator"], r["n"])
            for s_ in study for r in conv_rows
            if r["source"] == s_ and r["estimator"] in ("zlib", "bz2", "lzma")}
    found.claim("compressors overestimate h on every source at every sample size",
                min(comp.values()) > 0, min(comp.values()))
    comp_top = [v for (src, e, n), v in comp.items() if n == n_top]
    found.claim("at the largest sample every compressor still overestimates h by more than 0.05 bits",
                min(comp_top) > 0.05, min(comp_top))
    n_prev = int(sizes[-2])
    kept = [comp[(src, e, n_top)] / comp[(src, e, n_prev)] for (src, e, n) in comp if n == n_top]
    found.claim(f"going from {n_prev:,} to {n_top:,} symbols removes less than half of any compressor's "
                "error", min(kept) > 0.5, min(kept))
    found.value("mid_comp_min", min(comp_top))
    # rounded down: the prose says "or more"
    found.value("mid_comp_min_floor", f"{math.floor(100 * min(comp_top)) / 100:.2f}")
    found.value("mid_n_prev", f"{n_prev:,}")
    found.value("mid_comp_cut_pct", int(round(100 * (1 - min(kept)))))


def model_bound_findings(found: Findings, gpt_bits: float, h: float, iters: int) -> None:
    """The trained GPT's held-out bits on the Markov chain against its exact entropy rate ``h``."""
    found.value("mid_gpt_markov", gpt_bits)
    found.value("mid_markov_h", h)
    found.value("mid_gpt_iters", iters)
    found.value("mid_gpt_markov_gap", gpt_bits - h)
    found.claim("the GPT's held-out cross-entropy on the Markov chain is an upper bound on h, up to the "
                "held-out sampling noise (0.02 bits)", gpt_bits > h - 0.02, gpt_bits - h)


def with_regions(ce_rows: list[dict]) -> list[dict]:
    """The diagram's points, each with its h as a share of log2 of its alphabet and its region
    (:data:`NO_REGION` where h or E is estimated or E infinite)."""
    out = []
    for r in ce_rows:
        share = r["h"] / math.log2(r["alphabet"])
        exact = r["kind"] == "exact" and r["E"] is not None and math.isfinite(r["E"])
        out.append({**r, "share": share,
                    "region": regions.region(r["h"], r["E"], r["alphabet"]) if exact else NO_REGION})
    return out


def shallow_sentence(shallow_rows: list[dict]) -> str:
    """Which sources of the diagram are shallow, in words (rows sorted by share)."""
    names = "; ".join(f"{r['name']} (h / log2 {r['alphabet']} = {r['share']:.2f}, E = {r['E']:.2f} bit)"
                      for r in shallow_rows)
    return _first([("no source of the diagram is shallow", not shallow_rows),
                   (f"the only shallow one is the {names}", len(shallow_rows) == 1),
                   (f"the shallow ones are: {names}", True)])


def alphabets_text(sizes) -> str:
    """'2, 4, 8 or 16' for the alphabet sizes (sorted, distinct)."""
    sizes = sorted(sizes)
    return ", ".join(map(str, sizes[:-1])) + f" or {sizes[-1]}"


def diagram_findings(found: Findings, ce_rows: list[dict]) -> None:
    """The complexity-entropy diagram's shape (no single hump, horizontal noisy words, arches capped
    by their order) and how its points fall into the regions. ``ce_rows`` carry their regions
    (:func:`with_regions`)."""
    E_max_ce = max(r["E"] for r in ce_rows)
    found.value("mid_ce_n", len(ce_rows))
    found.value("mid_ce_Emax", E_max_ce)
    found.value("mid_ce_Emax_h", next(r["h"] for r in ce_rows if r["E"] == E_max_ce))
    top = next(r for r in ce_rows if r["E"] == E_max_ce)
    found.claim("the highest point of the diagram is on none of the Markov arches (no single hump)",
                not top["family"].startswith("Markov"), top["name"])
    for p in (2, 4, 8):
        fam = sorted((r for r in ce_rows if r["family"] == f"noisy period {p}"), key=lambda r: r["knob"])
        found.claim(f"the period-{p} word without noise sits on the h = 0 axis at E = log2 {p}",
                    abs(fam[0]["h"]) < 1e-9 and abs(fam[0]["E"] - math.log2(p)) < 1e-9,
                    (fam[0]["h"], fam[0]["E"]))
        found.claim(f"the noisy period-{p} word moves horizontally: E fixed while h grows",
                    max(r["E"] for r in fam) - min(r["E"] for r in fam) < 1e-6
                    and all(np.diff([r["h"] for r in fam]) > 0), (fam[0]["h"], fam[-1]["h"]))
    for order in (1, 2, 3):
        fam = sorted((r for r in ce_rows if r["family"] == f"Markov, order {order}"),
                     key=lambda r: r["knob"])
        Es = [r["E"] for r in fam]
        i_top = int(np.argmax(Es))
        found.claim(f"the order-{order} Markov family traces an arch: E largest inside the knob range, "
                    "less than half of that at both ends",
                    0 < i_top < len(Es) - 1 and max(Es[0], Es[-1]) < 0.5 * Es[i_top], Es)
        found.claim(f"the order-{order} arch is capped by its order: E ≤ {order} · log2 4 bits",
                    max(Es) <= order * 2 + 1e-9, max(Es))
    found.value("mid_definition", regions.DEFINITION)
    found.value("mid_ce_alphabets", alphabets_text({r["alphabet"] for r in ce_rows}))
    found.value("mid_H_low", regions.H_LOW)
    found.value("mid_H_high", regions.H_HIGH)
    found.value("mid_E_min", regions.E_MIN)
    ce_count = {reg: sum(r["region"] == reg for r in ce_rows) for reg in REGION_ORDER}
    for reg, key in zip(REGION_ORDER, ("ordered", "middle", "shallow", "noisy", "none")):
        found.value(f"mid_ce_n_{key}", ce_count[reg])
    found.claim("every point of the diagram without exact values is a cellular automaton",
                all(r["family"].startswith("cellular") for r in ce_rows if r["region"] == NO_REGION),
                ce_count[NO_REGION])
    shallow_rows = sorted((r for r in ce_rows if r["region"] == regions.SHALLOW), key=lambda r: r["share"])
    sentence = shallow_sentence(shallow_rows)
    found.claim(sentence, True, len(shallow_rows))
    found.value("mid_ce_shallow_text", sentence)
    iid_rows = [r for r in ce_rows if r["name"].startswith(("uniform noise", "Zipf"))]
    found.claim("the iid sources of the diagram have E = 0 and are noisy",
                all(abs(r["E"]) < 1e-12 and r["region"] == regions.NOISY for r in iid_rows),
                [(r["name"], r["region"]) for r in iid_rows])
    p8_clean = next(r for r in ce_rows if r["family"] == "noisy period 8" and r["knob"] == 0)
    found.claim("the noiseless period-8 word is ordered although its E is 3 bits",
                p8_clean["region"] == regions.ORDERED and abs(p8_clean["E"] - 3) < 1e-9, p8_clean["E"])


def knob_points(n_settings: int) -> list[dict]:
    """The two knobs of chapters knob and ladder at the ``n_settings`` settings per knob that
    :func:`~middleground.sources.knobs.knob_settings` places by exact h: h, E, share and region."""
    rows = []
    for fam in knobs.KNOBS:
        for v in knobs.knob_settings(fam, n_settings):
            src = knobs.make_source(fam, v)
            t = src.truth()
            rows.append({"family": fam, "knob": v, "h": t.h, "E": t.E, "alphabet": src.alphabet_size,
                         "share": t.h / math.log2(src.alphabet_size),
                         "region": regions.region(t.h, t.E, src.alphabet_size)})
    return rows


# Regions in the order a knob from order to noise passes them (shallow: off that path).
_RANK = {regions.ORDERED: 0, regions.MIDDLE: 1, regions.NOISY: 2, regions.SHALLOW: -1}


def knob_region_findings(found: Findings, knob_rows: list[dict], n_settings: int,
                         families=knobs.KNOBS) -> None:
    """How many settings of each knob fall in each region, and that each knob passes ordered,
    middle and noisy in that order with the middle the largest."""
    found.value("mid_knob_points", n_settings)
    for fam in families:
        rows_f = [r for r in knob_rows if r["family"] == fam]
        for reg in (regions.ORDERED, regions.MIDDLE, regions.NOISY, regions.SHALLOW):
            found.value(f"mid_knob_{fam}_{reg}", sum(r["region"] == reg for r in rows_f))
        found.value(f"mid_knob_{fam}_Emid", min(r["E"] for r in rows_f if r["region"] == regions.MIDDLE))
        found.claim(f"the {fam} knob passes through ordered, middle and noisy, in that order, with no "
                    "shallow setting",
                    {r["region"] for r in rows_f} == {regions.ORDERED, regions.MIDDLE, regions.NOISY}
                    and all(np.diff([_RANK[r["region"]] for r in rows_f]) >= 0),
                    [r["region"] for r in rows_f])
        found.claim(f"the {fam} knob has more settings in the middle than at either end",
                    sum(r["region"] == regions.MIDDLE for r in rows_f)
                    > max(sum(r["region"] == reg for r in rows_f) for reg in (regions.ORDERED, regions.NOISY)),
                    [r["region"] for r in rows_f])
    found.claim("the noise knob keeps E = 3 bits at every setting",
                all(abs(r["E"] - 3) < 1e-9 for r in knob_rows if r["family"] == "noise"),
                [r["E"] for r in knob_rows if r["family"] == "noise"])


def knob_table(knob_rows: list[dict], alphabet: int = KNOB_K) -> str:
    """The Markdown table of the knobs' settings with their h, share, E and region."""
    lines = [f"| knob | setting | h (bits) | h / log2 {alphabet} | E (bits) | region |",
             "|---|---|---|---|---|---|"]
    for r in knob_rows:
        name = "temperature τ" if r["family"] == "temperature" else "noise rate"
        lines.append(f"| {name} | {r['knob']:.4g} | {r['h']:.3f} | {r['share']:.2f} | {r['E']:.3f} | "
                     f"{r['region']} |")
    return "\n".join(lines)


def text_rows(est_full: dict, est_27: dict, L_text: int) -> list[dict]:
    """h(L) with its spread over quarters for both versions of the text, and Shannon's F_N."""
    rows = []
    for label, est in (("65 characters", est_full), ("27 letters", est_27)):
        for L in range(1, L_text + 1):
            rows.append({"text": label, "L": L, "h": float(est["h"][L - 1]),
                         "sd": float(est["h_part_sd"][L - 1]), "what": "Miller–Madow h(L)"})
    for N, F in SHANNON_1951.items():
        if N >= 1:
            rows.append({"text": "27 letters", "L": N, "h": F, "sd": 0.0, "what": "Shannon 1951, F_N"})
    return rows


def shannon_verdict(d: dict[int, float]) -> str:
    """How the 27-letter h(1), h(2), h(3) compare with Shannon's F_1..F_3, from their differences."""
    return _first([
        ("agree closely with Shannon's at N = 1 and 2 and fall well below his at N = 3",
         max(abs(d[1]), abs(d[2])) < 0.1 and d[3] < -0.2),
        ("agree closely with Shannon's at N = 1, 2 and 3", max(abs(v) for v in d.values()) < 0.1),
        ("differ from Shannon's by more than a tenth of a bit at some N", True)])


def gpt_vs_compressors(gpt: float, compress: dict[str, float]) -> str:
    """Where the GPT's upper bound lies relative to the compressors' rates."""
    return _first([
        ("and at this training budget a looser one than every compressor", gpt > max(compress.values())),
        ("and a tighter one than every compressor", gpt < min(compress.values())),
        ("and one between the compressors", True)])


def fit_h_sentence(h_fit: float) -> str:
    """What the Hilberg fit's entropy rate says: pinned at zero, or its value."""
    return _first([
        ("its fitted entropy rate is pinned at the lower bound of zero, so the fit gives all of H(L) "
         "to the power law", h_fit < 1e-3),
        (f"its fitted entropy rate is {h_fit:.2f} bits per character", True)])


def share_verdict(share_lo: float, share_hi: float) -> str:
    """Where the text's bracket on h (as shares of log2 of its alphabet) lies against the borders."""
    return _first([
        ("lies inside the middle band of h", regions.H_LOW <= share_lo and share_hi <= regions.H_HIGH),
        (f"straddles the border of the ordered region at {regions.H_LOW:g}, so these instruments cannot "
         "say on which side of it the text lies", share_lo < regions.H_LOW < share_hi <= regions.H_HIGH),
        ("lies below the middle band: by h alone the text would be ordered", share_hi < regions.H_LOW),
        ("reaches beyond the middle band on the noisy side", True)])


def half_h3(letters: np.ndarray) -> float:
    """The 27-letter Miller–Madow h(3), averaged over the two halves of the text."""
    return float(np.mean([entropy.conditional_entropies(entropy.block_entropies(part, 3, "miller-madow"))[2]
                          for part in np.array_split(letters, 2)]))


def text_findings(found: Findings, est_full: dict, est_27: dict, gpt_text: float, n_full: int,
                  n_letters: int, L_text: int, k: int, h3_half: float) -> None:
    """Tiny Shakespeare's numbers: the 27-letter estimates against Shannon's, the 65-character
    text's lower estimate and upper bounds, its E(L) and Hilberg fit, and its bracket on h against
    the borders of the middle. ``k``: the alphabet size; ``h3_half``: :func:`half_h3`."""
    found.value("mid_text_n", f"{n_full:,}")
    found.value("mid_27_n", f"{n_letters:,}")
    for L in (1, 2, 3, 4):
        found.value(f"mid_27_h{L}", float(est_27["h"][L - 1]))
        found.value(f"mid_27_sd{L}", float(est_27["h_part_sd"][L - 1]))
    found.value("mid_27_F0", math.log2(27))
    for N in (1, 2, 3):
        found.value(f"mid_27_d{N}", float(est_27["h"][N - 1]) - SHANNON_1951[N])
    for N, F in SHANNON_1951.items():
        found.value(f"mid_shannon_F{N}", F)
    found.value("mid_L_text", L_text)
    found.value("mid_text_hL", float(est_full["h"][L_text - 1]))
    found.value("mid_text_hL_sd", float(est_full["h_part_sd"][L_text - 1]))
    found.value("mid_text_E", est_full["E"])
    found.value("mid_text_lzma", est_full["compress"]["lzma"])
    found.value("mid_text_bz2", est_full["compress"]["bz2"])
    found.value("mid_text_zlib", est_full["compress"]["zlib"])
    found.value("mid_text_gpt", gpt_text)
    found.value("mid_text_beta", est_full["hilberg"]["beta"])
    found.value("mid_text_beta_se", est_full["hilberg"]["beta_se"])
    found.value("mid_text_h_fit", est_full["hilberg"]["h"])
    found.value("mid_text_k", k)

    # Shannon's F_1..F_3 against the 27-letter estimates, and how much h(3) still moves with more text.
    d = {N: float(est_27["h"][N - 1]) - SHANNON_1951[N] for N in (1, 2, 3)}
    rise = float(est_27["h"][2]) - h3_half
    found.value("mid_27_rise", rise)
    found.value("mid_27_per_cell", n_letters / 27**3)
    verdict = shannon_verdict(d)
    found.claim(verdict, True, d)
    found.value("mid_27_verdict", verdict)
    found.claim("the 27-letter h(3) still rises when the whole text is used instead of half of it "
                "(the estimate is biased low)", rise > 0, rise)
    found.claim("that rise is a small part (under a quarter) of the gap to Shannon's F_3",
                rise < 0.25 * abs(d[3]), (rise, d[3]))

    # The 65-character text: lower estimate, upper bounds, E(L), the Hilberg fit.
    uppers = {**{f"{c}": v for c, v in est_full["compress"].items()}, "the GPT": gpt_text}
    best = min(uppers, key=uppers.get)
    found.value("mid_text_best_name", best)
    found.value("mid_text_best", uppers[best])
    h_L = float(est_full["h"][L_text - 1])
    found.claim("the block estimate at L_text lies below every upper bound", h_L < min(uppers.values()),
                (h_L, uppers[best]))
    gpt_vs = gpt_vs_compressors(gpt_text, est_full["compress"])
    found.claim(gpt_vs, True, {"gpt": gpt_text, **est_full["compress"]})
    found.value("mid_text_gpt_vs", gpt_vs)
    H_full = est_full["H"]
    E_L = [float(H_full[L] - L * (H_full[L] - H_full[L - 1])) for L in range(1, L_text + 1)]
    found.claim("the estimated E(L) of the text is still growing at the longest word", E_L[-1] > E_L[-2],
                E_L[-2:])
    found.claim("the text's entropy rate is well away from log2 of its alphabet by the upper bounds "
                "(best below half of log2 65) and from 0 by the block estimate (above 0.5 bits)",
                h_L > 0.5 and uppers[best] < 0.5 * math.log2(k), (h_L, uppers[best]))
    fit_h = fit_h_sentence(est_full["hilberg"]["h"])
    found.claim(fit_h, True, est_full["hilberg"]["h"])
    found.value("mid_text_fit_h", fit_h)

    # The text against the definition of the middle: it has no region, having no exact h or E,
    # but its bracket on h can be set against the borders, as shares of log2 of its alphabet.
    share_lo, share_hi = h_L / math.log2(k), uppers[best] / math.log2(k)
    found.value("mid_text_share_lo", share_lo)
    found.value("mid_text_share_hi", share_hi)
    shares = share_verdict(share_lo, share_hi)
    found.claim(shares, True, (share_lo, share_hi))
    found.value("mid_text_share_verdict", shares)
    found.claim("the text's estimated E(L) is far above (more than four times) the half bit the middle "
                "needs", est_full["E"] > 4 * regions.E_MIN, est_full["E"])


@dataclass(frozen=True)
class MiddleResult(Result):
    """Everything chapter middle draws, and every value and claim it states.

    ``truths``: exact (or bounded) h and E per gallery source; ``strip_rows``/``strip_order``: a
    sample of each, sorted most random first; ``temp_rows``/``noise_rows``: the two knobs;
    ``curve_rows``: H(L) per source; ``conv_rows``: the estimator study; ``ce_rows``: the diagram's
    points with their regions; ``knob_rows``: the knobs of chapters knob and ladder by region;
    ``explorer_*``: the explorer's precomputed views; ``text_rows``: Tiny Shakespeare's h(L);
    ``text_compress``, ``text_gpt``: its upper bounds (compressor rates, a GPT's held-out bits)."""

    truths: tuple[dict, ...]
    truth_table: str
    strip_rows: tuple[dict, ...]
    strip_order: tuple[str, ...]
    temp_rows: tuple[dict, ...]
    noise_rows: tuple[dict, ...]
    curve_rows: tuple[dict, ...]
    conv_rows: tuple[dict, ...]
    ce_rows: tuple[dict, ...]
    knob_rows: tuple[dict, ...]
    knob_table: str
    explorer_temps: tuple[float, ...]
    explorer_strips: tuple[dict, ...]
    explorer_values: tuple[dict, ...]
    text_rows: tuple[dict, ...]
    text_compress: Mapping[str, float]
    text_gpt: float


def run(cfg: ChapterConfig) -> MiddleResult:
    """Chapter middle: the gallery, the knobs, the estimator study, the diagram and its regions, the
    explorer and Tiny Shakespeare, at ``cfg``'s sizes (computed in the chapter's order)."""
    from ..base import data
    from ..gpt.device import pick
    from ..gpt.text import shakespeare_char

    device = pick()
    found = Findings()
    sources = gallery(cfg.seed)
    truths = [truth_row(s) for s in sources]
    strip_rows = strips(sources, 80, cfg.seed)

    temps = np.geomspace(0.05, 20, cfg.knob_points)
    rates = np.linspace(0.0, 1.0, cfg.knob_points)
    temp_rows = temperature_sweep(temps, cfg.seed)
    noise_rows = noise_sweep(rates, cfg.seed)
    cycle = int((markov_knob(temps[0], cfg.seed).start > 1e-3).sum())
    knob_findings(found, temp_rows, noise_rows, cycle)

    curve_rows = block_entropy_curves(sources, cfg.L_max, min(cfg.n_max, 400_000), cfg.seed)

    study = [sources[i] for i in STUDY]
    sizes = np.unique(np.geomspace(1_000, cfg.n_max, 4).astype(int))
    conv_rows = convergence(study, sizes, cfg.n_seeds, STUDY_L, cfg.seed)
    estimator_findings(found, conv_rows, [s.name for s in study], [int(n) for n in sizes], cfg.n_seeds)
    found.value("mid_santa_h", study[3].truth().h)
    found.value("mid_santa_k", study[3].alphabet_size)
    m = study[0]  # the model-based bound, on the Markov knob at τ = 1 (exact h known)
    x_m = m.sample(400_000, np.random.default_rng([cfg.seed, 99]))
    gpt_markov = model_cross_entropy(x_m[:360_000], x_m[360_000:], m.alphabet_size, cfg.model_iters,
                                     cfg.seed, device=device)
    model_bound_findings(found, gpt_markov, m.entropy_rate, cfg.model_iters)

    ce_rows = with_regions(complexity_entropy_points(cfg.seed, n_temperatures=max(6, cfg.knob_points // 2)))
    diagram_findings(found, ce_rows)
    knob_rows = knob_points(KNOB_SETTINGS)
    knob_region_findings(found, knob_rows, KNOB_SETTINGS)

    ex_temps = np.geomspace(0.05, 20, cfg.explorer_points)
    ex_strips, ex_values = explorer(ex_temps, 96, min(cfg.n_max, 100_000), [1, 2, 4, 6], cfg.seed)

    corpus = data.read_text("tinyshakespeare")
    train_ids, val_ids, vocab = shakespeare_char()
    full_ids = np.concatenate([train_ids, val_ids])[: cfg.text_chars]
    letters = letters_27(corpus[: cfg.text_chars])
    L_text = min(cfg.L_max, 8)
    est_full = text_estimates(full_ids, L_text)
    est_27 = text_estimates(letters, L_text)
    gpt_text = model_cross_entropy(train_ids, val_ids, len(vocab), cfg.model_iters, cfg.seed,
                                   device=device)
    text_findings(found, est_full, est_27, gpt_text, len(full_ids), len(letters), L_text, len(vocab),
                  half_h3(letters))
    return MiddleResult(
        truths=tuple(truths), truth_table=truth_table(truths), strip_rows=tuple(strip_rows),
        strip_order=tuple(by_randomness(truths)), temp_rows=tuple(temp_rows),
        noise_rows=tuple(noise_rows), curve_rows=tuple(curve_rows), conv_rows=tuple(conv_rows),
        ce_rows=tuple(ce_rows), knob_rows=tuple(knob_rows), knob_table=knob_table(knob_rows),
        explorer_temps=tuple(float(t) for t in ex_temps), explorer_strips=tuple(ex_strips),
        explorer_values=tuple(ex_values), text_rows=tuple(text_rows(est_full, est_27, L_text)),
        text_compress=MappingProxyType(dict(est_full["compress"])), text_gpt=gpt_text, **found.done())
