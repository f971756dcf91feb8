"""Every environment variable the project reads, read here and nowhere else.

Each setting is a function, read when it is called (not at import), so a test or a runner that
sets a variable sees it take effect. :data:`SETTINGS` lists them with their defaults and effects;
the README's table is :func:`markdown_table`, and a test keeps the two equal and checks that no
other module of the package reads ``os.environ`` for a ``MIDDLEGROUND_`` variable.

What this module does not do: decide anything. It reads text, checks its form and returns plain
values; the modules that use a setting decide what it means.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .paths import PROJECT_ROOT


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    effect: str


SETTINGS = (
    Setting("MIDDLEGROUND_PROFILE", "unset: gpu with CUDA, else full",
            "the profile of a chapter run with no profile given (quick, full or gpu)"),
    Setting("MIDDLEGROUND_DATA_CACHE", "data/cache",
            "where downloaded corpora are kept (and, below it, the sweep cache)"),
    Setting("MIDDLEGROUND_DATA_MIRROR", "unset (the Makefile sets ../shared/data when it exists)",
            "a folder holding the corpora, used instead of downloading them"),
    Setting("MIDDLEGROUND_DATA_URL_BASE", "unset",
            "download each corpus from <base>/<file> instead of its manifest URL (a local server)"),
    Setting("MIDDLEGROUND_OFFLINE", "unset", "1: never download; a missing corpus is an error"),
    Setting("MIDDLEGROUND_SWEEP_CACHE", "$MIDDLEGROUND_DATA_CACHE/sweeps",
            "where each sweep run's result is cached"),
    Setting("MIDDLEGROUND_CLAIMS_DIR", "_build/claims (the runner: the claims folder in --out)",
            "where each chapter writes the claims it checked"),
    Setting("MIDDLEGROUND_TRAINING_LOG", "unset",
            "a file to which every training run a chapter starts appends one line"),
    Setting("MIDDLEGROUND_KEEP_MALLOC", "unset", "1: leave glibc's allocator thresholds alone"),
    Setting("MIDDLEGROUND_DASK_ADDRESS", "unset (sweeps train in process)",
            "'local' or a scheduler address: sweep groups run as Dask tasks"),
    Setting("MIDDLEGROUND_DASK_GPUS_PER_TASK", "unset",
            "GPU resource each Dask task asks for (0.25: four groups per GPU)"),
    Setting("MIDDLEGROUND_CHROMIUM", "unset: chromium on the PATH",
            "the Chromium binary the browser check drives"),
)
NAMES = tuple(s.name for s in SETTINGS)


def _get(name: str) -> str:
    assert name in NAMES, f"{name} is not a declared setting"
    return os.environ.get(name, "")


def profile() -> str | None:
    return _get("MIDDLEGROUND_PROFILE") or None


def data_cache() -> Path:
    return Path(_get("MIDDLEGROUND_DATA_CACHE") or PROJECT_ROOT / "data" / "cache")


def data_mirror() -> str:
    """The mirror folder as given ('' when unset); the data layer checks it."""
    return _get("MIDDLEGROUND_DATA_MIRROR")


def data_url_base() -> str:
    return _get("MIDDLEGROUND_DATA_URL_BASE")


def offline() -> bool:
    return _get("MIDDLEGROUND_OFFLINE") == "1"


def sweep_cache() -> Path:
    return Path(_get("MIDDLEGROUND_SWEEP_CACHE") or data_cache() / "sweeps")


def claims_dir() -> Path:
    return Path(_get("MIDDLEGROUND_CLAIMS_DIR") or PROJECT_ROOT / "_build" / "claims")


def training_log() -> str | None:
    return _get("MIDDLEGROUND_TRAINING_LOG") or None


def keep_malloc() -> bool:
    return _get("MIDDLEGROUND_KEEP_MALLOC") == "1"


def dask_address() -> str:
    return _get("MIDDLEGROUND_DASK_ADDRESS")


def dask_gpus_per_task() -> str:
    return _get("MIDDLEGROUND_DASK_GPUS_PER_TASK")


def chromium() -> str | None:
    return _get("MIDDLEGROUND_CHROMIUM") or None


def markdown_table() -> str:
    """The README's table of settings, from :data:`SETTINGS`."""
    rows = ["| variable | default | what it changes |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {s.default} | {s.effect} |" for s in SETTINGS]
    return "\n".join(rows)


def set_default(name: str, value: str) -> str:
    """Set ``name`` for this process and the kernels and workers it starts, unless it is set
    already; return its value (the runner points every chapter at one claims folder this way)."""
    assert name in NAMES, f"{name} is not a declared setting"
    return os.environ.setdefault(name, value)


# Variables of other programs the project reads: torchrun's process layout and OpenMP's threads.
EXTERNAL = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "OMP_NUM_THREADS")


def external(name: str) -> str | None:
    """One of :data:`EXTERNAL` as set by the program that started this process, or ``None``."""
    assert name in EXTERNAL, f"{name} is not a declared external variable"
    return os.environ.get(name)


def child_environment(**updates: str) -> dict[str, str]:
    """This process's environment with ``updates``: for a worker process this one starts."""
    assert all(name in NAMES for name in updates), f"undeclared settings in {sorted(updates)}"
    return {**os.environ, **updates}
