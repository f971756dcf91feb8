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
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict

import numpy as np
import torch

from ..base import data
from ..base.bits import NATS_TO_BITS
from ..gpt import decode, text
from ..gpt.device import pick
from ..gpt.ensemble import fit_ensemble
from ..gpt.model import GPTConfig
from ..gpt.text import shakespeare_char
from ..sources import degrade
from ..sweeps.knob import sweep_train_config

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
                       [c["seed"] for c in group], device)
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
        run = fit(cfg, tc, train_ids, val_ids, device)
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
