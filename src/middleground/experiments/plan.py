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

from ..base.profiles import resolve
from ..gpt.budget import Training, evaluations
from ..gpt.model import GPTConfig
from ..gpt.text import SHAKESPEARE_VAL_CHARS, SHAKESPEARE_VOCAB_SIZE
from ..sources.knobs import markov_knob
from ..sources.rhm import RandomHierarchy
from ..sweeps import knob as sweep
from . import capabilities, intro, middle, natural, scaling, theory, training
from . import central_design, frozen_plan
from . import knob as knob_chapter

# The chapters that train, in the book's order.
CHAPTERS = ("intro", "training", "scaling", "middle", "theory", "knob", "capabilities", "ladder",
            "natural")


def _identity(cell: dict) -> str:
    return json.dumps(cell, sort_keys=True)


def _groups(what: str, cells: list[dict], group_key, batch_size, eval_tokens=0) -> list[Training]:
    """One row per ensemble the sweep cache would train: cells grouped by ``group_key``.
    ``batch_size`` and ``eval_tokens`` may be functions of a group's first cell."""
    groups: dict[tuple, list[dict]] = {}
    for c in cells:
        groups.setdefault(group_key(c), []).append(c)
    rows = []
    for members in groups.values():
        c0 = members[0]
        b = batch_size(c0) if callable(batch_size) else batch_size
        e = eval_tokens(c0) if callable(eval_tokens) else eval_tokens
        rows.append(Training(what, GPTConfig(**c0["model"]), b, c0["iters"], len(members), len(members),
                             cached=True, eval_tokens=int(e)))
    return rows


def _intro(cfg) -> list[Training]:
    model = intro.teaser_model(SHAKESPEARE_VOCAB_SIZE, cfg.n_embd, cfg.block_size)
    # the trainer's evaluations: both splits, 8 batches, every tenth of the run
    evals = evaluations(cfg.steps, max(1, cfg.steps // 10)) * 2 * 8 * cfg.batch_size * cfg.block_size
    return [Training("teaser: noise, a periodic word, Tiny Shakespeare", model, cfg.batch_size,
                     cfg.steps, 3 * cfg.n_seeds, eval_tokens=evals)]


def _training(cfg) -> list[Training]:
    model = training.recipe_model(SHAKESPEARE_VOCAB_SIZE, cfg.n_layer, cfg.n_head, cfg.n_embd,
                                  cfg.block_size, cfg.dropout)
    n = evaluations(cfg.max_iters, cfg.eval_interval)
    # both splits at every evaluation, a text sample (each character a forward pass over up to a
    # context), and the whole validation split at the end
    evals = (n * (2 * cfg.eval_iters * cfg.batch_size * cfg.block_size + cfg.sample_chars * cfg.block_size)
             + SHAKESPEARE_VAL_CHARS)
    return [Training("nanoGPT's recipe on Tiny Shakespeare", model, cfg.batch_size, cfg.max_iters, 1,
                     eval_tokens=evals)]


def _scaling(cfg) -> list[Training]:
    # evaluations at the start and the end (4 batches of each split), then the whole validation split
    evals = 2 * 2 * 4 * cfg.batch_size * cfg.block_size + SHAKESPEARE_VAL_CHARS
    return [Training(f"rung {i + 1}: {rung[0]} layers × {rung[2]}",
                     scaling.rung_model(rung, SHAKESPEARE_VOCAB_SIZE, cfg.block_size),
                     cfg.batch_size, cfg.max_iters, cfg.n_seeds, eval_tokens=evals)
            for i, rung in enumerate(scaling.SCALING_LADDER[:cfg.n_sizes])]


def _middle(cfg) -> list[Training]:
    k = markov_knob(1.0, cfg.seed).alphabet_size
    evals = 2 * 2 * 2 * middle.CROSS_ENTROPY_BATCH * 64  # start and end, 2 batches of each split
    b = middle.CROSS_ENTROPY_BATCH
    return [Training("cross-entropy bound: Markov knob at τ = 1", middle.cross_entropy_model(k), b,
                     cfg.model_iters, 1, eval_tokens=evals + 40_000),  # and its 40,000 held-out symbols
            Training("cross-entropy bound: Tiny Shakespeare",
                     middle.cross_entropy_model(SHAKESPEARE_VOCAB_SIZE), b, cfg.model_iters, 1,
                     eval_tokens=evals + SHAKESPEARE_VAL_CHARS)]


def _theory(cfg) -> list[Training]:
    tc = theory.train_config(cfg.mess3_iters, cfg.seed)
    mess_evals = (evaluations(tc.max_iters, tc.eval_interval) * tc.eval_iters * tc.batch_size
                  * theory.BLOCK)  # the ensemble scores the held-out split only
    mess3 = [Training(f"Mess3 at width {w}", theory.model_config(w, 3), tc.batch_size, cfg.mess3_iters,
                      cfg.x_points, cfg.x_points, eval_tokens=mess_evals)
             for w in theory.mess3_widths(cfg.top_width)]
    grammar = RandomHierarchy(8, 2, 2, 5, seed=cfg.seed)
    members = 2 * cfg.curve_sizes  # the grammar and its Markov control at every size
    n_val, block = cfg.curve_test_windows, grammar.sentence_length - 1
    # at each of its evaluations: the selection batches and every test window
    curve_evals = (evaluations(cfg.curve_iters, max(1, cfg.curve_iters // 10))
                   * (max(1, n_val // 64) * theory.CURVE_BATCH + n_val) * block)
    curves = Training("learning curves: grammar and control",
                      theory.curve_config(theory.CURVE_WIDTH, grammar.alphabet_size, block),
                      theory.CURVE_BATCH, cfg.curve_iters, members, members, eval_tokens=curve_evals)
    return mess3 + [curves]


def _standard(profile: str, seed: int) -> list[dict]:
    cfg = resolve("knob", profile, seed=seed)
    return sweep.standard_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, cfg.width,
                                **sweep.evaluation(cfg))


def _sweep_evals(cell: dict) -> int:
    """A knob-sweep run's scoring: held-out batches and the first prompts' continuations at every
    evaluation, then every held-out window and every prompt (each continuation symbol a forward
    pass over up to a context)."""
    tc = sweep.sweep_train_config(cell["iters"], curve_points=cell["curve_points"])
    block, k = cell["model"]["block_size"], cell["k"]
    per_eval = tc.eval_iters * tc.batch_size * block + cell["curve_prompts"] * k * block
    return (evaluations(tc.max_iters, tc.eval_interval) * per_eval + cell["n_val"]
            + cell["n_prompts"] * k * block)


def _knob(cfg) -> list[Training]:
    standard = _groups("standard sweep", _standard(cfg.profile, cfg.seed), sweep.group_key,
                       sweep.sweep_train_config(cfg.iters).batch_size, _sweep_evals)
    icl = knob_chapter.icl_cells(knob_chapter.icl_alphas(cfg.knob_points),
                                 [cfg.seed + i for i in range(cfg.icl_seeds)], cfg.icl_iters,
                                 width=cfg.width, curve_points=cfg.curve_points)
    tc = sweep.sweep_train_config(cfg.icl_iters, curve_points=cfg.curve_points)
    block = 64  # the in-context runs' context (icl_cells)
    icl_evals = evaluations(tc.max_iters, tc.eval_interval) * (
        tc.eval_iters * knob_chapter.ICL_BATCH * block + 512 * block)  # and 512 segments per position
    return standard + _groups("in-context Markov chains", icl, knob_chapter.icl_group_key,
                              knob_chapter.ICL_BATCH, icl_evals)


def _capabilities(cfg) -> list[Training]:
    cells = capabilities.quanta_cells(cfg.quanta_tasks, capabilities.quanta_seeds(cfg.seed, cfg.n_seeds),
                                      cfg.quanta_iters, width=cfg.width)
    tc = sweep.sweep_train_config(cfg.quanta_iters)
    quanta_evals = evaluations(tc.max_iters, tc.eval_interval) * 32 * (
        tc.eval_iters * capabilities.QUANTA_BATCH + 24 * cfg.quanta_tasks)  # and 24 segments per task
    return _groups("quanta (multitask)", cells, capabilities.quanta_group_key, capabilities.QUANTA_BATCH,
                   quanta_evals)


def _ladder(cfg) -> list[Training]:
    widths = sweep.ladder_widths(cfg.rungs, cfg.width)
    shared = {_identity(c) for c in _standard(cfg.profile, cfg.seed)}
    cells = [c for c in sweep.ladder_cells(cfg.knob_points, cfg.n_seeds, cfg.iters, cfg.seed, widths,
                                           **sweep.evaluation(cfg))
             if _identity(c) not in shared]
    old = _groups("size ladder (other rungs)", cells, sweep.group_key,
                  sweep.sweep_train_config(cfg.iters).batch_size, _sweep_evals)
    d = central_design.design(frozen_plan.load(central_design.PLAN), cfg.profile)
    # Which models the plane test trains is fixed by its plan; the learning rate each width gets
    # (chosen by the tuning runs) changes how they train, not which or how long.
    first = {w: d.learning_rates[0] for w in d.widths}
    batch = sweep.sweep_train_config(d.steps).batch_size
    return old + _groups("plane test: learning-rate tuning", central_design.tuning_cells(d), sweep.group_key,
                         batch, _sweep_evals) + _groups("plane test: ladders", central_design.plane_cells(d, first),
                                                        sweep.group_key, batch, _sweep_evals)


def _natural(cfg) -> list[Training]:
    cells = natural.cells(natural.degradations(cfg.noise_points),
                          [cfg.seed + i for i in range(cfg.n_seeds)], cfg.iters, cfg.seed, cfg.text_chars)
    tc = sweep.sweep_train_config(cfg.iters, eval_interval=cfg.iters)
    text_evals = 2 * tc.eval_iters * tc.batch_size * natural.TEXT_MODEL.block_size  # start and end
    texts = _groups("degraded texts", cells, natural.group_key, tc.batch_size, text_evals)
    strong = [Training("strongest text model", GPTConfig(**c["model"]), c["batch_size"], c["iters"], 1,
                       cached=True,  # start and end (20 batches of each split), then every window
                       eval_tokens=2 * 2 * 20 * c["batch_size"] * c["model"]["block_size"]
                       + SHAKESPEARE_VAL_CHARS)
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

