"""The natural chapter's experiments: Tiny Shakespeare and its degradations, measured like the knob.

For each degraded text: the estimators of the middle chapter on the whole text, a small GPT's
held-out bits per character (trained on the first 90 %, scored on the last 10 %, as in the
training chapter), and two
capabilities with exact answers on the held-out part:

- **word completion**: given the 48 characters up to the middle of a word of 4 to 12 letters, finish
  it greedily; exact when every letter is right and the word ends there;
- **speaker names**: after a blank line and the name's first letter, finish the speaker's name up to
  its colon.

For the noisy texts the target is the *clean* word at the same position (the noise is a channel
laid over the text; no predictor can guess the noise itself). For shuffles and surrogates there is
no clean counterpart, and the target is the degraded text's own next word.

All runs of one call are trained as one stacked ensemble (:mod:`middleground.gpt.ensemble`),
cached by :mod:`middleground.sweeps.cache`. Every draw (a degradation's noise, a run's prompts) is
seeded by that degradation or run alone, so a run's numbers do not depend on its companions.

:func:`run` is the chapter: it trains (or reads from the cache) every run, computes everything in
the chapter's order and returns a :class:`NaturalResult` (the records the figures draw, the tables,
and every value and claim of the prose). The ``*_findings`` functions and the sentence functions
(:func:`gpt_vs_sentence`, :func:`loss_vs_capability`, :func:`strong_vs_bayes`, ...) take plain
inputs, so the tests feed them fabricated runs.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import torch

from ..base import data
from ..base.bits import NATS_TO_BITS
from ..base.profiles import ChapterConfig
from ..gpt import decode, text, training_log
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPTConfig
from ..gpt.text import shakespeare_char
from ..measures import entropy
from ..sources import degrade
from ..sources.processes import SantaFe
from ..sweeps.knob import sweep_train_config
from .middle import SHANNON_1951, text_estimates
from .report import Findings, Result

TEXT_MODEL = GPTConfig(vocab_size=65, block_size=64, n_layer=2, n_head=4, n_embd=48, bias=False)
CONTEXT = 48
MAX_WORD = 12


def _stream(name: str) -> int:
    """A stable number for a degradation's name, to seed its draws (Python's hash() is salted)."""
    return zlib.crc32(name.encode("utf-8"))


def degraded_texts(names: list[str], seed: int, n_chars: int | None = None) -> dict[str, np.ndarray]:
    """Token ids of Tiny Shakespeare (its first ``n_chars`` characters, or all) under each named
    degradation: ``original``, ``noise p`` (p a number), ``word shuffle``, ``char shuffle``,
    ``ngram n``."""
    corpus = data.read_text("tinyshakespeare")[:n_chars]
    _, _, vocab = shakespeare_char()
    ids = vocab.encode(corpus)
    out = {}
    for name in names:
        rng = np.random.default_rng([seed, _stream(name)])  # its own draws, whatever the other names
        if name == "original":
            out[name] = ids
        elif name.startswith("noise "):
            out[name] = degrade.char_noise(ids, float(name.split()[1]), len(vocab), rng)
        elif name == "word shuffle":
            out[name] = vocab.encode(degrade.word_shuffle(corpus, rng))
        elif name == "char shuffle":
            out[name] = degrade.char_shuffle(ids, rng)
        elif name.startswith("ngram "):
            order = int(name.split()[1])
            train, _ = text.split(ids)  # fitted on the training part only: no peeking at val
            model = degrade.NgramSurrogate.fit(train, order, len(vocab))
            out[name] = model.sample(len(ids), rng)
        else:
            raise ValueError(f"unknown degradation {name!r}")
    return out


def _targets(clean: np.ndarray, vocab, start: int, rng) -> dict:
    """Prompt positions and target strings in ``clean[start:]`` for the two capabilities.

    A word of 4-12 letters is prompted with its first half (rounded up) and must be finished; a
    speaker's name, after a blank line, is prompted with its first letter."""
    text = vocab.decode(clean[start:])
    words = []
    for m in re.finditer(r"(?<=[ \n])[A-Za-z]{4,%d}(?=[ \n,.;:!?])" % MAX_WORD, text):
        half = (len(m.group()) + 1) // 2
        words.append((m.start() + start + half, m.group()[half:]))
    names = [(m.start() + start + 1, m.group(1)[1:])
             for m in re.finditer(r"(?<=\n\n)([A-Z][A-Za-z ]{1,20}):\n", text)]
    pick_w = rng.choice(len(words), size=min(256, len(words)), replace=False) if words else []
    pick_n = rng.choice(len(names), size=min(128, len(names)), replace=False) if names else []
    return {"word": [words[i] for i in pick_w], "name": [names[i] for i in pick_n]}


@torch.no_grad()
def _complete(model, ids: np.ndarray, prompts, device, vocab) -> list[str]:
    """Greedy continuations of ``MAX_WORD + 1`` characters after each prompt position of ``ids``."""
    idx = torch.as_tensor(np.stack([ids[p - CONTEXT:p] for p in prompts]), device=device.torch)
    return [vocab.decode(row) for row in decode.greedy(model, idx, MAX_WORD + 1).cpu().numpy()]


def _score(continuations: list[str], targets: list[str], stop: str) -> tuple[float, float]:
    """Exact-match rate (target then a stop character) and per-character accuracy."""
    exact, chars = [], []
    for c, t in zip(continuations, targets):
        exact.append(c.startswith(t) and len(c) > len(t) and c[len(t)] in stop)
        chars.append(np.mean([a == b for a, b in zip(c, t)]))
    return float(np.mean(exact)), float(np.mean(chars))


def degradations(noise_points: int) -> list[str]:
    """The chapter's texts: the original, ``noise_points - 1`` noise rates up to 1, two shuffles
    and two n-gram surrogates."""
    rates = [round(float(p), 3) for p in np.linspace(0.0, 1.0, noise_points)][1:]
    return (["original"] + [f"noise {p}" for p in rates]
            + ["word shuffle", "char shuffle", "ngram 1", "ngram 3"])


def cells(names: list[str], seeds, iters: int, data_seed: int, n_chars: int) -> list[dict]:
    model = asdict(TEXT_MODEL)
    return [{"family": "text", "degradation": n, "seed": int(s), "iters": int(iters),
             "data_seed": int(data_seed), "n_chars": int(n_chars), "model": model}
            for n in names for s in seeds]


def group_key(cell: dict) -> tuple:
    return (cell["iters"], cell["data_seed"], cell["n_chars"], tuple(sorted(cell["model"].items())))


def train_group(group: list[dict]) -> list[dict]:
    """Train every (degradation, seed) of the group as one ensemble; score loss and capabilities."""
    device = pick()
    cfg = GPTConfig(**group[0]["model"])
    names = sorted({c["degradation"] for c in group})
    texts = degraded_texts(["original"] + names, group[0]["data_seed"], group[0]["n_chars"])
    _, _, vocab = shakespeare_char()
    cut = int(len(texts["original"]) * 0.9)
    streams = [texts[c["degradation"]] for c in group]
    tc = sweep_train_config(group[0]["iters"], eval_interval=group[0]["iters"])
    run = fit_ensemble(cfg, tc, [s[:cut] for s in streams], [s[cut:] for s in streams],
                       [c["seed"] for c in group], device, on_start=training_log.from_settings())
    # Targets depend only on the text they come from: the clean text for the original and the
    # noisy versions, the degraded text itself otherwise.
    target_key = ["original" if c["degradation"] == "original" or c["degradation"].startswith("noise ")
                  else c["degradation"] for c in group]
    targets = {key: _targets(texts[key], vocab, cut + CONTEXT,
                             np.random.default_rng([5, _stream(key)]))
               for key in dict.fromkeys(target_key)}
    out = [{"degradation": c["degradation"], "val_bits": run.history[-1]["val_loss"][m] * NATS_TO_BITS}
           for m, c in enumerate(group)]
    for m, key in enumerate(target_key):
        gpt = run.model.member(m).to(device.torch).eval()  # each member scored on its own prompts
        for task, stop in (("word", " \n,.;:!?"), ("name", ":")):
            tg = targets[key][task]
            if not tg:
                out[m].update({f"{task}_exact": None, f"{task}_chars": None, f"{task}_n": 0})
                continue
            prompts = [p for p, _ in tg]
            conts = _complete(gpt, streams[m], prompts, device, vocab)
            exact, chars = _score(conts, [t for _, t in tg], stop)
            out[m].update({f"{task}_exact": exact, f"{task}_chars": chars, f"{task}_n": len(prompts)})
    return out


# --- the strongest model the profile affords, against fair baselines ----------------------------

def strong_cells(cfg, data_seed: int) -> list[dict]:
    """One cell: the chapter's strongest model (sizes from the profile), trained on the original text."""
    model = asdict(GPTConfig(vocab_size=65, block_size=cfg.strong_block, n_layer=cfg.strong_layers,
                             n_head=4 if cfg.strong_width % 4 == 0 else 1, n_embd=cfg.strong_width,
                             dropout=cfg.strong_dropout, bias=False))
    return [{"family": "text-strong", "iters": int(cfg.strong_iters), "batch_size": int(cfg.strong_batch),
             "seed": int(data_seed), "model": model}]


def strong_key(cell: dict) -> tuple:
    return (cell["iters"], cell["batch_size"], cell["seed"], tuple(sorted(cell["model"].items())))


def train_strong(group: list[dict]) -> list[dict]:
    """Train each cell alone (nanoGPT's recipe, scaled) on the first 90 % of Tiny Shakespeare and
    score it on *every* window of the held-out 10 %, in float32: bits per character with a standard
    error over windows. Beside it, on the very same windows and positions, the count-based Bayes
    predictor of orders 0 to 3 fitted on the same training text (:mod:`middleground.measures.ngram`),
    so the difference between the two is paired."""
    from ..gpt.core import TrainConfig, window_losses
    from ..gpt.train import fit
    from ..measures.ngram import BayesNgram

    device = pick()
    train_ids, val_ids, _ = shakespeare_char()
    bayes = BayesNgram.fit(train_ids, 65, 3)
    out = []
    for c in group:
        cfg = GPTConfig(**c["model"])
        tc = TrainConfig(max_iters=c["iters"], batch_size=c["batch_size"], learning_rate=1e-3,
                         min_lr=1e-4, warmup_iters=min(100, c["iters"] // 10), beta2=0.99,
                         eval_interval=c["iters"], eval_iters=20, seed=c["seed"])
        run = fit(cfg, tc, train_ids, val_ids, device, on_start=training_log.from_settings())
        run.model.eval()
        # Consecutive windows of block + 1 symbols overlapping by one: every held-out symbol after
        # the first is predicted once, from the symbols before it in its window.
        T = cfg.block_size
        n = (len(val_ids) - 1) // T
        w = np.lib.stride_tricks.sliding_window_view(val_ids[: n * T + 1], T + 1)[::T]
        xy = (torch.tensor(w[:, :-1]), torch.tensor(w[:, 1:]))  # copies: the view is read-only
        gpt = window_losses(run.model, xy, device) * NATS_TO_BITS
        base = bayes.window_bits(w).mean(axis=1)
        d = gpt - base
        out.append({"val_bits": float(gpt.mean()), "val_se": float(gpt.std(ddof=1) / np.sqrt(n)),
                    "bayes_bits": float(base.mean()), "bayes_se": float(base.std(ddof=1) / np.sqrt(n)),
                    "gpt_minus_bayes": float(d.mean()), "gpt_minus_bayes_se": float(d.std(ddof=1) / np.sqrt(n)),
                    "bayes_order_weights": [float(v) for v in bayes.order_weights],
                    "train_bits": run.history[-1]["train_loss"] * NATS_TO_BITS,
                    "params": run.model.num_params(), "seconds": float(sum(run.iter_seconds)),
                    "windows": int(n), "tokens_seen": c["iters"] * c["batch_size"] * cfg.block_size})
    return out


# --- the chapter, as data: every value and claim it states -----------------------------------------

UPPER = ("zlib", "bz2", "lzma", "GPT, held-out")  # the estimates that bound h from above
COMPRESSORS = ("zlib", "bz2", "lzma")
GPT = "GPT, held-out"
HILBERG_BETAS = (0.3, 0.5, 0.7)  # true exponents of the exact Santa Fe curves the fit is tried on


def _first(options: list[tuple[str, bool]]) -> str:
    """The first sentence whose condition holds (the last condition is ``True``)."""
    return next(sentence for sentence, holds in options if holds)


def block_key(L_max: int) -> str:
    """The block estimator's name in the rows, e.g. 'Miller–Madow h(8)'."""
    return f"Miller–Madow h({L_max})"


def noise_rate(name: str) -> float | None:
    """A text's character-noise rate: p for 'noise p', 0 for the original, None otherwise."""
    return float(name.split()[1]) if name.startswith("noise") else (0.0 if name == "original" else None)


def heldout_rates(texts: dict[str, np.ndarray], names: list[str]) -> dict[str, dict[str, float]]:
    """Each compressor's rate on the last tenth of each text given the first nine tenths, in bits
    per character: the compressors measured like for like with the GPT's held-out loss."""
    fair = {}
    for n in names:
        cut = int(len(texts[n]) * 0.9)
        fair[n] = entropy.heldout_compression_rates(texts[n][:cut], texts[n][cut:])
    return fair


def estimator_rows(names: list[str], est: dict, fair: dict, cells: list[dict], results: list[dict],
                   L_max: int) -> list[dict]:
    """Bits per character of every text by every estimate: the block estimate on the whole text
    (``est``), the held-out compressor rates (``fair``) and the GPTs' held-out loss, mean and
    spread over seeds (``cells`` and their ``results``)."""
    rows = []
    for n in names:
        e = est[n]
        model_bits = [r["val_bits"] for c, r in zip(cells, results) if c["degradation"] == n]
        base = {"text": n, "kind": "noise" if n.startswith("noise") or n == "original" else "structure removed",
                "p": noise_rate(n)}
        rows.append({**base, "estimator": block_key(L_max), "bits": float(e["h"][-1]),
                     "sd": float(e["h_part_sd"][-1])})
        for comp in COMPRESSORS:
            rows.append({**base, "estimator": comp, "bits": fair[n][comp], "sd": None})
        rows.append({**base, "estimator": GPT, "bits": float(np.mean(model_bits)),
                     "sd": float(np.std(model_bits, ddof=1)) if len(model_bits) > 1 else 0.0})
    return rows


def gpt_vs_sentence(orig: dict[str, float]) -> str:
    """Where the GPT's held-out bits on the original text lie against the compressors'."""
    return _first([
        ("looser than lzma and bz2 on the same held-out text", orig[GPT] > max(orig["lzma"], orig["bz2"])),
        ("tighter than every compressor", orig[GPT] < min(orig[c] for c in COMPRESSORS)),
        ("between the compressors' rates", True)])


def degradation_findings(found: Findings, rows: list[dict], names: list[str], whole: dict[str, float],
                         L_max: int, iters: int) -> dict[str, float]:
    """What each estimate sees along the degradations (``rows``: :func:`estimator_rows`;
    ``whole``: the compressors' whole-file rates on the original). Returns the original text's
    estimates by estimator."""
    orig = {r["estimator"]: r["bits"] for r in rows if r["text"] == "original"}
    found.value("nat_gpt_orig", orig[GPT])
    found.value("nat_lzma_orig", orig["lzma"])
    found.value("nat_bz2_orig", orig["bz2"])
    found.value("nat_hL_orig", orig[block_key(L_max)])
    found.value("nat_Lmax", L_max)
    found.value("nat_iters", iters)
    by = {(r["text"], r["estimator"]): r["bits"] for r in rows}
    for n, tag in (("word shuffle", "ws"), ("char shuffle", "cs"), ("ngram 3", "ng3"), ("ngram 1", "ng1")):
        found.value(f"nat_gpt_{tag}", by[(n, GPT)])
    found.value("nat_uniform", math.log2(65))
    hL_key = block_key(L_max)
    found.claim("on the original text the block estimate lies below every upper bound (biased low)",
                orig[hL_key] < min(v for k, v in orig.items() if k != hL_key), orig)
    noisy = [n for n in names if n.startswith("noise")]
    found.value("nat_p_low", float(noisy[0].split()[1]))
    found.value("nat_hL_noisy", by[(noisy[0], hL_key)])
    found.value("nat_upper_noisy", min(by[(noisy[0], k)] for k in UPPER))
    found.claim("on noisy text the block estimate falls below its value on the original text",
                by[(noisy[0], hL_key)] < orig[hL_key], (orig[hL_key], by[(noisy[0], hL_key)]))
    for n in (noisy[0], "word shuffle", "char shuffle"):
        found.claim(f"{n}: every upper bound (compressors, GPT) rises above its value on the original text",
                    all(by[(n, k)] > orig[k] for k in UPPER), {k: by[(n, k)] - orig[k] for k in UPPER})
    found.value("nat_gpt_pmax", by[(noisy[-1], GPT)])
    found.claim("the character shuffle raises the GPT's held-out loss above the original's",
                by[("char shuffle", GPT)] > orig[GPT] + 0.1, (orig[GPT], by[("char shuffle", GPT)]))
    found.claim("on pure noise (rate 1) the GPT's held-out loss is within 0.05 bits of log2 65",
                abs(by[(noisy[-1], GPT)] - math.log2(65)) < 0.05, by[(noisy[-1], GPT)])
    found.value("nat_zlib_orig", orig["zlib"])
    found.value("nat_lzma_whole", whole["lzma"])
    found.value("nat_bz2_whole", whole["bz2"])
    sentence = gpt_vs_sentence(orig)
    found.claim(sentence, True, orig)
    found.value("nat_gpt_vs", sentence)
    return orig


def capability_rows(cells: list[dict], results: list[dict]) -> list[dict]:
    """One record per run and capability scored: exact match, per-character accuracy, held-out loss
    and the number of prompts (a capability without prompts in a text is left out)."""
    rows = []
    for c, r in zip(cells, results):
        n = c["degradation"]
        for task, label in (("word", "word completion"), ("name", "speaker name")):
            if r[f"{task}_exact"] is None:
                continue
            rows.append({"text": n, "p": noise_rate(n), "seed": c["seed"], "capability": label,
                         "exact": r[f"{task}_exact"], "chars": r[f"{task}_chars"],
                         "loss": r["val_bits"], "n": r[f"{task}_n"]})
    return rows


def per_seed(cap_rows: list[dict], name: str, task: str) -> list[float]:
    """Exact-match rates of one capability on one text, one per seed."""
    return [r["exact"] for r in cap_rows if r["text"] == name and r["capability"] == task]


def mean_capability(cap_rows: list[dict], name: str, task: str) -> float:
    """Mean exact-match rate over seeds (nan where the capability has no prompts in the text)."""
    v = per_seed(cap_rows, name, task)
    return float(np.mean(v)) if v else float("nan")


def prompts(cap_rows: list[dict], name: str, task: str) -> int:
    """The fewest prompts any seed of the text was scored on."""
    return min(r["n"] for r in cap_rows if r["text"] == name and r["capability"] == task)


def name_sentence(n0: list[float], n_prompts: int) -> str:
    """Speaker names on the clean text: absent in every seed, or their mean rate."""
    return _first([
        (f"it never completes a speaker name, in any seed, even on the clean text (0 of "
         f"{n_prompts} prompts per seed): at this training budget the capability is absent", max(n0) == 0),
        (f"it completes {np.mean(n0):.3f} of speaker names", True)])


def half_word_sentence(w0: list[float], word_half: list[float]) -> str:
    """Word completion at half noise against the clean text (``w0``), per seed."""
    return _first([
        ("word completion falls to zero in every seed", max(word_half) == 0 < np.mean(w0)),
        (f"word completion falls to {np.mean(word_half):.3f}", np.mean(word_half) < np.mean(w0)),
        (f"word completion stays at {np.mean(word_half):.3f}", True)])


def half_name_sentence(n0: list[float], name_half: list[float]) -> str:
    """Speaker names at half noise against the clean text (``n0``), per seed."""
    return _first([
        ("speaker names, absent on clean text, stay absent", max(n0) == 0 and max(name_half) == 0),
        (f"speaker names fall to {np.mean(name_half):.3f}", np.mean(name_half) < np.mean(n0)),
        (f"speaker names stay at {np.mean(name_half):.3f}", True)])


def loss_vs_capability(loss: dict[str, list[float]], w0: list[float], w3: list[float], n_seeds: int,
                       n_prompts: int) -> tuple[str, dict]:
    """Same loss, same capability? The original text against its order-3 surrogate: the sentence,
    and the values it rests on. ``loss``: held-out bits per seed of both; ``w0``, ``w3``: their
    word-completion rates per seed."""
    loss_gap = abs(np.mean(loss["ngram 3"]) - np.mean(loss["original"]))
    loss_spread = max(max(v) - min(v) for v in loss.values())
    similar_loss = loss_gap < max(loss_spread, 0.05)
    overlap = min(w0) <= max(w3) and min(w3) <= max(w0)
    l0, l3 = np.mean(loss["original"]), np.mean(loss["ngram 3"])
    sentence = _first([
        (f"the original text and its order-3 surrogate reach similar held-out loss ({l0:.3f} and "
         f"{l3:.3f} bits), yet word completion differs beyond the spread over seeds "
         f"({min(w0):.3f} to {max(w0):.3f} against {min(w3):.3f} to {max(w3):.3f}): similar loss, "
         "different capability", similar_loss and not overlap and n_seeds >= 2),
        (f"the original text and its order-3 surrogate reach similar held-out loss ({l0:.3f} and "
         f"{l3:.3f} bits), and their word-completion scores overlap over seeds ({min(w0):.3f} to "
         f"{max(w0):.3f} against {min(w3):.3f} to {max(w3):.3f}): with {n_seeds} seed{'' if n_seeds == 1 else 's'} of "
         f"{n_prompts} prompts this build cannot tell whether similar loss "
         "means similar capability", similar_loss),
        (f"the original text and its order-3 surrogate differ in held-out loss ({l0:.3f} against "
         f"{l3:.3f} bits), so this pair cannot test whether similar loss means similar capability", True)])
    return sentence, {"loss gap": loss_gap, "loss spread": loss_spread, "original": w0, "ngram 3": w3}


def capability_findings(found: Findings, cap_rows: list[dict], cells: list[dict], results: list[dict],
                        rates: list[float], n_seeds: int) -> None:
    """The two capabilities on the original, the surrogate, the word shuffle and at half noise, and
    the original against its surrogate: similar loss, similar capability?"""
    found.value("nat_word_orig", mean_capability(cap_rows, "original", "word completion"))
    found.value("nat_name_orig", mean_capability(cap_rows, "original", "speaker name"))
    found.value("nat_word_ng3", mean_capability(cap_rows, "ngram 3", "word completion"))
    found.value("nat_word_ws", mean_capability(cap_rows, "word shuffle", "word completion"))
    half = min(rates, key=lambda p: abs(p - 0.5))
    found.value("nat_half_p", half)
    found.value("nat_word_half", mean_capability(cap_rows, f"noise {half}", "word completion"))
    found.value("nat_name_half", mean_capability(cap_rows, f"noise {half}", "speaker name"))
    w0, w3 = per_seed(cap_rows, "original", "word completion"), per_seed(cap_rows, "ngram 3", "word completion")
    n0 = per_seed(cap_rows, "original", "speaker name")
    found.value("nat_word_range", f"{min(w0):.3f} to {max(w0):.3f}")
    found.value("nat_n_seeds", n_seeds)
    found.value("nat_n_seeds_text", f"{n_seeds} seed" + ("" if n_seeds == 1 else "s"))
    word_prompts = prompts(cap_rows, "original", "word completion")
    found.value("nat_word_prompts", word_prompts)
    names = name_sentence(n0, prompts(cap_rows, "original", "speaker name"))
    found.claim(names, True, n0)
    found.value("nat_name_sentence", names)
    word_half = per_seed(cap_rows, f"noise {half}", "word completion")
    name_half = per_seed(cap_rows, f"noise {half}", "speaker name")
    words = half_word_sentence(w0, word_half)
    found.claim(words, True, (np.mean(w0), word_half))
    found.value("nat_half_word", words)
    speakers = half_name_sentence(n0, name_half)
    found.claim(speakers, True, (np.mean(n0), name_half))
    found.value("nat_half_name", speakers)
    loss = {t: [r["val_bits"] for c, r in zip(cells, results) if c["degradation"] == t]
            for t in ("original", "ngram 3")}
    sentence, value = loss_vs_capability(loss, w0, w3, n_seeds, word_prompts)
    found.claim(sentence, True, value)
    found.value("nat_loss_vs_cap", sentence)


def finite_excess(H) -> list[float]:
    """E(L) = H(L) − L·h(L), h(L) = H(L) − H(L−1), for L = 1 .. len(H) − 1."""
    return [float(H[L] - L * (H[L] - H[L - 1])) for L in range(1, len(H))]


def excess_rows(est: dict, L_max: int) -> tuple[list[dict], dict]:
    """E(L) of the text, its order-3 surrogate and its word shuffle (estimated) and of the Santa Fe
    process with β = 0.5 (exact), with the Hilberg fit of each."""
    rows, fits = [], {}
    for n in ("original", "ngram 3", "word shuffle"):
        rows += [{"text": n, "L": L, "E": E, "kind": "estimated"}
                 for L, E in enumerate(finite_excess(est[n]["H"]), start=1)]
        fits[n] = est[n]["hilberg"]
    H_sf = SantaFe(0.5, 10_000).block_entropies(L_max)
    rows += [{"text": "Santa Fe (β = 0.5), exact", "L": L, "E": E, "kind": "exact"}
             for L, E in enumerate(finite_excess(H_sf[: L_max + 1]), start=1)]
    fits["Santa Fe"] = entropy.hilberg_fit(H_sf)
    return rows, fits


def beta_verdict(b0: dict, b3: dict) -> str:
    """The surrogate's fitted exponent against the text's, by their standard errors."""
    return _first([
        ("yet at these lengths its fitted exponent is within the standard errors of the text's",
         abs(b3["beta"] - b0["beta"]) < math.hypot(b0["beta_se"], b3["beta_se"])),
        ("and at these lengths its fitted exponent differs from the text's by more than the standard "
         "errors", True)])


def excess_verdict(E_end: dict[str, float]) -> str:
    """The surrogate's E(L_max) against the text's."""
    return _first([("at least as large as", E_end["ngram 3"] >= E_end["original"]),
                   ("nearly as large as", E_end["ngram 3"] >= 0.8 * E_end["original"]),
                   ("well below", True)])


def santa_fe_verdict(bsf: dict) -> str:
    """How far the fit on the exact Santa Fe curve lands from its asymptotic exponent 0.5."""
    return _first([
        (f"even on this exact curve the fit over these lengths misses the asymptotic exponent by "
         f"{bsf['beta'] - 0.5:+.2f}", abs(bsf["beta"] - 0.5) > 0.05),
        ("on this exact curve the fit lands within 0.05 of the asymptotic exponent", True)])


def excess_findings(found: Findings, E_rows: list[dict], fits: dict, L_max: int) -> None:
    """The fitted Hilberg exponents, and the surrogate's E(L) and exponent against the text's."""
    for n, tag in (("original", "orig"), ("ngram 3", "ng3"), ("word shuffle", "ws"), ("Santa Fe", "sf")):
        found.value(f"nat_beta_{tag}", fits[n]["beta"])
        found.value(f"nat_beta_se_{tag}", fits[n]["beta_se"])
    b0, b3, bsf = fits["original"], fits["ngram 3"], fits["Santa Fe"]
    verdict = beta_verdict(b0, b3)
    found.claim(verdict, True, (b0["beta"], b3["beta"]))
    found.value("nat_beta_verdict", verdict)
    E_end = {n: next(r["E"] for r in E_rows if r["text"] == n and r["L"] == L_max)
             for n in ("original", "ngram 3")}
    found.value("nat_E_orig", E_end["original"])
    found.value("nat_E_ng3", E_end["ngram 3"])
    verdict = excess_verdict(E_end)
    found.claim(verdict, True, E_end)
    found.value("nat_E_verdict", verdict)
    verdict = santa_fe_verdict(bsf)
    found.claim(verdict, True, (bsf["beta"], bsf["beta_se"]))
    found.value("nat_sf_verdict", verdict)


def hilberg_table(conv: list[dict]) -> str:
    """The Markdown table of fitted against true exponents on the exact Santa Fe curves."""
    return ("| true β | lengths L | fitted β (this chapter's fit) | fitted h vs exact h | fit with h exact and a constant |\n"
            "|---|---|---|---|---|\n"
            + "\n".join(f"| {r['beta']:.1f} | {r['L_min']}–{r['L_max']} | {r['book']:.3f} ± {r['book_se']:.3f} | "
                        f"{r['book_h']:.3f} vs {r['h']:.3f} | {r['h_known_offset']:.3f} |" for r in conv))


def hilberg_findings(found: Findings, conv: list[dict], L_short: int) -> None:
    """How well the chapter's fit recovers known exponents over short lengths (``L`` from 1 to
    ``L_short``) and over 64 to 4096."""
    short = [r for r in conv if r["L_min"] == 1]
    long_ = [r for r in conv if r["L_min"] == 64]
    found.value("nat_conv_Lmax", L_short)
    found.value("nat_conv_short_err", max(abs(r["book"] - r["beta"]) for r in short))
    found.value("nat_conv_long_err", max(abs(r["book"] - r["beta"]) for r in long_))
    found.value("nat_conv_short_range",
                ", ".join(f"{r['book'] - r['beta']:+.2f} at β = {r['beta']:.1f}" for r in short)
                + "".join(f"; the fit at β = {r['beta']:.1f} runs into its bound h = 0"
                          for r in short if r["book_h"] < 1e-6))
    found.value("nat_conv_Lstar", min(r["L_star"] for r in conv))
    found.value("nat_conv_offset_err", max(abs(r["h_known_offset"] - r["beta"]) for r in long_))
    found.claim("over L = 64 to 4096 the chapter's fit recovers every true exponent to within 0.05",
                max(abs(r["book"] - r["beta"]) for r in long_) < 0.05, [r["book"] for r in long_])
    found.claim("over the chapter's short lengths the same fit misses some true exponent by more than 0.1",
                max(abs(r["book"] - r["beta"]) for r in short) > 0.1, [r["book"] for r in short])


def strong_bars(strong: dict, orig: dict[str, float], surrogate_rate: float) -> list[dict]:
    """The strongest model's chart: every held-out rate (±2 standard errors where known) and the
    surrogate's in-sample rate."""
    return ([{"what": "strongest GPT (held-out)", "bits": strong["val_bits"], "kind": "model",
              "lo": strong["val_bits"] - 2 * strong["val_se"], "hi": strong["val_bits"] + 2 * strong["val_se"]},
             {"what": "small sweep GPT (held-out)", "bits": orig[GPT], "kind": "model"},
             {"what": "Bayes counts, orders 0–3 (held-out)", "bits": strong["bayes_bits"], "kind": "baseline",
              "lo": strong["bayes_bits"] - 2 * strong["bayes_se"], "hi": strong["bayes_bits"] + 2 * strong["bayes_se"]},
             {"what": "order-3 surrogate's own rate (in-sample)", "bits": surrogate_rate, "kind": "reference"}]
            + [{"what": f"{c} (held-out)", "bits": orig[c], "kind": "compressor"} for c in COMPRESSORS])


def strong_vs_bayes(gap: float, se: float) -> str:
    """The strongest model against the count-based predictor, paired, at three standard errors."""
    return _first([
        ("below the count-based predictor: it predicts the held-out text better than four-character "
         "statistics learned from the same training text", gap + 3 * se < 0),
        ("above the count-based predictor: on this budget it does not yet predict the held-out text as "
         "well as four-character statistics counted from the same training text", gap - 3 * se > 0),
        ("within error of the count-based predictor", True)])


def strong_vs_surrogate(bits: float, surrogate_rate: float) -> str:
    return _first([("below", bits < surrogate_rate), ("above", True)])


def strong_vs_compressors(bits: float, orig: dict[str, float]) -> str:
    """The strongest model's held-out bits against the compressors' held-out rates."""
    return _first([
        ("below every compressor's held-out rate", bits < min(orig[c] for c in COMPRESSORS)),
        ("below zlib's held-out rate but above bz2's or lzma's", bits < orig["zlib"]),
        ("above every compressor's held-out rate", True)])


def strong_findings(found: Findings, strong: dict, cell: dict, surrogate_rate: float,
                    orig: dict[str, float], ng3_gpt: float, check_gpu: bool) -> None:
    """The strongest model (``strong``, trained from ``cell``) against counting, the surrogate's
    rate and the compressors; ``check_gpu``: the gpu profile unchanged, whose model must beat the
    surrogate and bz2."""
    m = cell["model"]
    found.value("nat_strong_shape", f"{m['n_layer']} layers of width {m['n_embd']}, context "
                f"{m['block_size']}, {strong['params']:,} parameters")
    found.value("nat_strong_iters", cell["iters"])
    found.value("nat_strong_batch", cell["batch_size"])
    found.value("nat_strong_bits", strong["val_bits"])
    found.value("nat_strong_se", strong["val_se"])
    found.value("nat_strong_nats", strong["val_bits"] / 1.4426950408889634)
    found.value("nat_bayes_bits", strong["bayes_bits"])
    found.value("nat_bayes_se", strong["bayes_se"])
    found.value("nat_strong_vs_bayes_d", strong["gpt_minus_bayes"])
    found.value("nat_strong_vs_bayes_se", strong["gpt_minus_bayes_se"])
    found.value("nat_sur_rate", surrogate_rate)
    found.value("nat_ng3_undertrained", ng3_gpt - surrogate_rate)
    found.value("nat_strong_train_gap", strong["val_bits"] - strong["train_bits"])
    gap_b = strong["gpt_minus_bayes"]
    sentence = strong_vs_bayes(gap_b, strong["gpt_minus_bayes_se"])
    found.claim(sentence, True, (gap_b, strong["gpt_minus_bayes_se"]))
    found.value("nat_strong_vs_bayes", sentence)
    sentence = strong_vs_surrogate(strong["val_bits"], surrogate_rate)
    found.claim(sentence, True, (strong["val_bits"], surrogate_rate))
    found.value("nat_strong_vs_sur", sentence)
    sentence = strong_vs_compressors(strong["val_bits"], orig)
    found.claim(sentence, True, (strong["val_bits"], orig))
    found.value("nat_strong_vs_comp", sentence)
    if check_gpu:
        found.claim("the gpu profile's model goes below both the surrogate's rate and bz2's held-out rate",
                    strong["val_bits"] < min(surrogate_rate, orig["bz2"]),
                    (strong["val_bits"], surrogate_rate, orig["bz2"]))


def anchors_table(orig: dict[str, float], strong: dict, surrogate_rate: float, L_max: int) -> str:
    """The Markdown table of this build's rates beside the published anchors."""
    shannon = SHANNON_1951
    anchors = [
        ("Shannon 1951, $F_3$, 27-letter English, letter statistics", f"{shannon[3]:.1f}", "published tables"),
        ("Brown et al. 1992, upper bound, English (trigram word model)", "1.75", "held-out text (their test set)"),
        ("lzma on Tiny Shakespeare", f"{orig['lzma']:.3f}", "held-out 10 % given the rest (this build)"),
        ("bz2 on Tiny Shakespeare", f"{orig['bz2']:.3f}", "held-out 10 % given the rest (this build)"),
        ("order-3 surrogate of Tiny Shakespeare, its own rate", f"{surrogate_rate:.3f}", "the fitted chain (in-sample h(4))"),
        ("Bayes counts, orders 0–3, on Tiny Shakespeare", f"{strong['bayes_bits']:.3f}", "held-out 10 % (this build)"),
        ("strongest GPT of this chapter", f"{strong['val_bits']:.3f}", "held-out 10 % (this build)"),
        (f"Miller–Madow $h({L_max})$ on Tiny Shakespeare", f"{orig[block_key(L_max)]:.3f}", "whole file (this build)"),
        ("GPT of this chapter", f"{orig[GPT]:.3f}", "held-out 10 % (this build)"),
    ]
    return ("| estimate | bits per character | on |\n|---|---|---|\n"
            + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in anchors))


@dataclass(frozen=True)
class NaturalResult(Result):
    """Everything chapter natural draws, and every value and claim it states.

    ``rows``: bits per character of every text by every estimate; ``cap_rows``: the capabilities
    per run; ``E_rows``: E(L) of the text, its surrogate, its word shuffle and the Santa Fe process;
    ``hilberg_table``, ``anchors_table``: Markdown tables; ``strong_bars``: the strongest model's
    chart; ``counts``: how many runs were trained now and how many reused."""

    names: tuple[str, ...]
    rows: tuple[dict, ...]
    cap_rows: tuple[dict, ...]
    E_rows: tuple[dict, ...]
    hilberg_table: str
    strong_bars: tuple[dict, ...]
    anchors_table: str
    counts: Mapping[str, int]


def run(cfg: ChapterConfig) -> NaturalResult:
    """Chapter natural: Tiny Shakespeare and its degradations through the estimators, the small GPTs
    and the capabilities; E(L) and the Hilberg fit; the strongest model against counting; at
    ``cfg``'s sizes (computed in the chapter's order)."""
    from ..measures import correlations
    from ..sweeps import cache

    found = Findings()
    names = degradations(cfg.noise_points)
    rates = [float(n.split()[1]) for n in names if n.startswith("noise ")]
    texts = degraded_texts(names, cfg.seed, cfg.text_chars)
    runs = cells(names, [cfg.seed + i for i in range(cfg.n_seeds)], cfg.iters, cfg.seed, cfg.text_chars)
    results, counts = cache.run("natural", runs, group_key, train_group)

    est = {n: text_estimates(texts[n], cfg.L_max, n_parts=2) for n in names}
    rows = estimator_rows(names, est, heldout_rates(texts, names), runs, results, cfg.L_max)
    orig = degradation_findings(found, rows, names, est["original"]["compress"], cfg.L_max, cfg.iters)

    cap_rows = capability_rows(runs, results)
    capability_findings(found, cap_rows, runs, results, rates, cfg.n_seeds)

    E_rows, fits = excess_rows(est, cfg.L_max)
    excess_findings(found, E_rows, fits, cfg.L_max)

    L_short = max(cfg.L_max, 6)
    conv = [r for b in HILBERG_BETAS
            for r in correlations.hilberg_convergence(b, [10_000], [(1, L_short), (64, 4096)], n_points=30)]
    hilberg_findings(found, conv, L_short)

    s_cells = strong_cells(cfg, cfg.seed)
    (strong,), _ = cache.run("natural-strong", s_cells, strong_key, train_strong)
    train_part, _ = text.split(texts["original"])
    surrogate_rate = degrade.NgramSurrogate.fit(train_part, 3, 65).entropy_rate
    by = {(r["text"], r["estimator"]): r["bits"] for r in rows}
    strong_findings(found, strong, s_cells[0], surrogate_rate, orig, by[("ngram 3", GPT)],
                    cfg.profile == "gpu" and not cfg.overrides)
    return NaturalResult(
        names=tuple(names), rows=tuple(rows), cap_rows=tuple(cap_rows), E_rows=tuple(E_rows),
        hilberg_table=hilberg_table(conv), strong_bars=tuple(strong_bars(strong, orig, surrogate_rate)),
        anchors_table=anchors_table(orig, strong, surrogate_rate, cfg.L_max),
        counts=MappingProxyType(dict(counts)), **found.done())
