"""Grids of training runs, trained in groups and cached cell by cell.

A *cell* is one training run, described by a plain dict (source family, knob value, seed, steps,
model...). Its cache key is a SHA-256 of the cell and of the *code version*: the text of every
module the run depends on, that is the layers below the book (``base``, ``mechanics``,
``sources``, ``measures``, ``gpt``, ``sweeps``) and the module that defines the group trainer.
The book's tooling (charts, runner, provenance) and the chapters' own modules are not part of it,
so changing a chart's colour retrains nothing. A rerun re-executes nothing, a changed cell
re-executes only itself, and a code change under those layers invalidates everything.

Cells that share an architecture and a schedule (everything but source, knob and seed) are
trained together as one :class:`~middleground.gpt.ensemble.EnsembleGPT`, which is only a speed-up:
every cell's result is a function of that cell alone (its seed, its data, its evaluation), never
of its companions, their number or its position among them (tests check this). Each cell's result
is written to ``<cache>/<sweep>/<key>.json`` atomically, only after its group has finished, so an
interrupted sweep leaves finished cells and nothing half-written; the temporary files of a killed
sweep are removed by the next one. A cached file is trusted only if it is a whole record of that
very cell and code version; anything else (unreadable, another shape, another cell) is removed and
the cell trained again. The cache folder is checked before any training starts.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
from pathlib import Path
from typing import Callable

from ..base.files import check_output_folder, remove_stale_partials, write_json
from ..base.paths import PACKAGE_DIR, fingerprint
from ..base import settings
from . import executors

PACKAGE = PACKAGE_DIR
# The layers a training run can depend on. Coarser than tracking which modules a cell imports,
# and so never stale; the book tooling (book/) and the chapters' modules (experiments/) are left
# out, except the module that defines the group trainer, which run() adds.
RUN_LAYERS = ("base", "mechanics", "sources", "measures", "gpt", "sweeps")


def code_version(trainer_file: Path | None = None) -> str:
    """SHA-256 over the modules of :data:`RUN_LAYERS` (and ``trainer_file``, if given)."""
    package = PACKAGE
    files = [p for layer in RUN_LAYERS for p in (package / layer).rglob("*.py")]
    if trainer_file is not None:
        files.append(Path(trainer_file))
    return fingerprint(files, package)


def cell_key(cell: dict, version: str) -> str:
    text = json.dumps(cell, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((version + text).encode()).hexdigest()[:24]


def cache_root() -> Path:
    return settings.sweep_cache()


SWEEP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def read_cell(path: Path, cell: dict, version: str):
    """The cached result of ``cell`` at ``path``, or ``None`` unless the file is a whole record
    (``{"cell", "code_version", "result"}``) of this very cell under this code version."""
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
        return None
    if (not isinstance(record, dict) or "result" not in record
            or record.get("code_version") != version
            or record.get("cell") != json.loads(json.dumps(cell))):
        return None
    return record["result"]


def train_and_store(train_group: Callable[[list[dict]], list], folder: str, version: str,
                    group: list[tuple[str, dict]]) -> list:
    """One group's task, wherever it runs: train its cells and write each one's record to the
    cache (atomically), so whoever finishes a group stores it. Refuses to run code other than the
    code the driver keyed the cache with (a worker with a stale install)."""
    here = code_version(Path(inspect.getsourcefile(train_group)))
    if here != version:
        raise RuntimeError(f"this worker runs other code than the sweep's driver (code version "
                           f"{here[:12]} here, {version[:12]} there): install the same version")
    outs = train_group([cell for _, cell in group])
    if len(outs) != len(group):
        raise RuntimeError(f"train_group returned {len(outs)} results for {len(group)} cells")
    for (key, cell), out in zip(group, outs):
        write_json(Path(folder) / f"{key}.json", {"cell": cell, "code_version": version, "result": out},
                   indent=None)
    return outs


def run(name: str, cells: list[dict], group_by: Callable[[dict], tuple],
        train_group: Callable[[list[dict]], list[dict]], executor=None) -> tuple[list[dict], dict]:
    """Results for ``cells`` (in order), training only the cells not in the cache.

    ``group_by(cell)``: cells with equal keys are trained together by ``train_group(cells)``,
    which returns one JSON-serialisable result per cell. ``executor``: where groups train
    (:mod:`.executors`; default: a Dask cluster if ``MIDDLEGROUND_DASK_ADDRESS`` is set, else this
    process); a cell already cached is never sent out. Returns the results and counts
    ``{"cells", "reused", "executed", "groups"}``.
    """
    if not isinstance(name, str) or not SWEEP_NAME.fullmatch(name):
        raise ValueError(f"sweep name must be letters, digits, '_', '.' or '-', not starting with "
                         f"'.' or '-' (a folder inside the cache); got {name!r}")
    if not callable(group_by) or not callable(train_group):
        raise ValueError("group_by and train_group must be functions")
    version = code_version(Path(inspect.getsourcefile(train_group)))
    keys = [cell_key(c, version) for c in cells]  # also checks every cell is JSON data
    # Before any training: a cache that cannot be written would throw a trained group away.
    folder = check_output_folder(cache_root() / name,
                                 "the sweep cache folder (MIDDLEGROUND_SWEEP_CACHE)")
    remove_stale_partials(folder)
    results: dict[str, dict] = {}
    for key, cell in dict(zip(keys, cells)).items():
        path = folder / f"{key}.json"
        if not path.exists():
            continue
        result = read_cell(path, cell, version) if path.is_file() else None
        if result is None:  # recompute rather than trust it
            if path.is_dir():
                raise ValueError(f"the sweep cache entry {path} is a folder; remove it")
            path.unlink(missing_ok=True)
        else:
            results[key] = result
    todo: dict[tuple, list[tuple[str, dict]]] = {}
    for key, cell in zip(keys, cells):
        if key not in results and all(key != k for k, _ in todo.get(group_by(cell), [])):
            todo.setdefault(group_by(cell), []).append((key, cell))
    executed, groups = 0, list(todo.values())
    if groups:
        executor = executors.from_environment() if executor is None else executor
        task = functools.partial(train_and_store, train_group, str(folder.resolve()), version)
        for i, outs in executor.map(task, groups):
            for (key, _), out in zip(groups[i], outs):
                results[key] = out
                executed += 1
    return [results[k] for k in keys], {"cells": len(cells), "reused": len(cells) - executed,
                                        "executed": executed, "groups": len(todo)}
