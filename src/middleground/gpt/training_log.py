"""An optional record of every training run a process starts: one JSON line per run.

With ``MIDDLEGROUND_TRAINING_LOG`` naming a file, the single-model trainer and the ensemble
trainer each append ``{"model", "batch_size", "steps", "members"}`` when a run starts. A build of
the book then says what it really trained, which the tests compare with the plan the appendix
shows (:mod:`middleground.experiments.plan`). Unset, nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from .model import GPTConfig
from ..base import settings

LOG_ENV = "MIDDLEGROUND_TRAINING_LOG"


def record(model: GPTConfig, batch_size: int, steps: int, members: int = 1) -> None:
    path = settings.training_log()
    if not path:
        return
    line = json.dumps({"model": asdict(model), "batch_size": int(batch_size), "steps": int(steps),
                       "members": int(members)}, sort_keys=True) + "\n"
    # one write of one short line in append mode: concurrent writers never interleave a line
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)


def read(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
