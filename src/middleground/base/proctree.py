"""The processes a process started, and theirs: found through /proc (Linux).

Used to stop a whole tree at once, since some children start sessions of their own (Playwright's
browser), which a process-group kill would miss; the tests use it to watch a launch's sockets.
Elsewhere (no /proc) only the process itself is known.
"""

from __future__ import annotations

from pathlib import Path


def tree(pid: int) -> list[int]:
    """``pid`` and every descendant of it, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:  # the field after the command name, which may itself hold spaces and parentheses
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not a process
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        found.append(p)
        todo += children.get(p, [])
    return found
