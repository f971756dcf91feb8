"""Grids of training runs, trained as ensembles and cached cell by cell.

A *cell* is one training run, described by a plain dict (source family, knob value, seed, steps,
model...). Its cache key is a SHA-256 of the cell and of the *code version*: the text of every
module of the package. A rerun therefore re-executes nothing, a changed cell
re-executes only itself, and a code change invalidates everything it touches.

Cells that share an architecture and a schedule (everything but source, knob and seed) are
trained together as one :class:`~middleground.ensemble.EnsembleGPT`. Each cell's result is written
to ``<cache>/<sweep>/<key>.json`` through a temporary file and a rename, only after its group has
finished, so an interrupted sweep leaves finished cells and nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from . import data
from .files import write_json
from .model import GPTConfig
from .train import TrainConfig

# The small transformer of chapters 7-8 (vocabulary set per source family).
SWEEP_MODEL = GPTConfig(vocab_size=4, block_size=32, n_layer=2, n_head=2, n_embd=32, bias=False)


def sweep_train_config(iters: int, eval_interval: int | None = None) -> TrainConfig:
    """The schedule every sweep cell uses: nanoGPT's shape, a higher rate for tiny models."""
    return TrainConfig(max_iters=iters, batch_size=16, learning_rate=3e-3, min_lr=3e-4,
                       warmup_iters=min(50, iters // 10), beta2=0.99,
                       eval_interval=eval_interval or max(1, iters // 16), eval_iters=4)


def code_version() -> str:
    """SHA-256 over every module of the package. Coarser than tracking which modules a cell
    imports, and so never stale: any change to the code retrains the cells."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cell_key(cell: dict, version: str) -> str:
    text = json.dumps(cell, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((version + text).encode()).hexdigest()[:24]


def cache_root() -> Path:
    return Path(os.environ.get("MIDDLEGROUND_SWEEP_CACHE", data.cache_dir() / "sweeps"))


def run(name: str, cells: list[dict], group_by: Callable[[dict], tuple],
        train_group: Callable[[list[dict]], list[dict]]) -> tuple[list[dict], dict]:
    """Results for ``cells`` (in order), training only the cells not in the cache.

    ``group_by(cell)``: cells with equal keys are trained together by ``train_group(cells)``,
    which returns one JSON-serialisable result per cell. Returns the results and counts
    ``{"cells", "reused", "executed", "groups"}``.
    """
    if not name or "/" in name:
        raise ValueError(f"sweep name must be a plain, non-empty name; got {name!r}")
    version = code_version()
    folder = cache_root() / name
    keys = [cell_key(c, version) for c in cells]
    results: dict[str, dict] = {}
    for key in set(keys):
        path = folder / f"{key}.json"
        if path.is_file():
            try:
                results[key] = json.loads(path.read_text())["result"]
            except (json.JSONDecodeError, KeyError):
                path.unlink()  # unreadable: recompute rather than trust it
    todo: dict[tuple, list[tuple[str, dict]]] = {}
    for key, cell in zip(keys, cells):
        if key not in results and all(key != k for k, _ in todo.get(group_by(cell), [])):
            todo.setdefault(group_by(cell), []).append((key, cell))
    executed = 0
    for group in todo.values():
        outs = train_group([cell for _, cell in group])
        if len(outs) != len(group):
            raise RuntimeError(f"train_group returned {len(outs)} results for {len(group)} cells")
        for (key, cell), out in zip(group, outs):
            write_json(folder / f"{key}.json", {"cell": cell, "code_version": version, "result": out},
                       indent=None)
            results[key] = out
            executed += 1
    return [results[k] for k in keys], {"cells": len(cells), "reused": len(cells) - executed,
                                        "executed": executed, "groups": len(todo)}
