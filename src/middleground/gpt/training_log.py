"""An optional record of every training run a process starts: one JSON line per run.

The trainers know nothing of it: :func:`middleground.gpt.train.fit` and
:func:`middleground.gpt.ensemble.fit_ensemble` take an ``on_start`` callback, and the code that
starts a training passes :func:`from_settings`, which is :func:`record` bound to the file
``MIDDLEGROUND_TRAINING_LOG`` names (or ``None`` when it is unset: nothing is called). Each run then
appends ``{"model", "batch_size", "steps", "members"}`` as it starts. A build of the book says what
it really trained, which the tests compare with the plan the appendix shows
(:mod:`middleground.experiments.plan`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict

from .model import GPTConfig
from ..base import settings

LOG_ENV = "MIDDLEGROUND_TRAINING_LOG"


def from_settings():
    """:func:`record` into ``$MIDDLEGROUND_TRAINING_LOG``'s file, or ``None`` when it is unset."""
    path = settings.training_log()
    return None if not path else functools.partial(record, path)


def record(path, model: GPTConfig, batch_size: int, steps: int, members: int = 1) -> None:
    """Append one line for a run of ``members`` models of ``model`` starting to ``path``."""
    line = json.dumps({"model": asdict(model), "batch_size": int(batch_size), "steps": int(steps),
                       "members": int(members)}, sort_keys=True) + "\n"
    # one write of one short line in append mode: concurrent writers never interleave a line
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)


def read(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
