"""What every chapter trains under a profile, as :class:`~middleground.gpt.budget.Training` rows.

Each row is built from the chapter module's own configuration helpers and, for the sweeps, from
their very cells and grouping (so the members of an ensemble are the ones the sweep cache would
train together); nothing here is a second copy of a model definition. The appendix turns the rows
into a table of parameters, FLOPs, memory and estimated GPU time; the GPU dry-run test builds every
row's model and takes two steps; and the book test compares the rows of the ``quick`` profile with
the trainings that its build really ran (``MIDDLEGROUND_TRAINING_LOG``).

Runs shared between chapters through the sweep cache (the standard knob sweep of chapters knob,
capabilities, ladder, questions and the introduction) are counted once, in the chapter that
defines them: the standard sweep under ``knob``, the rest of the size ladder under ``ladder``.

Not listed: chapters ``matmul`` and ``calculus`` (timing and gradient checks, no training), and
``backprop``, whose hand-written numpy GPT trains in float64 on the CPU by design.
"""

from __future__ import annotations

import json

from ..book.profiles import resolve
from ..gpt.budget import Training
from ..gpt.model import GPTConfig
from ..gpt.text import SHAKESPEARE_VOCAB_SIZE
from ..sources.knobs import markov_knob
from ..sources.rhm import RandomHierarchy
from ..sweeps import knob as sweep
from . import capabilities, intro, middle, natural, scaling, theory, training
from . import knob as knob_chapter

# The chapters that train, in the book's order.
CHAPTERS = ("intro", "training", "scaling", "middle", "theory", "knob", "capabilities", "ladder",
            "natural")


def _identity(cell: dict) -> str:
    return json.dumps(cell, sort_keys=True)


def _groups(what: str, cells: list[dict], group_key, batch_size) -> list[Training]:
    """One row per ensemble the sweep cache would train: cells grouped by ``group_key``."""
    groups: dict[tuple, list[dict]] = {}
    for c in cells:
        groups.setdefault(group_key(c), []).append(c)
    rows = []
    for members in groups.values():
        c0 = members[0]
        b = batch_size(c0) if callable(batch_size) else batch_size
        rows.append(Training(what, GPTConfig(**c0["model"]), b, c0["iters"], len(members), len(members),
                             cached=True))
    return rows


def _intro(cfg) -> list[Training]:
    model = intro.teaser_model(SHAKESPEARE_VOCAB_SIZE, cfg.n_embd, cfg.block_size)
    return [Training("teaser: noise, a periodic word, Tiny Shakespeare", model, cfg.batch_size,
                     cfg.steps, 3 * cfg.n_seeds)]


def _training(cfg) -> list[Training]:
    model = training.recipe_model(SHAKESPEARE_VOCAB_SIZE, cfg.n_layer, cfg.n_head, cfg.n_embd,
                                  cfg.block_size, cfg.dropout)
    return [Training("nanoGPT's recipe on Tiny Shakespeare", model, cfg.batch_size, cfg.max_iters, 1)]


def _scaling(cfg) -> list[Training]:
    return [Training(f"rung {i + 1}: {rung[0]} layers × {rung[2]}",
                     scaling.rung_model(rung, SHAKESPEARE_VOCAB_SIZE, cfg.block_size),
                     cfg.batch_size, cfg.max_iters, cfg.n_seeds)
            for i, rung in enumerate(scaling.SCALING_LADDER[:cfg.n_sizes])]


def _middle(cfg) -> list[Training]:
    k = markov_knob(1.0, cfg.seed).alphabet_size
    return [Training("cross-entropy bound: Markov knob at τ = 1", middle.cross_entropy_model(k), 32,
                     cfg.model_iters, 1),
            Training("cross-entropy bound: Tiny Shakespeare",
                     middle.cross_entropy_model(SHAKESPEARE_VOCAB_SIZE), 32, cfg.model_iters, 1)]


def _theory(cfg) -> list[Training]:
    mess3 = [Training(f"Mess3 at width {w}", theory.model_config(w, 3),
                      theory.train_config(cfg.mess3_iters, cfg.seed).batch_size, cfg.mess3_iters,
                      cfg.x_points, cfg.x_points)
             for w in theory.mess3_widths(cfg.top_width)]
    grammar = RandomHierarchy(8, 2, 2, 5, seed=cfg.seed)
    members = 2 * cfg.curve_sizes  # the grammar and its Markov control at every size
    curves = Training("learning curves: grammar and control",
                      theory.curve_config(theory.CURVE_WIDTH, grammar.alphabet_size,
                                          grammar.sentence_length - 1),
                      32, cfg.curve_iters, members, members)
    return mess3 + [curves]


def _standard(profile: str, seed: int) -> list[dict]:
    cfg = resolve("knob", profile, seed=seed)
    return sweep.standard_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, cfg.width)


def _knob(cfg) -> list[Training]:
    standard = _groups("standard sweep", _standard(cfg.profile, cfg.seed), sweep.group_key,
                       sweep.sweep_train_config(cfg.iters).batch_size)
    icl = knob_chapter.icl_cells(knob_chapter.icl_alphas(cfg.knob_points),
                                 [cfg.seed + i for i in range(cfg.icl_seeds)], cfg.icl_iters,
                                 width=cfg.width)
    return standard + _groups("in-context Markov chains", icl, knob_chapter.icl_group_key,
                              knob_chapter.ICL_BATCH)


def _capabilities(cfg) -> list[Training]:
    cells = capabilities.quanta_cells(cfg.quanta_tasks, capabilities.quanta_seeds(cfg.seed, cfg.n_seeds),
                                      cfg.quanta_iters, width=cfg.width)
    return _groups("quanta (multitask)", cells, capabilities.quanta_group_key, capabilities.QUANTA_BATCH)


def _ladder(cfg) -> list[Training]:
    widths = sweep.ladder_widths(cfg.rungs, cfg.width)
    shared = {_identity(c) for c in _standard(cfg.profile, cfg.seed)}
    cells = [c for c in sweep.ladder_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, widths)
             if _identity(c) not in shared]
    return _groups("size ladder (other rungs)", cells, sweep.group_key,
                   sweep.sweep_train_config(cfg.iters).batch_size)


def _natural(cfg) -> list[Training]:
    cells = natural.cells(natural.degradations(cfg.noise_points),
                          [cfg.seed + i for i in range(cfg.n_seeds)], cfg.iters, cfg.seed, cfg.text_chars)
    texts = _groups("degraded texts", cells, natural.group_key,
                    sweep.sweep_train_config(cfg.iters).batch_size)
    strong = [Training("strongest text model", GPTConfig(**c["model"]), c["batch_size"], c["iters"], 1,
                       cached=True)
              for c in natural.strong_cells(cfg, cfg.seed)]
    return texts + strong


_BUILDERS = {"intro": _intro, "training": _training, "scaling": _scaling, "middle": _middle,
             "theory": _theory, "knob": _knob, "capabilities": _capabilities, "ladder": _ladder,
             "natural": _natural}


def trainings(chapter: str, profile: str, seed: int = 0) -> list[Training]:
    """The trainings ``chapter`` runs under ``profile`` (see the module's note on shared runs)."""
    if chapter not in _BUILDERS:
        raise ValueError(f"chapter must be one of {', '.join(CHAPTERS)}; got {chapter!r}")
    return _BUILDERS[chapter](resolve(chapter, profile, seed=seed))


def book(profile: str, seed: int = 0) -> dict[str, list[Training]]:
    """Every training chapter's rows under ``profile``, in the book's order."""
    return {c: trainings(c, profile, seed) for c in CHAPTERS}

