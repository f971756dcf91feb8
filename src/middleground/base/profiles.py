"""Parameter profiles: the one place where every chapter's run size is set.

Each chapter has a cell tagged ``parameters`` (papermill's convention) that holds ``profile`` and
any knob a reader may want to turn, each defaulting to ``None``. The chapter then calls
:func:`resolve`, which fills every ``None`` from the chosen profile and checks every value:

- ``quick``: seconds per chapter; CI executes every chapter this way.
- ``full``: the published book; minutes per chapter on a 2-core CPU.
- ``gpu``: larger runs, for a machine with CUDA.

With no profile given, the ``MIDDLEGROUND_PROFILE`` environment variable decides (that is how the
strict test build runs ``quick``); failing that, the runner and the chapters choose ``gpu`` when
CUDA is present and ``full`` otherwise (:func:`middleground.gpt.device.default_profile`: this
module is plain data below the device layer and never imports torch).

What this module does not do: run anything. It only declares sizes and validates them, so the
runner can reject a bad ``-p name value`` before a kernel even starts.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from . import settings

PROFILES = ("quick", "full", "gpu")
PROFILE_ENV = "MIDDLEGROUND_PROFILE"
PROFILE_HELP = '"quick", "full" or "gpu"; None: $MIDDLEGROUND_PROFILE, else gpu with CUDA, else full'


@dataclass(frozen=True)
class Param:
    """One chapter parameter: its type, what values are allowed, and its value per profile."""

    kind: type
    quick: Any
    full: Any
    gpu: Any
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None
    choices: tuple | None = None
    help: str = ""

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "-inf" if self.low is None else repr(self.low)
        hi = "inf" if self.high is None else repr(self.high)
        return f"{self.kind.__name__} in [{lo}, {hi}]"

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` (ints are accepted where floats are asked), or raise naming the rule."""
        ok_type = isinstance(value, self.kind) and not (self.kind is int and isinstance(value, bool))
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok_type = float(value), True
        if ok_type and self.kind is float and not math.isfinite(value):
            ok_type = False  # NaN slips through every comparison with the bounds
        if not ok_type:
            raise ParameterError(
                f"parameter {name!r} must be {self.allowed()}; got {value!r} "
                f"of type {type(value).__name__}"
            )
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"parameter {name!r} must be {self.allowed()}; got {value!r}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ParameterError(f"parameter {name!r} must be {self.allowed()}; got {value!r}")
        return value


    def parse(self, name: str, text: str) -> Any:
        """The value of ``text`` (from a command line) read as this parameter's type, then checked.

        Read by the declared type, not guessed: YAML would read ``1e-3`` as a string and ``1:20``
        as the base-60 number 80."""
        value: Any = text
        if self.kind is int:
            if not _INT.fullmatch(text.strip()):
                raise ParameterError(f"parameter {name!r} must be {self.allowed()}; got {text!r}, "
                                     "not a whole number")
            value = int(text.strip().replace("_", ""))
        elif self.kind is float:
            try:
                value = float(text)
            except ValueError:
                raise ParameterError(f"parameter {name!r} must be {self.allowed()}; got {text!r}, "
                                     "not a number") from None
        elif self.kind is bool:
            lowered = text.strip().lower()
            if lowered not in _BOOLS:
                raise ParameterError(f"parameter {name!r} must be {self.allowed()}; got {text!r}")
            value = _BOOLS[lowered]
        return self.check(name, value)


_INT = re.compile(r"[+-]?\d+(_\d+)*")
_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


class ParameterError(ValueError):
    """A profile or parameter value that a chapter cannot run with."""


# Shared by every chapter: the seed of all random draws.
_COMMON = {
    "seed": Param(int, 0, 0, 0, low=0, high=2**31 - 1, help="seed of every random draw"),
}

# The standard knob sweep (chapters knob and capabilities; the intro's summary and chapter questions
# reuse it): one definition, so that every chapter asks the sweep cache for the very same runs.
_SWEEP = {
    "iters": Param(int, 40, 600, 3000, low=16, high=1_000_000,
                   help="training steps of every run in the sweep"),
    "n_seeds": Param(int, 2, 3, 5, low=1, high=20, help="seeds per knob setting"),
    "knob_points": Param(int, 3, 9, 13, low=3, high=41,
                         help="settings along the temperature and noise knobs"),
    # The model grows with the profile, not only the steps and seeds; under quick and full it is
    # the 32-wide model every cached run was trained with.
    "width": Param(int, 32, 32, 256, low=8, high=4096,
                   help="width of the sweep's models (the size ladder's top rung; in-context, quanta runs too)"),
    # Evaluation. Under quick it is most of what a 40-step run costs, so quick evaluates 8 times
    # during training (32 prompts each) and at the end on 2,048 windows of 33 symbols and 128
    # prompts; full and gpu 16 times (64 prompts), then on 13,901 windows (a loss's standard error
    # below 0.005 bits) and 512 prompts.
    "eval_symbols": Param(int, 67_584, 458_752, 458_752, low=3_300, high=10_000_000,
                          help="held-out symbols of every run's final evaluation"),
    "eval_prompts": Param(int, 128, 512, 512, low=64, high=100_000,
                          help="continuation prompts of every run's final evaluation"),
    "curve_points": Param(int, 8, 16, 16, low=2, high=1000,
                          help="evaluations of every run during training (its learning curves)"),
    "curve_prompts": Param(int, 32, 64, 64, low=8, high=100_000,
                           help="continuation prompts scored at each of those evaluations"),
}

# How much of Tiny Shakespeare chapters middle and natural use (the whole file is about 1.1 million
# characters).
_TEXT_CHARS = Param(int, 100_000, 2_000_000, 2_000_000, low=10_000, high=100_000_000,
                    help="characters of Tiny Shakespeare used (at most the whole file)")

# Chapter name (the file stem under chapters/) -> its parameters.
CHAPTERS: dict[str, dict[str, Param]] = {
    "intro": {
        **_COMMON,
        "steps": Param(int, 60, 400, 1500, low=1, high=100_000,
                       help="optimisation steps per source for the teaser model"),
        "n_embd": Param(int, 32, 64, 128, low=8, high=2048, help="width of the teaser model"),
        "block_size": Param(int, 32, 64, 128, low=2, high=4096, help="context length in symbols"),
        "batch_size": Param(int, 16, 32, 64, low=1, high=4096, help="sequences per step"),
        "n_seeds": Param(int, 1, 3, 3, low=1, high=20, help="training runs per source"),
    },
    "matmul": {
        **_COMMON,
        "n_layer": Param(int, 2, 4, 6, low=1, high=48, help="transformer blocks"),
        "n_embd": Param(int, 64, 128, 384, low=8, high=4096, help="model width"),
        "n_head": Param(int, 4, 4, 6, low=1, high=64, help="attention heads"),
        "block_size": Param(int, 64, 64, 256, low=1, high=4096, help="context length"),
        "batch_size": Param(int, 4, 12, 16, low=1, high=512, help="sequences in the timed batch"),
        "repeats": Param(int, 3, 10, 10, low=1, high=1000, help="timing repetitions (median kept)"),
    },
    "calculus": {
        **_COMMON,
        "trials": Param(int, 3, 20, 50, low=1, high=10_000,
                        help="random inputs per component in the gradient check"),
    },
    "backprop": {
        **_COMMON,
        "steps": Param(int, 15, 200, 400, low=1, high=100_000, help="training steps, numpy and torch"),
        "n_layer": Param(int, 1, 2, 2, low=1, high=12, help="transformer blocks"),
        "n_embd": Param(int, 16, 32, 64, low=8, high=512, help="model width"),
        "block_size": Param(int, 16, 32, 64, low=2, high=512, help="context length"),
        "batch_size": Param(int, 4, 8, 16, low=1, high=256, help="sequences per step"),
        "learning_rate": Param(float, 3e-3, 3e-3, 3e-3, low=1e-6, high=1.0, help="AdamW step size"),
    },
    "training": {
        **_COMMON,
        "n_layer": Param(int, 2, 4, 6, low=1, high=48, help="transformer blocks"),
        "n_head": Param(int, 2, 4, 6, low=1, high=64, help="attention heads"),
        "n_embd": Param(int, 32, 128, 384, low=8, high=4096, help="model width"),
        "block_size": Param(int, 32, 64, 256, low=2, high=4096, help="context length in characters"),
        "batch_size": Param(int, 8, 12, 64, low=1, high=4096, help="sequences per step"),
        "max_iters": Param(int, 40, 2000, 5000, low=2, high=1_000_000, help="optimisation steps"),
        "eval_interval": Param(int, 20, 250, 250, low=1, high=1_000_000,
                               help="steps between evaluations (and text samples)"),
        "eval_iters": Param(int, 4, 20, 200, low=1, high=10_000,
                            help="fixed batches per split in each evaluation"),
        "dropout": Param(float, 0.0, 0.0, 0.2, low=0.0, high=0.9, help="dropout rate"),
        "learning_rate": Param(float, 1e-3, 1e-3, 1e-3, low=1e-6, high=1.0,
                               help="peak AdamW step size (decays to a tenth)"),
        "sample_chars": Param(int, 60, 200, 300, low=0, high=10_000,
                              help="characters generated at each evaluation"),
        "compile": Param(bool, False, False, False, choices=(False, True),
                         help="torch.compile the model (CUDA mainly; slow to start on a CPU)"),
    },
    "scaling": {
        **_COMMON,
        "n_sizes": Param(int, 5, 6, 10, low=5, high=10,
                         help="model sizes from the ladder; the largest is held out"),
        # gpu: 240 x 64 x 256 tokens = 3.9 passes over the ~1.0 M training characters (3,000
        # steps were 49 passes with dropout 0: the larger models would memorise, not scale)
        "max_iters": Param(int, 30, 400, 240, low=2, high=1_000_000,
                           help="optimisation steps for every size"),
        "batch_size": Param(int, 8, 16, 64, low=1, high=4096, help="sequences per step"),
        "block_size": Param(int, 32, 64, 256, low=2, high=4096, help="context length"),
        "n_seeds": Param(int, 2, 3, 3, low=2, high=20, help="seeds per size"),
        "bootstrap_draws": Param(int, 100, 1000, 1000, low=10, high=100_000,
                                 help="bootstrap refits over seeds"),
    },
    "middle": {
        **_COMMON,
        "n_max": Param(int, 20_000, 500_000, 1_000_000, low=1_000, high=50_000_000,
                       help="largest sample size in the estimator study"),
        "n_seeds": Param(int, 1, 3, 5, low=1, high=50, help="samples per source and size"),
        "knob_points": Param(int, 5, 13, 31, low=3, high=201, help="points along each knob"),
        "L_max": Param(int, 8, 12, 12, low=2, high=24, help="longest word in block entropies"),
        "model_iters": Param(int, 20, 600, 2000, low=2, high=1_000_000,
                             help="training steps of the GPT whose cross-entropy bounds h"),
        "text_chars": _TEXT_CHARS,
        "explorer_points": Param(int, 4, 15, 21, low=2, high=101,
                                 help="temperatures precomputed for the interactive explorer"),
    },
    "theory": {
        **_COMMON,
        "mess3_iters": Param(int, 100, 1500, 6000, low=10, high=1_000_000,
                             help="training steps of every Mess3 model"),
        "top_width": Param(int, 16, 64, 128, low=8, high=1024,
                           help="width of the largest Mess3 model (the others: a half and a quarter)"),
        "x_points": Param(int, 2, 3, 6, low=2, high=20,
                          help="Mess3 settings of x from 0.05 (structured) to 0.30 (near noise)"),
        "probe_windows": Param(int, 400, 4000, 8000, low=50, high=1_000_000,
                               help="windows of 10 symbols for fitting each probe (half as many score it)"),
        "eca_width": Param(int, 2048, 8192, 8192, low=64, high=1_048_576,
                           help="cells on the ring of each cellular automaton (a multiple of 64)"),
        "eca_steps": Param(int, 500, 2000, 2000, low=1, high=100_000,
                           help="updates before the automaton's row is read"),
        "eca_rows": Param(int, 8, 16, 32, low=2, high=1024,
                          help="independent initial rows per automaton (their spread gives the SE)"),
        "eca_L": Param(int, 8, 11, 11, low=2, high=20, help="longest word in the automata's block entropies"),
        "curve_sizes": Param(int, 5, 5, 7, low=5, high=12,
                             help="training-set sizes of the learning curves, a factor 4 apart from 32"),
        "curve_iters": Param(int, 30, 1200, 6000, low=10, high=1_000_000,
                             help="training steps of every learning-curve model"),
        "mi_symbols": Param(int, 100_000, 1_000_000, 1_000_000, low=10_000, high=100_000_000,
                            help="symbols per source in the mutual-information estimates"),
        "mess3_symbols": Param(int, 200_000, 2_000_000, 2_000_000, low=10_000, high=100_000_000,
                               help="training symbols of every Mess3 model"),
        "map_chars": Param(int, 100_000, 1_000_000, 1_000_000, low=10_000, high=100_000_000,
                           help="characters of each text placed on the complexity-entropy map"),
        "curve_test_windows": Param(int, 128, 2000, 2000, low=16, high=1_000_000,
                                    help="fresh test windows scoring every learning-curve model"),
    },
    "knob": {
        **_COMMON,
        **_SWEEP,
        "icl_iters": Param(int, 30, 1000, 4000, low=16, high=1_000_000,
                           help="training steps of the in-context Markov runs"),
        "icl_seeds": Param(int, 1, 2, 3, low=1, high=20, help="seeds per concentration"),
    },
    "capabilities": {
        **_COMMON,
        **_SWEEP,
        "quanta_iters": Param(int, 40, 1500, 5000, low=16, high=1_000_000,
                              help="training steps of the multitask (quanta) runs"),
        "quanta_tasks": Param(int, 6, 24, 48, low=2, high=200, help="subtasks in the quanta source"),
    },
    # The central test: the model-size ladder along both knobs (its top rung is the knob chapter's
    # model, at the sweep's width, so those runs are shared through the sweep cache).
    "ladder": {
        **_COMMON,
        **_SWEEP,
        "rungs": Param(int, 3, 6, 7, low=3, high=12,
                       help="model sizes in the ladder (widths about √2 apart)"),
        "fit_fraction": Param(float, 0.6, 0.5, 0.5, low=0.2, high=0.9,
                              help="share of a run's steps used by the within-run extrapolation"),
        "n_boot": Param(int, 200, 2000, 4000, low=50, high=100_000,
                        help="bootstrap draws over seeds and prompts"),
        "n_perm": Param(int, 1000, 10_000, 20_000, low=100, high=1_000_000,
                        help="permutations of the region labels in the permutation test"),
    },
    "natural": {
        **_COMMON,
        "noise_points": Param(int, 3, 5, 11, low=2, high=41,
                              help="character-noise rates from 0 to 1 (0 is the original)"),
        "iters": Param(int, 20, 1000, 3000, low=2, high=1_000_000, help="training steps of every model"),
        "n_seeds": Param(int, 1, 2, 3, low=1, high=20, help="seeds per degradation"),
        "L_max": Param(int, 5, 8, 10, low=4, high=16, help="longest word in block entropies"),
        "text_chars": _TEXT_CHARS,
        "strong_layers": Param(int, 2, 4, 6, low=1, high=48, help="blocks of the chapter's strongest model"),
        "strong_width": Param(int, 32, 128, 384, low=8, high=4096, help="width of the strongest model"),
        "strong_block": Param(int, 32, 64, 256, low=2, high=4096, help="context of the strongest model"),
        "strong_batch": Param(int, 8, 32, 64, low=1, high=4096, help="sequences per step of the strongest model"),
        "strong_iters": Param(int, 20, 2000, 5000, low=2, high=1_000_000,
                              help="training steps of the strongest model"),
        "strong_dropout": Param(float, 0.0, 0.0, 0.2, low=0.0, high=0.9,
                                help="dropout of the strongest model (nanoGPT's GPU recipe uses 0.2)"),
    },
    "questions": {
        **_COMMON,
        "noise_rate": Param(float, 0.1, 0.1, 0.1, low=0.0, high=1.0,
                            help="question 1: noise over the golden-mean process"),
        "L_max": Param(int, 8, 12, 14, low=2, high=16,
                       help="question 1: longest word whose observer beliefs are counted"),
        "family": Param(str, "noise", "noise", "noise", choices=("temperature", "noise"),
                        help="question 2: which knob of the ladder chapter's size ladder"),
        "knob_index": Param(int, 1, 3, 5, low=0, high=12,
                            help="question 2: which setting of that knob (0 is the first)"),
    },
    "reproduce": {**_COMMON},
}


@dataclass(frozen=True)
class ChapterConfig:
    """The resolved parameters of one chapter run, plus what produced them (for provenance)."""

    chapter: str
    profile: str
    values: dict[str, Any]
    overrides: dict[str, Any]
    started: float = field(default_factory=time.time)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"chapter {self.chapter!r} has no parameter {name!r}") from None


def sweep_values(cfg: ChapterConfig) -> dict[str, Any]:
    """The standard sweep's parameters of a chapter that shares it (knob, capabilities, ladder),
    as keyword arguments: one chapter's overrides reach the sweep it asks the cache for."""
    return {name: cfg.values[name] for name in _SWEEP}


def default_profile(cuda: bool) -> str:
    """``$MIDDLEGROUND_PROFILE`` if set, else ``gpu`` when ``cuda`` and ``full`` otherwise.

    Whether CUDA is present is the device layer's to say, so this module stays free of torch:
    :func:`middleground.gpt.device.default_profile` asks it and passes the answer."""
    env = settings.profile()
    if env:
        return check_profile(env, source=f"${PROFILE_ENV}")
    return "gpu" if cuda else "full"


def check_profile(profile: Any, source: str = "profile") -> str:
    if profile not in PROFILES:
        raise ParameterError(
            f"unknown {source} {profile!r}; allowed: {', '.join(PROFILES)} (or None for the default)"
        )
    return profile


def parameters(chapter: str) -> dict[str, Param]:
    try:
        return CHAPTERS[chapter]
    except KeyError:
        raise ParameterError(
            f"no parameters are declared for chapter {chapter!r}; known chapters: "
            + ", ".join(sorted(CHAPTERS))
        ) from None


def resolve(chapter: str, profile: str | None = None, /, **given: Any) -> ChapterConfig:
    """Fill a chapter's parameters from ``profile``, applying the non-``None`` ``given`` overrides.

    Raises :class:`ParameterError` that names the parameter and its allowed values for an unknown
    profile, an unknown parameter, or a value of the wrong type or outside its range.
    """
    spec = parameters(chapter)
    if profile is None:
        profile = settings.profile()
        if profile is None:
            raise ParameterError(
                f"chapter {chapter!r}: no profile given and ${PROFILE_ENV} is unset; pass one of "
                f"{', '.join(PROFILES)} (middleground.gpt.device.default_profile() picks gpu with "
                "CUDA, else full)")
        profile = check_profile(profile, source=f"${PROFILE_ENV}")
    else:
        profile = check_profile(profile)
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for chapter {chapter!r}; "
            f"allowed: {', '.join(sorted(spec))}"
        )
    overrides = {k: spec[k].check(k, v) for k, v in given.items() if v is not None}
    values = {k: overrides.get(k, getattr(p, profile)) for k, p in spec.items()}
    return ChapterConfig(chapter=chapter, profile=profile, values=values, overrides=overrides)


def parse_overrides(chapter: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs from a command line, each read by the type ``chapter`` declares for
    it and checked (:meth:`Param.parse`); raises :class:`ParameterError` naming the parameter."""
    spec = parameters(chapter)
    names = [name for name, _ in pairs]
    if "profile" in names:
        raise ParameterError("'profile' is not a chapter parameter: choose it with --profile "
                             f"({', '.join(PROFILES)})")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ParameterError(f"parameter(s) {', '.join(map(repr, twice))} given more than once")
    unknown = sorted(set(names) - set(spec))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for chapter {chapter!r}; "
            f"allowed: {', '.join(sorted(spec))}"
        )
    return {name: spec[name].parse(name, text) for name, text in pairs}


def parameters_cell(chapter: str) -> str:
    """The source of the chapter's ``parameters`` cell, generated from its declarations here: every
    parameter ``None`` (the profile decides) with its help as a comment, ``seed`` last. A test keeps
    each chapter's cell equal to this, so the help a reader sees cannot drift from the runner's."""
    spec = parameters(chapter)
    names = [n for n in spec if n != "seed"] + (["seed"] if "seed" in spec else [])
    rows = [("profile", PROFILE_HELP)] + [(n, spec[n].help) for n in names]
    width = max(len(n) for n, _ in rows) + len(" = None")
    return "\n".join(f"{n + ' = None':<{width}}  # {h}" for n, h in rows)
