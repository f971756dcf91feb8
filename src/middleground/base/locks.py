"""One writer per folder: an exclusive, advisory lock that dies with its holder.

A trainer holds the lock of its ``out_dir`` for as long as it runs, so a second trainer pointed at
the same folder stops at once with a message saying who holds it, instead of both overwriting one
checkpoint. The lock is ``flock`` on a file ``.lock`` in the folder: the kernel releases it when the
holder exits, however it exits (SIGKILL and crashes included), so a stale lock cannot block the
next run. The file itself stays (removing it would race with the next holder); it holds the
holder's host and pid, for the message.

The lock is re-entrant within one thread: the command line takes it as soon as its arguments are
checked (so a second trainer stops before loading anything) and the training function it calls
takes it again without blocking itself. Another thread of the same process is refused like any
other holder.

What it does not do: lock across machines on network file systems whose ``flock`` is local only
(some NFS setups). It is POSIX only; where ``fcntl`` is missing, the lock is not taken.
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here
    fcntl = None

LOCK_NAME = ".lock"
_held: dict[str, int] = {}  # folder -> the thread of this process that holds its lock
_held_guard = threading.Lock()


class FolderBusy(RuntimeError):
    """The folder is locked by another live process."""


@contextmanager
def exclusive(folder: Path, what: str = "folder"):
    """Hold the lock of ``folder`` (created if needed) for the ``with`` block, or raise
    :class:`FolderBusy` at once, naming the holder, if another process holds it."""
    folder = Path(folder)
    path = folder / LOCK_NAME
    key, me = os.path.realpath(folder), threading.get_ident()
    with _held_guard:
        reentered = _held.get(key) == me
    if reentered:  # this thread holds it already (an outer block releases it)
        yield path
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                raise FolderBusy(f"{what} {folder} is in use by {holder}; wait for it to finish "
                                 f"or choose another {what}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        with _held_guard:
            _held[key] = me
        try:
            yield path
        finally:
            with _held_guard:
                del _held[key]
    finally:
        os.close(fd)  # closing the descriptor releases the lock
