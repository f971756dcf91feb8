"""The provenance box that closes every chapter: what exactly produced this page.

It records the project's git commit and whether the tree had uncommitted changes, the date, the
profile and parameter overrides, the device, the torch and numpy versions, and the chapter's wall
time (from :func:`middleground.base.profiles.resolve` to the box). A reader can then tell a stale page
from a fresh one, and rerun it with the same settings.
"""

from __future__ import annotations

import html
import platform
import subprocess
import time
from datetime import datetime, timezone

from ..base.paths import PROJECT_ROOT
from ..base.profiles import ChapterConfig


def git_state() -> tuple[str, bool | None]:
    """``(commit, dirty)``; ``("unknown (not a git checkout)", None)`` outside a repository."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
                                timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)", None
    return commit, bool(status.strip())


def stamp() -> dict:
    """Date, commit and dirtiness: what every recorded result file carries."""
    commit, dirty = git_state()
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "commit": commit, "dirty": dirty}


def record(cfg: ChapterConfig, device_name: str | None = None, claims=None) -> dict:
    import numpy
    import torch

    from ..gpt.device import pick

    commit, dirty = git_state()
    return {
        "chapter": cfg.chapter,
        "commit": commit,
        "dirty": dirty,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "profile": cfg.profile,
        "overrides": dict(cfg.overrides),
        "device": device_name or pick().name,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "wall_seconds": time.time() - cfg.started,
        "claims": None if claims is None else {"checked": len(claims.items),
                                               "hold": sum(c.holds for c in claims.items),
                                               "enforced": claims.enforced},
    }


class Box:
    """Displays as a small HTML table in the book, and as plain text in a terminal."""

    def __init__(self, info: dict):
        self.info = info

    def _rows(self) -> list[tuple[str, str]]:
        i = self.info
        tree = {True: "with uncommitted changes", False: "clean", None: "unknown"}[i["dirty"]]
        overrides = ", ".join(f"{k}={v!r}" for k, v in i["overrides"].items()) or "none"
        return [
            ("commit", f"{i['commit'][:12]} ({tree})"),
            ("executed", i["date"]),
            ("profile", i["profile"]),
            ("parameter overrides", overrides),
            ("device", i["device"]),
            ("versions", f"torch {i['torch']}, numpy {i['numpy']}, Python {i['python']}"),
            ("chapter wall time", f"{i['wall_seconds']:.1f} s"),
        ] + ([] if i.get("claims") is None else [("claims in the prose", (
            f"{i['claims']['hold']} of {i['claims']['checked']} hold; "
            + ("enforced" if i["claims"]["enforced"] else "listed, not enforced") + " under this profile"))])

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self._rows())
        return (f'<aside class="mg-provenance"><p><strong>Provenance of this page</strong></p>'
                f"<table>{rows}</table></aside>")

    def __repr__(self) -> str:
        return "\n".join(f"{k:>20}: {v}" for k, v in self._rows())


def box(cfg: ChapterConfig, device_name: str | None = None, claims=None) -> Box:
    """The provenance box; with the chapter's :class:`~.claims.Claims`, also how many held."""
    return Box(record(cfg, device_name, claims))


def run_times(chapter: str) -> dict[str, str]:
    """The chapter's recorded wall time under each profile, as the run box states it: from
    ``benchmarks/results/chapter_times_<profile>.json`` (written by ``runner --times``, the same
    files the reproduction appendix tabulates), or "not recorded"."""
    import json

    out = {}
    for profile in ("quick", "full", "gpu"):
        path = PROJECT_ROOT / "benchmarks" / "results" / f"chapter_times_{profile}.json"
        seconds = json.loads(path.read_text())["chapters"].get(chapter) if path.exists() else None
        out[f"run_time_{profile}"] = ("not recorded" if seconds is None else
                                      f"about {seconds:.0f} s" if seconds < 120 else
                                      f"about {seconds / 60:.0f} minutes")
    return out
