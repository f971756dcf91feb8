"""A test's plan, frozen in a committed file before its data: read, hashed and dated by git.

A plan is a TOML file that states a test before it is run: its settings, sizes, schedule,
statistics, decision rule and secondary analyses (:data:`SECTIONS`). Every change made after the
first run is appended to its ``[[changes]]`` list with the date, what changed and why; nothing is
edited silently, since git keeps the history and the chapter prints it.

:func:`load` returns the plan with the SHA-256 of its bytes, the commit that added it (when it was
frozen) and the commit that last changed it (None outside a git checkout, as in an unpacked
archive: the hash still identifies the plan). A result records the hash of the plan it was
computed under, and :func:`check_result` refuses a result computed under another plan, so a
chapter can never show numbers beside a plan that did not produce them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

SECTIONS = ("settings", "sizes", "schedule", "statistics", "decision", "secondary")
CHANGE_FIELDS = ("date", "change", "reason")


class PlanError(ValueError):
    """A plan file that cannot be read as a plan: missing, not TOML, or lacking a section."""


class PlanMismatch(ValueError):
    """A result computed under another plan than the one committed."""


@dataclass(frozen=True)
class Change:
    date: str
    change: str
    reason: str


@dataclass(frozen=True)
class FrozenPlan:
    path: Path
    sha256: str
    content: Mapping[str, Any]
    first_commit: str | None  # the commit that added the file: when the plan was frozen
    last_commit: str | None   # the commit that last changed it
    changes: tuple[Change, ...]

    def section(self, name: str) -> Mapping[str, Any]:
        return self.content[name]


def _freeze(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _git_commits(path: Path) -> list[str]:
    """Commits that touched ``path``, newest first; empty outside a git checkout or without git."""
    git = shutil.which("git")
    if git is None:
        return []
    proc = subprocess.run([git, "log", "--format=%H", "--", path.name], cwd=path.parent,
                          capture_output=True, text=True, timeout=60)
    return proc.stdout.split() if proc.returncode == 0 else []


def load(path: Path | str) -> FrozenPlan:
    """Read the plan at ``path``; raises :class:`PlanError` naming what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PlanError(f"cannot read the plan {path}: {err.strerror}") from None
    try:
        content = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise PlanError(f"the plan {path} is not valid TOML: {err}") from None
    missing = [s for s in SECTIONS if not isinstance(content.get(s), dict)]
    if missing:
        raise PlanError(f"the plan {path} lacks the section(s) {', '.join(missing)}; a plan states "
                        f"every one of {', '.join(SECTIONS)}")
    changes = []
    for i, entry in enumerate(content.get("changes", [])):
        absent = [f for f in CHANGE_FIELDS if not (isinstance(entry, dict) and str(entry.get(f, "")).strip())]
        if absent:
            raise PlanError(f"change {i + 1} of the plan {path} lacks {', '.join(absent)}: every "
                            "change after the first run says when, what and why")
        changes.append(Change(*(str(entry[f]) for f in CHANGE_FIELDS)))
    commits = _git_commits(path.resolve())
    return FrozenPlan(path=path, sha256=hashlib.sha256(raw).hexdigest(), content=_freeze(content),
                      first_commit=commits[-1] if commits else None,
                      last_commit=commits[0] if commits else None, changes=tuple(changes))


def check_result(plan: FrozenPlan, result_sha256: str) -> None:
    """Raise :class:`PlanMismatch` unless the result was computed under ``plan``."""
    if result_sha256 != plan.sha256:
        raise PlanMismatch(f"this result was computed under the plan with SHA-256 {result_sha256[:12]}…, "
                           f"not under {plan.path.name} as committed ({plan.sha256[:12]}…); rerun it")
