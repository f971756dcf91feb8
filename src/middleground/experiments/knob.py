"""Chapter knob: the standard sweep across the knob summarised, and its own in-context sweep.

The standard sweep (:func:`middleground.sweeps.knob.results`) trains one small transformer on every
source family, several seeds each; :func:`run` turns its runs into every number, interval and
outcome-dependent sentence the chapter states (:class:`KnobResult`): the excess loss above the
finite-context floor, the count-based baseline beside it, Santa Fe against the oracle that knows its
facts, and where along the knob seeds disagree. The pure steps (per-run rows, per-setting pooling,
the floor table, region counts, the chosen sentences) are module functions tested on fabricated
inputs.

The chapter's own sweep is in-context learning of Markov chains (Edelman et al. 2024): each run
trains on segments that each come from their own order-1 chain
(:func:`middleground.sources.tasks.dirichlet_markov_segments`); the model must infer the chain in
context. Its held-out loss at each position is set beside the Bayes-optimal predictor's and the
in-context unigram predictor's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np
import torch

from ..base.bits import NATS_TO_BITS
from ..base.profiles import ChapterConfig, sweep_values
from ..gpt import training_log
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPTConfig
from ..measures import curves, regions
from ..measures.ngram import BayesNgram
from ..sources.floor import finite_context_floor
from ..sources.knobs import KNOB_K, KNOBS, knob_shares, make_source
from ..sources.tasks import bayes_position_loss, dirichlet_markov_segments
from ..sweeps import cache
from ..sweeps import knob as sweep
from ..sweeps.knob import CURVE_POINTS, SWEEP_MODEL, sweep_train_config
from .report import Findings, Result


ICL_BATCH = 32  # windows per step of the in-context runs
# Random streams, np.random.default_rng([seed, STREAM]): an in-context run's training and evaluation
# sequences come from its own seed alone, whatever group it trains in; the bootstrap has its own.
ICL_TRAIN_STREAM = 11
ICL_EVAL_STREAM = 12
CORRELATION_BOOTSTRAP_STREAM = 13


def icl_alphas(knob_points: int) -> list[float]:
    """Dirichlet concentrations of the in-context runs: two under the smallest profile, else three."""
    return [0.3, 3.0] if knob_points <= 3 else [0.3, 1.0, 3.0]


def icl_cells(alphas, seeds, iters: int, k: int = 3, width: int = SWEEP_MODEL.n_embd,
              curve_points: int = CURVE_POINTS) -> list[dict]:
    """The in-context runs: one per concentration and seed, evaluated position by position
    ``curve_points`` times during training (the profile's, as for the knob sweep)."""
    model = asdict(replace(SWEEP_MODEL, vocab_size=k, block_size=64, n_embd=int(width)))
    return [{"family": "dirichlet-markov", "alpha": float(a), "seed": int(s), "iters": int(iters),
             "k": k, "model": model, "n_segments": 4000, "curve_points": int(curve_points)}
            for a in alphas for s in seeds]


def icl_group_key(cell: dict) -> tuple:
    return (cell["iters"], cell["k"], tuple(sorted(cell["model"].items())), cell["n_segments"],
            cell["curve_points"])


def train_icl_group(group: list[dict]) -> list[dict]:
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    k, T = group[0]["k"], cfg.block_size
    tc = replace(sweep_train_config(group[0]["iters"], curve_points=group[0]["curve_points"]),
                 batch_size=ICL_BATCH)
    train, val, val_segs = [], [], []
    for c in group:
        rng = np.random.default_rng([c["seed"], ICL_TRAIN_STREAM])
        train.append(dirichlet_markov_segments(c["n_segments"], T + 1, k, c["alpha"], rng).reshape(-1))
        segs = dirichlet_markov_segments(512, T + 1, k, c["alpha"], np.random.default_rng([c["seed"], ICL_EVAL_STREAM]))
        val_segs.append(segs)
        val.append(segs.reshape(-1))
    x = torch.as_tensor(np.stack([s[:, :-1] for s in val_segs]), device=device.torch)
    y = torch.as_tensor(np.stack([s[:, 1:] for s in val_segs]), device=device.torch)

    @torch.no_grad()
    def per_position(model, step):
        model.eval()
        logits, _ = model(x)
        model.train()
        logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, y[..., None]).squeeze(-1)
        bits = (-logp.mean(dim=1) * NATS_TO_BITS).cpu().numpy()  # (M, T)
        return {"position_bits": bits.tolist()}

    run = fit_ensemble(cfg, tc, train, val, [c["seed"] for c in group], device, stride=T + 1,
                       on_eval=per_position, on_start=training_log.from_settings())
    out = []
    for m, c in enumerate(group):
        bayes = bayes_position_loss(val_segs[m], k, c["alpha"])
        out.append({"steps": [r["step"] for r in run.history],
                    "val_bits": [r["val_loss"][m] * NATS_TO_BITS for r in run.history],
                    "position_bits": [r["extra"]["position_bits"][m] for r in run.history],
                    "bayes_position_bits": bayes.tolist()})
    return out


# ---------------------------------------------------------------------------------------------
# The chapter's numbers. Every function below copies the arithmetic of the chapter it came from,
# in the same order, so that each quoted value stays bit for bit what it was.
# ---------------------------------------------------------------------------------------------

Options = list[tuple[str, bool]]  # sentences and their conditions, for Findings.choose


def run_name(family, knob_value) -> str:
    """A setting as the prose names it: "the temperature knob at τ = 0.5", "the even process"."""
    v = knob_value if isinstance(knob_value, str) else f"{knob_value:.4g}"
    return {"temperature": f"the temperature knob at τ = {v}",
            "noise": f"the noise knob at rate {v}",
            "order": f"the Markov chain of order {v}",
            "hmm": f"the {v}",
            "santa-fe": f"the Santa Fe process at β = {v}"}.get(family, f"{family} at {v}")


def pooled_se(values) -> float:
    """The standard error of a mean over independent seeds, from each seed's standard error:
    sqrt(sum se²) / n (every seed has its own data, so the seeds are independent)."""
    return float(np.sqrt(np.sum(np.square(values))) / len(values))


def with_se(value, se) -> str:
    """A value and its standard error, to the decimal place that shows the error (at least 4)."""
    digits = 4 if se >= 5e-5 else min(6, 1 - int(np.floor(np.log10(se)))) if se > 0 else 4
    return f"{value:+.{digits}f} ± {se:.{digits}f} bits"


# --- The sweep: its evaluation and where its settings lie ------------------------------------

def windows_text(n_windows: list[int]) -> str:
    """"13,901" when every run has as many final windows, else "13,000 to 13,901"."""
    return f"{n_windows[0]:,}" if len(n_windows) == 1 else f"{n_windows[0]:,} to {n_windows[-1]:,}"


def max_se_options(max_se: float) -> Options:
    """How large the largest standard error of a run's final loss is, in words."""
    return [("a few thousandths of a bit", max_se < 0.01),
            ("a few hundredths of a bit", max_se < 0.1),
            ("more than a tenth of a bit", True)]


def shares_text(shares) -> str:
    """"0.1, 0.5 and 0.9": the h shares at which the knobs are sampled."""
    return ", ".join(f"{s:g}" for s in shares[:-1]) + f" and {shares[-1]:g}"


def knob_region_counts(cells, results) -> dict[str, dict[str, int]]:
    """For each continuous knob, how many of its settings lie in each region of
    :mod:`middleground.measures.regions` (a setting counts once, whatever its seeds)."""
    knob_region = {}
    for c, r in zip(cells, results):
        if c["family"] in KNOBS:
            knob_region[c["family"], c["knob"]] = regions.region(r["h"], r["E"], KNOB_K)
    return {fam: {reg: sum(g == reg for (f, _), g in knob_region.items() if f == fam)
                  for reg in regions.REGIONS}
            for fam in KNOBS}


def middle_count_text(count_of) -> str:
    """"1 (temperature) and 1 (noise)": the settings of each knob in the middle."""
    return " and ".join(f"{count_of[fam][regions.MIDDLE]} ({fam})" for fam in KNOBS)


def regions_options(count_of) -> Options:
    """Whether every knob reaches its ordered end, the middle and its noisy end."""
    return [("every knob has settings at its ordered end, in the middle and at its noisy end",
             all(count_of[fam][reg] for fam in KNOBS for reg in (regions.ORDERED, regions.MIDDLE, regions.NOISY))),
            ("not every knob reaches all three regions (ordered, middle, noisy) at this number of settings", True)]


# --- Runs and settings -----------------------------------------------------------------------

def run_rows(cells, results) -> list[dict]:
    """One row per run: its setting, exact h and E, final evaluation, count-based baseline, excess
    above the floor (None off the hidden-Markov sources) and steps to 90 % of its drop."""
    rows = []
    for c, r in zip(cells, results):
        f = r["final"]
        rows.append({"family": c["family"], "knob": c["knob"] if isinstance(c["knob"], str) else f"{c['knob']:.4g}",
                     "knob_value": None if isinstance(c["knob"], str) else c["knob"], "knob_raw": c["knob"],
                     "seed": c["seed"], "alphabet": c["model"]["vocab_size"], "h": r["h"], "E": r["E"],
                     "final_bits": f["val_bits"], "final_se": f["val_se"], "above_h": f["val_bits"] - r["h"],
                     "bayes_bits": f["bayes_bits"], "model_minus_bayes": f["model_minus_bayes"],
                     "model_minus_bayes_se": f["model_minus_bayes_se"], "bayes_order": f["bayes_order"],
                     "hidden_markov": f.get("excess_floor") is not None,
                     "optimal_bits": f.get("optimal_bits"), "excess": f.get("excess_floor"),
                     "excess_se": f.get("excess_floor_se"), "token_accuracy": f["token_accuracy"],
                     "plateau": curves.steps_to_plateau(r["steps"], np.array(r["val_bits"]) - r["h"])})
    return rows


def hidden_markov_rows(rows) -> list[dict]:
    """The rows of the hidden-Markov runs, each given its region, its h share (h / log2|A|, which
    compares alphabets), its ± 2 se bar and its z (excess / se). The rows are updated in place."""
    hmm_rows = [r for r in rows if r["hidden_markov"]]
    for r in hmm_rows:
        r["region"] = regions.region(r["h"], r["E"], r["alphabet"])
        r["h_share"] = regions.h_share(r["h"], r["alphabet"])  # h / log2|A|: comparable across alphabets
        r["excess_lo"], r["excess_hi"] = r["excess"] - 2 * r["excess_se"], r["excess"] + 2 * r["excess_se"]
        r["z"] = r["excess"] / r["excess_se"]
    return hmm_rows


def pool_settings(rows, floor: Callable) -> list[dict]:
    """One entry per setting (family, knob value), its seeds pooled: means over seeds, and standard
    errors of the means from :func:`pooled_se`. A hidden-Markov setting also gets its region, its
    finite-context floor (``floor(family, knob)``: an object with ``value``, ``se``, ``method``)
    as a gap to h, and its pooled excess above the floor. Settings keep the order of the rows."""
    settings = []
    for key in dict.fromkeys((r["family"], r["knob"]) for r in rows):
        rs = [r for r in rows if (r["family"], r["knob"]) == key]
        s = {"family": key[0], "knob": key[1], "knob_raw": rs[0]["knob_raw"], "name": run_name(*key),
             "h": rs[0]["h"], "E": rs[0]["E"], "seeds": len(rs), "hidden_markov": rs[0]["hidden_markov"],
             "above_h": float(np.mean([r["above_h"] for r in rs])),
             "above_h_se": pooled_se([r["final_se"] for r in rs]),
             "bayes_above_h": float(np.mean([r["bayes_bits"] for r in rs])) - rs[0]["h"],
             "model_minus_bayes": float(np.mean([r["model_minus_bayes"] for r in rs])),
             "model_minus_bayes_se": pooled_se([r["model_minus_bayes_se"] for r in rs]),
             "bayes_order": int(np.median([r["bayes_order"] for r in rs]))}
        if s["hidden_markov"]:
            fl = floor(key[0], s["knob_raw"])
            s.update(region=rs[0]["region"], floor_gap=fl.value - s["h"], floor_se=fl.se, floor_method=fl.method,
                     excess=float(np.mean([r["excess"] for r in rs])),
                     excess_se=pooled_se([r["excess_se"] for r in rs]))
        settings.append(s)
    return settings


def floor_table(hmm_rows, hmm_settings) -> dict:
    """The floor's gap to h over the hidden-Markov settings (smallest, largest, how many exact, the
    largest Monte Carlo se), and how much of the runs' mean "loss − h" it accounts for, both as
    "mean ± se" text (the seeds of a setting share its floor, so its error is weighted by its runs),
    by the chapter's glue keys."""
    floor_of = {(s["family"], s["knob"]): s for s in hmm_settings}
    above_h = np.array([r["above_h"] for r in hmm_rows])
    floor_gap = np.array([floor_of[r["family"], r["knob"]]["floor_gap"] for r in hmm_rows])
    floor_gap_se = float(np.sqrt(sum((s["seeds"] * s["floor_se"]) ** 2 for s in hmm_settings)) / len(hmm_rows))
    return {"kn_floor_gap_lo": min(s["floor_gap"] for s in hmm_settings),
            "kn_floor_gap_hi": max(s["floor_gap"] for s in hmm_settings),
            "kn_floor_exact": sum(s["floor_method"] == "exact" for s in hmm_settings),
            "kn_floor_mc_se": max([s["floor_se"] for s in hmm_settings] + [0.0]),
            "kn_mean_above_h": f"{above_h.mean():.4f} ± {pooled_se([r['final_se'] for r in hmm_rows]):.4f}",
            "kn_mean_floor_gap": f"{floor_gap.mean():.4f} ± {floor_gap_se:.4f}"}


def floor_bigger_count(hmm_settings) -> int:
    """On how many settings the floor's gap to h exceeds the model's excess above the floor."""
    return sum(s["floor_gap"] > s["excess"] for s in hmm_settings)


def floor_options(floor_bigger: int, n: int) -> Options:
    """Whether "loss − h" is mostly the context's doing (the floor) or the model's (the excess)."""
    return [(f"on every one of the {n} settings the floor's gap to h is larger than what the "
             "model leaves above the floor", floor_bigger == n),
            (f"on {floor_bigger} of the {n} settings the floor's gap to h is larger than what "
             "the model leaves above the floor, so there most of \"loss − h\" is the context's doing, not the "
             "model's", floor_bigger > n / 2),
            (f"on none of the {n} settings is the floor's gap to h larger than what the model "
             "leaves above the floor: at this budget most of \"loss − h\" is the model's doing",
             floor_bigger == 0),
            (f"only on {floor_bigger} of the {n} settings is the floor's gap to h larger than "
             "what the model leaves above the floor", True)]


# --- The excess above the floor --------------------------------------------------------------

def run_label(row) -> str:
    """A run's excess with its se, the setting and the seed: "+0.0123 ± 0.0010 bits (…, seed 0)"."""
    return (with_se(row["excess"], row["excess_se"])
            + f" ({run_name(row['family'], row['knob_raw'])}, seed {row['seed']})")


def at_floor_options(n_at_floor: int, n_runs: int, n_windows: int) -> Options:
    """How many runs are within two standard errors of the floor."""
    return [("No run is within two standard errors of the floor: every model leaves something that its "
             "context would let it learn", not n_at_floor),
            ("Every run is within two standard errors of the floor: at this budget the model has learned "
             "all that its context allows, on every source", n_at_floor == n_runs),
            (f"{n_at_floor} of the {n_runs} runs are within two standard errors of the floor, "
             "so on those the model has learned all that its context allows, as far as "
             f"{n_windows:,} windows can tell; the others stay measurably above it", True)]


def min_z_options(min_z: float) -> Options:
    """Where the lowest run lies against the floor, in standard errors."""
    return [(f"Every run lies above the floor, the nearest by {min_z:.1f} standard errors, as it should", min_z > 0),
            (f"No run lies more than {-min_z:.1f} standard errors below the floor, which sampling error allows",
             min_z > -3),
            (f"The lowest run lies {-min_z:.1f} standard errors below the floor, more than sampling error "
             "readily allows", True)]


def correlation(rs, key) -> float:
    """Pearson correlation of the rows' ``key`` with their excess above the floor."""
    return float(np.corrcoef([r[key] for r in rs], [r["excess"] for r in rs])[0, 1])


def bootstrap_correlations(hmm_rows, hmm_settings, rng, draws: int = 2000) -> dict:
    """The excess's correlation with the h share and with E over the runs, each with a 95 %
    interval from resampling settings (the independent unit), each with all its seeds:
    ``{key: (r, lo, hi)}``. Resamples where either variable is constant are skipped."""
    groups = [[r for r in hmm_rows if (r["family"], r["knob"]) == (s["family"], s["knob"])] for s in hmm_settings]
    boot = {"h_share": [], "E": []}
    for _ in range(draws):
        pick_rows = [r for i in rng.integers(0, len(groups), len(groups)) for r in groups[i]]
        for key in boot:
            if np.ptp([r[key] for r in pick_rows]) > 0 and np.ptp([r["excess"] for r in pick_rows]) > 0:
                boot[key].append(correlation(pick_rows, key))
    return {key: (correlation(hmm_rows, key), *np.percentile(boot[key], [2.5, 97.5])) for key in boot}


def corr_options(clear: Mapping[str, bool]) -> Options:
    """Which correlations' intervals exclude zero (``clear``, by "h_share" and "E")."""
    return [("neither interval excludes zero, so with this many settings no correlation of the excess with "
             "the h share or with E is established", not clear["h_share"] and not clear["E"]),
            ("only the correlation with the h share is distinguishable from zero; with this many settings "
             "one with E is not established", clear["h_share"] and not clear["E"]),
            ("only the correlation with E is distinguishable from zero; with this many settings one with "
             "the h share is not established", clear["E"] and not clear["h_share"]),
            ("both are distinguishable from zero; pooled over families of different structure, that is a "
             "correlation across these settings, not a law", True)]


# --- Beside a count-based baseline -----------------------------------------------------------

def santa_fe_evaluation(cell, result, block: int) -> dict:
    """A Santa Fe run against the exact optimal predictor that knows its realisation's facts, on
    the very windows of its final evaluation: the oracle's bits and se, the count-based baseline
    recomputed on the same windows, whether the windows are the same, how many held-out symbols
    restate a fact unseen in training, and the stationary finite-context floor."""
    src, train_symbols, val_symbols = sweep.run_data(cell)  # the very symbols the run saw
    y = sweep.final_windows(val_symbols, block)[:, 1:]   # the predicted symbols of every window
    per_window = -np.log2(src.k_probs[y // 2]).mean(axis=1)
    # The count-based baseline again, on the same windows: model − oracle = (model − Bayes) +
    # (Bayes − oracle), each a paired difference, so the standard error of the sum is at most the
    # sum of theirs.
    windows = sweep.final_windows(val_symbols, block)
    bayes = BayesNgram.fit(train_symbols, src.alphabet_size, sweep.bayes_max_order(src.alphabet_size))
    bayes_minus_oracle = bayes.window_bits(windows).mean(axis=1) - per_window
    H = src.block_entropies(block + 1)
    return dict(oracle_bits=float(per_window.mean()),
                oracle_se=float(per_window.std(ddof=1) / np.sqrt(len(per_window))),
                bayes_again=float(bayes_minus_oracle.mean() + per_window.mean()),
                bayes_minus_oracle_se=float(bayes_minus_oracle.std(ddof=1) / np.sqrt(len(per_window))),
                same_windows=len(per_window) == result["final"]["n_windows"],
                unseen=int((~np.isin(y // 2, np.unique(train_symbols // 2))).sum()),
                stationary_floor=float((H[block + 1] - H[1]) / block), k_max=src.k_max)


def santa_fe_rows(cells, rows, evaluations) -> list[dict]:
    """The Santa Fe rows, each updated in place with its evaluation (:func:`santa_fe_evaluation`,
    one per Santa Fe cell, in order) and its gap to the oracle with that gap's se (bounded by the
    sum of the two paired ses)."""
    sf = []
    for c, row in zip(cells, rows):
        if c["family"] != "santa-fe":
            continue
        row.update(evaluations[len(sf)])
        row["model_minus_oracle"] = row["final_bits"] - row["oracle_bits"]
        row["model_minus_oracle_se"] = row["model_minus_bayes_se"] + row["bayes_minus_oracle_se"]
        sf.append(row)
    return sf


PREDICTORS = ["transformer", "count-based Bayes", "finite-context floor", "oracle that knows the facts",
              "stationary floor (no bound here)"]


def predictor_rows(settings, rows) -> list[dict]:
    """Per setting and predictor, loss − h with its se and ± 2 se bar: the transformer, the
    count-based baseline and the floor (hidden-Markov) or the oracle and the stationary floor (Santa
    Fe, whose settings are given their pooled oracle gap in place)."""
    long_rows = []
    for s in settings:
        rs = [r for r in rows if (r["family"], r["knob"]) == (s["family"], s["knob"])]
        entries = [("transformer", s["above_h"], s["above_h_se"]), ("count-based Bayes", s["bayes_above_h"], None)]
        if s["hidden_markov"]:
            entries.append(("finite-context floor", s["floor_gap"], s["floor_se"]))
        else:
            s["oracle_gap"] = float(np.mean([r["oracle_bits"] for r in rs])) - s["h"]
            s["oracle_gap_se"] = pooled_se([r["oracle_se"] for r in rs])
            s["stationary_gap"] = rs[0]["stationary_floor"] - s["h"]
            entries += [("oracle that knows the facts", s["oracle_gap"], s["oracle_gap_se"]),
                        ("stationary floor (no bound here)", s["stationary_gap"], 0.0)]
        for name, value, se in entries:
            long_rows.append({"family": s["family"], "knob": s["knob"], "h": s["h"], "predictor": name,
                              "above_h": value, "se": se, "lo": value - 2 * (se or 0.0), "hi": value + 2 * (se or 0.0),
                              "model_minus_bayes": s["model_minus_bayes"],
                              "model_minus_bayes_se": s["model_minus_bayes_se"], "bayes_order": s["bayes_order"]})
    return long_rows


def bayes_verdicts(settings) -> tuple[list[dict], list[dict]]:
    """The settings where the transformer beats the count-based baseline by more than two standard
    errors, and those where it loses by more than two."""
    beats = [s for s in settings if s["model_minus_bayes"] < -2 * s["model_minus_bayes_se"]]
    loses = [s for s in settings if s["model_minus_bayes"] > 2 * s["model_minus_bayes_se"]]
    return beats, loses


def bayes_by_family_text(families, settings, beats, loses) -> str:
    """"temperature: better on 1, worse on 2 of 3; …", family by family."""
    return "; ".join(
        f"{fam}: better on {sum(s['family'] == fam for s in beats)}, worse on {sum(s['family'] == fam for s in loses)} "
        f"of {sum(s['family'] == fam for s in settings)}" for fam in families)


def bayes_by_family(families, settings, beats) -> dict[str, tuple[int, int]]:
    """Per family, (settings where the transformer beats the baseline, settings)."""
    return {fam: (sum(s["family"] == fam for s in beats), sum(s["family"] == fam for s in settings))
            for fam in families}


def bayes_exception_options(by_family, n_loses: int, n_settings: int) -> Options:
    """The families where the transformer beats the counts on most settings, if any."""
    ahead = [fam for fam, (b, n) in by_family.items() if b > n / 2]
    return [("The count-based predictor is not beaten on most settings of any family", not ahead),
            (f"The exception is the {' and the '.join(ahead)} famil{'y' if len(ahead) == 1 else 'ies'}, "
             "where the transformer beats the counts on most settings", n_loses > n_settings / 2),
            (f"The transformer beats the counts on most settings of the {' and the '.join(ahead)} "
             f"famil{'y' if len(ahead) == 1 else 'ies'}", True)]


def bayes_words_options(n_loses: int, n_beats: int, n_settings: int) -> Options:
    """Which predictor is better on most settings, and what that says."""
    return [("So on most settings the transformer leaves unlearned what a counting predictor with the same "
             "data does learn: there the data are not what is hard, the model and its budget are",
             n_loses > n_settings / 2),
            ("So on most settings the transformer does better than a counting predictor with the same data: "
             "what it still misses, counting does not find either", n_beats > n_settings / 2),
            ("Neither predictor is better on most settings: where one has the edge depends on the source",
             True)]


# --- Santa Fe --------------------------------------------------------------------------------

def sf_facts_options(unseen: int) -> Options:
    """Whether every fact a held-out symbol restates was seen in training."""
    return [("Every fact that a held-out symbol restates was seen in training, in every run, so a model "
             "could know them all", unseen == 0),
            (f"{unseen} held-out symbols, over all runs, restate a fact never seen in training; on those "
             "not even a perfect memoriser of the training symbols could match the oracle", True)]


def sf_below_floor_options(n_below: int, n_sf: int) -> Options:
    """How many Santa Fe runs end below the stationary floor by more than two standard errors."""
    return [(f"All {n_sf} Santa Fe runs end below the stationary floor by more than two standard errors, "
             "which only a model that knows some of the realisation's facts beforehand can do",
             n_below == n_sf),
            ("No Santa Fe run ends measurably below the stationary floor", not n_below),
            (f"{n_below} of the {n_sf} Santa Fe runs end below the stationary floor by more than "
             "two standard errors, which only a model that knows some of the realisation's facts beforehand "
             "can do", True)]


def sf_floor_gap_text(sf) -> str:
    """The stationary floor's gap to h, rounded to 3 places: one value, or a range."""
    sf_gaps = sorted({round(s["stationary_floor"] - s["h"], 3) for s in sf})
    return f"{sf_gaps[0]:.3f}" if len(sf_gaps) == 1 else f"{sf_gaps[0]:.3f} to {sf_gaps[-1]:.3f}"


def sf_gap_options(sf) -> Options:
    """How the Santa Fe models stand against the oracle that knows the facts."""
    near = [s for s in sf if abs(s["model_minus_oracle"]) <= 2 * s["model_minus_oracle_se"]]
    return [("every model is within two standard errors of the oracle: it has learned the facts and the "
             "distribution of K, as far as these windows can tell", len(near) == len(sf)),
            ("every model stays measurably above the oracle, but by less than a hundredth of a bit: what the "
             "models have not memorised of their realisation costs them less than that",
             not near and all(0 < s["model_minus_oracle"] < 0.01 for s in sf)),
            ("every model stays above the oracle by more than two standard errors: some facts, or the "
             "distribution of K, are not learned yet", not near and all(s["model_minus_oracle"] > 0 for s in sf)),
            (f"{len(near)} of the {len(sf)} models are within two standard errors of the oracle; the others "
             "have not yet learned everything it knows", True)]


# --- Learning curves and disagreement along the knob -----------------------------------------

def curve_records(cells, results, rows, floor_of) -> list[dict]:
    """The knob runs' learning curves: loss − h − the setting's floor gap, per evaluation."""
    curve_rows = []
    for c, r, row in zip(cells, results, rows):
        if c["family"] in KNOBS:
            gap = floor_of[row["family"], row["knob"]]["floor_gap"]
            for s, v in zip(r["steps"], r["val_bits"]):
                curve_rows.append({"family": c["family"], "knob": c["knob"], "seed": c["seed"],
                                   "region": row["region"], "step": s, "excess": v - r["h"] - gap})
    return curve_rows


def knob_spread(rows) -> list[dict]:
    """Per knob setting: the seeds' standard deviation (ddof 1; 0 for one seed) of the final loss
    and of the continuation accuracy, the largest se of one run's loss, and the mean steps to 90 %
    of the drop."""
    spread = []
    for fam in KNOBS:
        for kv in sorted({r["knob_value"] for r in rows if r["family"] == fam}):
            rs = [r for r in rows if r["family"] == fam and r["knob_value"] == kv]
            spread.append({"family": fam, "knob_value": kv, "h": rs[0]["h"], "region": rs[0]["region"],
                           "loss_sd": float(np.std([r["final_bits"] for r in rs], ddof=1)) if len(rs) > 1 else 0.0,
                           "loss_se": max(r["final_se"] for r in rs),
                           "acc_sd": float(np.std([r["token_accuracy"] for r in rs], ddof=1)) if len(rs) > 1 else 0.0,
                           "plateau": float(np.mean([r["plateau"] for r in rs]))})
    return spread


def where_options(row) -> Options:
    """Where a knob setting lies, by the book's one definition of the middle (measures.regions)."""
    return [("at the ordered end of its knob", row["region"] == regions.ORDERED),
            ("at the noisy end of its knob", row["region"] == regions.NOISY),
            ("in the middle of its knob", row["region"] == regions.MIDDLE),
            ("between the ends of its knob, but with too little excess entropy to count "
             "as the middle", True)]


def setting_name(row) -> str:
    """"temperature = 0.5 (h = 1.23)"."""
    return f"{row['family']} = {row['knob_value']:.4g} (h = {row['h']:.2f})"


def loss_noise_options(top_loss) -> Options:
    """Whether the largest seed spread of final loss exceeds three times one run's se there."""
    return [("more than three times the standard error of one run's final loss there, so the seeds "
             "genuinely end apart (each seed has its own data as well as its own weights)",
             top_loss["loss_sd"] > 3 * top_loss["loss_se"]),
            ("within three times the standard error of one run's final loss there, so even this peak may "
             "be no more than evaluation noise", True)]


def acc_se_bound(n_prompts: int) -> float:
    """The largest standard error of a mean of ``n_prompts`` per-prompt scores in [0, 1]."""
    return float(np.sqrt(0.25 / n_prompts))


def verdict_options(top_loss, top_acc) -> Options:
    """Whether the two disagreement peaks lie in the middle region of their knobs."""
    in_middle = [p["region"] == regions.MIDDLE for p in (top_loss, top_acc)]
    return [("Both peaks lie in the middle region of their knobs", all(in_middle)),
            ("Neither peak lies in the middle region: in this build seeds disagree most away from the "
             "middle", not any(in_middle)),
            ("One peak lies in the middle region, the other does not", True)]


def acc_reading_options(top_acc) -> Options:
    """Whether the accuracy peak says more about a fragile metric than about learning."""
    return [("There the continuation target is fragile: at the noisy end the most likely next symbol is "
             "barely more likely than the rest, so seeds whose predicted distributions agree (their final "
             "losses differ by a standard deviation of only {} bits) can still pick different symbols. "
             "That disagreement says more about the metric than about learning".format(
                 f"{top_acc['loss_sd']:.4f}"),
             top_acc["region"] == regions.NOISY and top_acc["loss_sd"] < 0.01),
            ("There the continuation target is well separated from the alternatives, so the seeds' "
             "disagreement in accuracy reflects what they learned, not a fragile metric", True)]


# --- In-context learning ---------------------------------------------------------------------

LATE = slice(32, None)  # positions with at least 32 symbols of context


def unigram_position_bits(segs, k, alpha):
    """Per-position loss (bits) of the in-context unigram predictor (c_j + α)/(t + kα), averaged
    over segments; position t predicts symbol t+1, as in bayes_position_loss."""
    n, L = segs.shape
    counts, rows_, out = np.zeros((n, k)), np.arange(n), np.empty(L - 1)
    for t in range(L - 1):
        counts[rows_, segs[:, t]] += 1
        out[t] = -np.log2((counts[rows_, segs[:, t + 1]] + alpha) / (t + 1 + k * alpha)).mean()
    return out


def icl_records(icl, icl_results) -> tuple[list[dict], list[dict], list[bool]]:
    """Per run and evaluation, the late loss above Bayes and above the in-context unigram predictor
    and the in-context scores of the three (``icl_rows``); per position at the end of training, the
    three losses (``pos_rows``); and per run whether the Bayes loss recomputed on the regenerated
    evaluation sequences equals the stored one."""
    icl_rows, pos_rows, same_sequences = [], [], []
    for c, r in zip(icl, icl_results):
        # The evaluation sequences of train_icl_group (512 segments drawn with [seed, ICL_EVAL_STREAM]); the
        # Bayes loss recomputed on them must equal the stored one.
        segs = dirichlet_markov_segments(512, c["model"]["block_size"] + 1, c["k"], c["alpha"],
                                         np.random.default_rng([c["seed"], ICL_EVAL_STREAM]))
        same_sequences.append(bool(np.allclose(bayes_position_loss(segs, c["k"], c["alpha"]),
                                               r["bayes_position_bits"])))
        bayes = np.array(r["bayes_position_bits"])
        uni = unigram_position_bits(segs, c["k"], c["alpha"])
        for s, pb in zip(r["steps"], r["position_bits"]):
            pb = np.array(pb)
            icl_rows.append({"alpha": c["alpha"], "seed": c["seed"], "step": s,
                             "late_excess": float(pb[LATE].mean() - bayes[LATE].mean()),
                             "above_unigram": float(pb[LATE].mean() - uni[LATE].mean()),
                             "icl_score": float(pb[3] - pb[-1]), "bayes_score": float(bayes[3] - bayes[-1]),
                             "unigram_score": float(uni[3] - uni[-1]),
                             "unigram_excess": float(uni[LATE].mean() - bayes[LATE].mean())})
        last = np.array(r["position_bits"][-1])
        for who, curve in (("model", last), ("Bayes-optimal", bayes), ("in-context unigram", uni)):
            pos_rows += [{"alpha": c["alpha"], "seed": c["seed"], "position": t, "bits": float(b),
                          "who": who} for t, b in enumerate(curve)]
    return icl_rows, pos_rows, same_sequences


def unigram_levels(icl_rows, alphas) -> list[dict]:
    """Per concentration, the unigram predictor's late loss above Bayes (mean over seeds, step 0)."""
    return [{"alpha": a, "unigram_excess": float(np.mean(
        [r["unigram_excess"] for r in icl_rows if r["alpha"] == a and r["step"] == 0]))} for a in alphas]


def at_step(icl_rows, key, a, step) -> float:
    """The mean over seeds of ``key`` at concentration ``a`` and training step ``step``."""
    return float(np.mean([r[key] for r in icl_rows if r["alpha"] == a and r["step"] == step]))


def fate_options(gap: float) -> Options:
    """Where a run ends against the unigram level (``gap``: model − unigram, late positions)."""
    return [("past the unigram level", gap < -0.05),
            ("still at the unigram level, on the plateau", abs(gap) <= 0.05),
            ("above the unigram level", True)]


def fate_text(a: float, gap: float, fate: str) -> str:
    """"at α = 0.3 it is 0.123 bits below the unigram predictor, past the unigram level"."""
    return (f"at α = {a:g} it is {abs(gap):.3f} bits {'below' if gap < 0 else 'above'} "
            f"the unigram predictor, {fate}")


def score_options(m: float, b: float, u: float) -> Options:
    """The model's in-context score ``m`` against the Bayes-optimal ``b`` and the unigram ``u``."""
    return [("close to the Bayes-optimal predictor's", m >= 0.8 * b),
            ("between the unigram and the Bayes-optimal predictor's", m > u + 0.02),
            ("no more than the unigram predictor's", True)]


# --- The result ------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnobResult(Result):
    """What the figures draw: the hidden-Markov runs (``hmm_rows``), each setting's predictors
    (``long_rows``, by ``families``), the knob runs' learning curves (``curve_rows``), the seeds'
    spread per knob setting (``spread``), the in-context runs per evaluation (``icl_rows``), the
    unigram levels (``unigram_level``) and the per-position losses (``pos_rows``); the standard
    sweep's ``counts``; and every value and claim the chapter states."""

    hmm_rows: tuple[dict, ...]
    long_rows: tuple[dict, ...]
    families: tuple[str, ...]
    curve_rows: tuple[dict, ...]
    spread: tuple[dict, ...]
    icl_rows: tuple[dict, ...]
    unigram_level: tuple[dict, ...]
    pos_rows: tuple[dict, ...]
    counts: Mapping[str, int]


def _sweep_facts(found: Findings, cells, results, iters, width, n_seeds, knob_points) -> None:
    """The sweep's sizes, its final evaluation, and where the knob settings lie."""
    block = cells[0]["model"]["block_size"]
    finals = [r["final"] for r in results]
    found.value("kn_runs", len(cells))
    found.value("kn_iters", iters)
    found.value("kn_width", width)
    found.value("kn_seeds", n_seeds)
    found.value("kn_seeds_text", f"{n_seeds} seed" + ("" if n_seeds == 1 else "s"))
    found.value("kn_train_tokens", f"{sweep.N_TRAIN:,}")
    n_val = cells[0]["n_val"]
    found.value("kn_val_tokens", f"{n_val:,}")
    found.value("kn_window_len", block + 1)
    n_windows = sorted({f["n_windows"] for f in finals})
    found.value("kn_windows", windows_text(n_windows))
    found.claim("every final evaluation covers the whole held-out stream in windows of the model's context",
                all(f["n_windows"] == c["n_val"] // (block + 1) for c, f in zip(cells, finals)), n_windows)
    max_se = max(f["val_se"] for f in finals)
    found.value("kn_max_se", max_se)
    found.value("kn_max_se_words", found.choose(max_se_options(max_se), max_se))
    found.value("kn_prompts", finals[0]["n_prompts"])
    # Where the knob settings lie, by the book's one definition of the middle.
    found.value("kn_points", knob_points)
    found.value("kn_shares", shares_text(knob_shares(knob_points)))
    found.value("kn_definition", regions.DEFINITION)
    count_of = knob_region_counts(cells, results)
    found.value("kn_middle_count", middle_count_text(count_of))
    found.value("kn_regions_words", found.choose(regions_options(count_of), count_of))


def summarise(cells, results, counts, floor: Callable, santa_fe: list[dict], icl, icl_results, alphas,
              *, iters: int, width: int, n_seeds: int, knob_points: int, icl_iters: int,
              seed: int) -> KnobResult:
    """The chapter's numbers from the standard sweep (``cells``, ``results``, ``counts``), each
    hidden-Markov setting's finite-context floor (``floor(family, knob)``), each Santa Fe run's
    evaluation against its oracle (``santa_fe``, :func:`santa_fe_evaluation`, in order) and the
    in-context runs (``icl``, ``icl_results`` at concentrations ``alphas``)."""
    found = Findings()
    _sweep_facts(found, cells, results, iters, width, n_seeds, knob_points)
    finals = [r["final"] for r in results]
    n_windows = sorted({f["n_windows"] for f in finals})

    # Excess loss above the finite-context floor.
    rows = run_rows(cells, results)
    found.claim("every run but Santa Fe's has the exact optimal predictor scored on its own windows",
                all(r["hidden_markov"] == (r["family"] != "santa-fe") for r in rows),
                sum(r["hidden_markov"] for r in rows))
    hmm_rows = hidden_markov_rows(rows)
    settings = pool_settings(rows, floor)
    hmm_settings = [s for s in settings if s["hidden_markov"]]
    found.value("kn_hmm_runs", len(hmm_rows))
    found.value("kn_hmm_settings", len(hmm_settings))
    for key, value in floor_table(hmm_rows, hmm_settings).items():
        found.value(key, value)
    floor_of = {(s["family"], s["knob"]): s for s in hmm_settings}
    floor_bigger = floor_bigger_count(hmm_settings)
    found.value("kn_floor_words", found.choose(
        floor_options(floor_bigger, len(hmm_settings)),
        {"settings where floor − h > excess": floor_bigger, "settings": len(hmm_settings)}))

    lo_run = min(hmm_rows, key=lambda r: r["excess"])
    hi_run = max(hmm_rows, key=lambda r: r["excess"])
    found.value("kn_exc_min", run_label(lo_run))
    found.value("kn_exc_max", run_label(hi_run))
    found.value("kn_exc_range", f"{lo_run['excess']:+.4f} to {hi_run['excess']:+.4f}")
    at_floor = [r for r in hmm_rows if abs(r["z"]) <= 2]
    found.value("kn_at_floor_words", found.choose(
        at_floor_options(len(at_floor), len(hmm_rows), n_windows[0]),
        {"runs within 2 se": len(at_floor), "runs": len(hmm_rows)}))
    at_floor_where = sorted({r["region"] for r in at_floor})
    found.value("kn_at_floor_regions", ", ".join(at_floor_where) if at_floor_where else "none")
    min_z = min(r["z"] for r in hmm_rows)
    found.value("kn_min_z_words", found.choose(min_z_options(min_z), min_z))
    found.claim("no run lies more than four standard errors below the floor, which no predictor can beat "
                "in expectation", min_z > -4, min_z)

    # Correlations over the hidden-Markov runs (Santa Fe's E is not a point of the (h, E) plane),
    # with 95 % intervals from resampling settings (the independent unit), each with all its seeds.
    # The families' alphabets differ in size, so h enters as its share of the maximum, h / log2|A|.
    corr_of = bootstrap_correlations(hmm_rows, hmm_settings, np.random.default_rng([seed, CORRELATION_BOOTSTRAP_STREAM]))
    for key, (rv, lo, hi) in corr_of.items():
        found.value(f"kn_corr_{key}", f"{rv:+.2f} (95 % interval {lo:+.2f} to {hi:+.2f})")
        found.value(f"kn_corr_{key}_value", rv)
    clear = {key: lo > 0 or hi < 0 for key, (rv, lo, hi) in corr_of.items()}
    found.value("kn_corr_words", found.choose(corr_options(clear), corr_of))
    found.value("kn_alphabets", " and ".join(str(a) for a in sorted({r["alphabet"] for r in hmm_rows})))

    # Beside a count-based baseline. Santa Fe: trained and evaluated on one realisation, whose
    # facts are fixed; the bound is the exact optimal predictor that knows them.
    sf = santa_fe_rows(cells, rows, santa_fe)
    long_rows = predictor_rows(settings, rows)
    families = list(dict.fromkeys(s["family"] for s in settings))
    beats, loses = bayes_verdicts(settings)
    found.value("kn_n_settings", len(settings))
    found.value("kn_bayes_beats", len(beats))
    found.value("kn_bayes_loses", len(loses))
    found.value("kn_bayes_max_order", sweep.bayes_max_order(KNOB_K))
    found.value("kn_bayes_sf_order", sweep.bayes_max_order(2 * 16))
    found.value("kn_bayes_by_family", bayes_by_family_text(families, settings, beats, loses))
    worst = max(settings, key=lambda s: s["model_minus_bayes"])
    best = min(settings, key=lambda s: s["model_minus_bayes"])
    found.value("kn_bayes_worst", with_se(worst["model_minus_bayes"], worst["model_minus_bayes_se"])
                + f" ({worst['name']})")
    found.value("kn_bayes_best", with_se(best["model_minus_bayes"], best["model_minus_bayes_se"])
                + f" ({best['name']})")
    by_family = bayes_by_family(families, settings, beats)
    found.value("kn_bayes_exception", found.choose(
        bayes_exception_options(by_family, len(loses), len(settings)), by_family))
    found.value("kn_bayes_words", found.choose(
        bayes_words_options(len(loses), len(beats), len(settings)),
        {"model worse": len(loses), "model better": len(beats), "settings": len(settings)}))

    # Santa Fe: one realisation, and the oracle that knows its facts.
    found.claim("the oracle is scored on the very windows of every Santa Fe run's final evaluation",
                all(s["same_windows"] for s in sf), len(sf))
    bayes_check = max(abs(s["bayes_again"] - s["bayes_bits"]) for s in sf)
    found.claim("the count-based baseline recomputed here scores as in the sweep (within 1e-4 bits)",
                bayes_check < 1e-4, bayes_check)
    found.value("kn_sf_runs", len(sf))
    found.value("kn_sf_kmax", sf[0]["k_max"])
    unseen = sum(s["unseen"] for s in sf)
    found.value("kn_sf_facts", found.choose(sf_facts_options(unseen), unseen))
    below_floor = [s for s in sf if s["final_bits"] < s["stationary_floor"] - 2 * s["final_se"]]
    found.value("kn_sf_below_floor", found.choose(
        sf_below_floor_options(len(below_floor), len(sf)),
        [s["final_bits"] - s["stationary_floor"] for s in sf]))
    found.value("kn_sf_floor_gap", sf_floor_gap_text(sf))
    gap_lo = min(sf, key=lambda s: s["model_minus_oracle"])
    gap_hi = max(sf, key=lambda s: s["model_minus_oracle"])
    found.value("kn_sf_gap_lo", with_se(gap_lo["model_minus_oracle"], gap_lo["model_minus_oracle_se"]))
    found.value("kn_sf_gap_hi", with_se(gap_hi["model_minus_oracle"], gap_hi["model_minus_oracle_se"])
                + f" ({run_name('santa-fe', gap_hi['knob_raw'])}, seed {gap_hi['seed']})")
    found.value("kn_sf_gap_words", found.choose(sf_gap_options(sf), [s["model_minus_oracle"] for s in sf]))
    found.value("kn_sf_bayes", ", ".join(with_se(s["model_minus_bayes"], s["model_minus_bayes_se"])
                                         + f" at β = {s['knob']}"
                                         for s in settings if s["family"] == "santa-fe"))

    # Learning curves, and disagreement between seeds, along the knob.
    curve_rows = curve_records(cells, results, rows, floor_of)
    spread = knob_spread(rows)
    top_loss = max(spread, key=lambda r: r["loss_sd"])
    top_acc = max(spread, key=lambda r: r["acc_sd"])
    found.value("kn_sd_loss_max", top_loss["loss_sd"])
    found.value("kn_sd_loss_where", setting_name(top_loss))
    found.value("kn_sd_acc_max", top_acc["acc_sd"])
    found.value("kn_sd_acc_where", setting_name(top_acc))
    for key, row in (("kn_sd_loss_pos", top_loss), ("kn_sd_acc_pos", top_acc)):
        found.value(key, found.choose(where_options(row), {"family": row["family"], "knob": row["knob_value"],
                                                           "region": row["region"]}))
    found.value("kn_sd_loss_se", top_loss["loss_se"])
    found.value("kn_sd_loss_noise", found.choose(loss_noise_options(top_loss),
                                                 {"sd": top_loss["loss_sd"], "se": top_loss["loss_se"]}))
    found.value("kn_acc_se_bound", acc_se_bound(finals[0]["n_prompts"]))
    found.value("kn_sd_verdict", found.choose(verdict_options(top_loss, top_acc),
                                              [top_loss["region"], top_acc["region"]]))
    found.value("kn_sd_acc_reading", found.choose(
        acc_reading_options(top_acc), {"region": top_acc["region"], "loss sd there": top_acc["loss_sd"]}))
    slowest = max(spread, key=lambda s: s["plateau"])
    found.value("kn_slowest", setting_name(slowest) + f", {slowest['region']}")
    found.value("kn_slowest_steps", slowest["plateau"])

    # In-context learning: the unigram level, and past it.
    icl_rows, pos_rows, same_sequences = icl_records(icl, icl_results)
    found.claim("the unigram baseline is scored on the very sequences the model was evaluated on",
                all(same_sequences), same_sequences)
    unigram_level = unigram_levels(icl_rows, alphas)
    first_step = min(r["step"] for r in icl_rows if r["step"] > 0)
    final_icl = {a: at_step(icl_rows, "late_excess", a, icl_iters) for a in alphas}
    score = {a: at_step(icl_rows, "icl_score", a, icl_iters) for a in alphas}
    bayes_score = {a: at_step(icl_rows, "bayes_score", a, icl_iters) for a in alphas}
    uni_score = {a: at_step(icl_rows, "unigram_score", a, icl_iters) for a in alphas}
    early_gap = max(abs(r["above_unigram"]) for r in icl_rows if r["step"] == first_step)
    found.value("kn_icl_iters", icl_iters)
    found.value("kn_icl_low", final_icl[alphas[0]])
    found.value("kn_icl_high", final_icl[alphas[-1]])
    found.value("kn_icl_score_low", score[alphas[0]])
    found.value("kn_icl_score_high", score[alphas[-1]])
    found.value("kn_icl_bayes_low", bayes_score[alphas[0]])
    found.value("kn_icl_bayes_high", bayes_score[alphas[-1]])
    found.value("kn_icl_uni_low", uni_score[alphas[0]])
    found.value("kn_icl_uni_high", uni_score[alphas[-1]])
    found.value("kn_alpha_low", alphas[0])
    found.value("kn_alpha_high", alphas[-1])
    found.value("kn_icl_first_step", first_step)
    found.value("kn_icl_early_gap", early_gap)
    found.claim("by the first evaluation every in-context run is at the unigram level (within 0.05 bits)",
                early_gap < 0.05, early_gap)
    fates = []
    for a in alphas:
        gap = at_step(icl_rows, "above_unigram", a, icl_iters)
        fate = found.choose(fate_options(gap), {"alpha": a, "model - unigram": gap})
        fates.append(fate_text(a, gap, fate))
    found.value("kn_icl_fates", "; ".join(fates))
    score_words = []
    for a in alphas:
        m, b, u = score[a], bayes_score[a], uni_score[a]
        w = found.choose(score_options(m, b, u), {"alpha": a, "model": m, "Bayes": b, "unigram": u})
        score_words.append(f"at α = {a:g} the model's score is {w}")
    found.value("kn_icl_score_words", "; ".join(score_words))
    found.claim("at the largest α the Bayes-optimal predictor gains little in context (under a third of its "
                "in-context score at the smallest α)", bayes_score[alphas[-1]] < bayes_score[alphas[0]] / 3,
                (bayes_score[alphas[-1]], bayes_score[alphas[0]]))
    found.claim("at the largest α the run stays on the unigram plateau, at the smallest it goes past it",
                abs(at_step(icl_rows, "above_unigram", alphas[-1], icl_iters)) <= 0.05
                and at_step(icl_rows, "above_unigram", alphas[0], icl_iters) < -0.05,
                (at_step(icl_rows, "above_unigram", alphas[-1], icl_iters),
                 at_step(icl_rows, "above_unigram", alphas[0], icl_iters)))
    return KnobResult(hmm_rows=tuple(hmm_rows), long_rows=tuple(long_rows), families=tuple(families),
                      curve_rows=tuple(curve_rows), spread=tuple(spread), icl_rows=tuple(icl_rows),
                      unigram_level=tuple(unigram_level), pos_rows=tuple(pos_rows),
                      counts=MappingProxyType(dict(counts)), **found.done())


def run(cfg: ChapterConfig) -> KnobResult:
    """Chapter knob: the standard sweep at ``cfg``'s sizes (trained or from the cache), each
    setting's finite-context floor, the Santa Fe oracles and the in-context sweep, summarised."""
    cells, results, counts = sweep.results(cfg.profile, cfg.seed, **sweep_values(cfg))
    block = cells[0]["model"]["block_size"]

    def floor(family, knob_raw):
        return finite_context_floor(make_source(family, knob_raw), block, n_windows=20_000,
                                    seed=cfg.seed, max_beliefs=5_000)

    santa_fe = [santa_fe_evaluation(c, r, block) for c, r in zip(cells, results) if c["family"] == "santa-fe"]
    alphas = icl_alphas(cfg.knob_points)
    icl = icl_cells(alphas, [cfg.seed + i for i in range(cfg.icl_seeds)], cfg.icl_iters, width=cfg.width,
                    curve_points=cfg.curve_points)
    icl_results, _ = cache.run("icl", icl, icl_group_key, train_icl_group)
    return summarise(cells, results, counts, floor, santa_fe, icl, icl_results, alphas,
                     iters=cfg.iters, width=cfg.width, n_seeds=cfg.n_seeds, knob_points=cfg.knob_points,
                     icl_iters=cfg.icl_iters, seed=cfg.seed)
