"""Writing result files so that an interruption or a concurrent writer never leaves a broken one.

Every result the project writes (checkpoints, run summaries, sweep cells, benchmark figures,
chapter times) goes through :func:`write_bytes`, :func:`write_text` or :func:`write_json`: the
bytes go to a temporary file with a unique name beside the target, are flushed to disk
(``fsync``), and the file is then renamed over the target, which is atomic on POSIX file systems;
the folder is synced too, so the rename itself survives a power cut. Two writers of the same file
each rename a whole file; the last wins. A reader sees the old file or the new one, never a part.

A process killed between creating its temporary file and renaming it (SIGKILL, a power cut)
leaves that file behind. To tell such a file from one still being written, a writer holds an
exclusive ``flock`` on its temporary file for as long as it writes; the kernel drops the lock when
the holder dies, however it dies. The file is locked *before* it gets its ``.partial`` name
(it is created as ``.creating`` and renamed), so :func:`remove_stale_partials` removes exactly the
``.partial`` files it can lock: their writers are gone. This holds across processes, containers
and PID namespaces sharing a folder, with no reliance on host names or process ids. (Where
``fcntl`` is missing, as on Windows, nothing is locked and nothing is cleaned.)
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

PARTIAL_SUFFIX = ".partial"
CREATING_SUFFIX = ".creating"
# A ".creating" file is locked microseconds after it is made; one this old, and unlocked, was left
# by a writer killed in between.
CREATING_GRACE_S = 60.0
# Temporary names of earlier versions of this project (no lock was taken then).
LEGACY_NAMES = ("ckpt.pt.partial",)
LEGACY_SUFFIXES = (".partial.ipynb",)


class WriteError(OSError):
    """A result file that could not be written (full disk, permissions...); names the file."""


class NotARegularFile(WriteError):
    """A target that exists and is not a regular file (a device, FIFO, socket, folder or link):
    renaming over it would replace something that is not ours, so it is refused."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def check_target(path: Path) -> None:
    """Raise :class:`NotARegularFile` naming ``path`` when it exists and is not a regular file.

    An atomic write ends in a rename over the target, which would turn ``/dev/null`` (or a FIFO, a
    socket, a symbolic link) into an ordinary file. Nothing of the project writes such a target, so
    one standing there belongs to someone else."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise WriteError(e.errno, e.strerror or str(e), str(path)) from e
    if not stat.S_ISREG(mode):
        raise NotARegularFile(errno.EEXIST, f"{path} exists and is {_kind(mode)}, not a regular "
                              "file; refusing to replace it", str(path))


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a folder; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _new_temporary(target: Path, extension: str = "") -> tuple[int, Path]:
    """A new temporary file beside ``target``, open (the descriptor is returned) and locked."""
    fd, creating = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=CREATING_SUFFIX)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        path = Path(creating[: -len(CREATING_SUFFIX)] + PARTIAL_SUFFIX + extension)
        os.rename(creating, path)
    except BaseException:
        os.close(fd)
        Path(creating).unlink(missing_ok=True)
        raise
    return fd, path


def write_bytes(path: Path, payload: bytes) -> None:
    path = Path(path)
    check_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _new_temporary(path)
    except OSError as e:
        raise WriteError(e.errno, e.strerror or str(e), str(path)) from e
    try:
        with os.fdopen(fd, "wb") as f:  # closing it, after the rename, drops the lock
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
            check_target(path)  # again: something may have appeared there while we wrote
            os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):  # say which file could not be written
            raise WriteError(e.errno, e.strerror or str(e), str(path)) from e
        raise
    _fsync_folder(path.parent)


@contextmanager
def temporary_file(target: Path, extension: str = ""):
    """A locked temporary file beside ``target`` for a tool that writes the file itself
    (papermill): yields its path, holds the lock until the block ends, never deletes it (the
    caller renames or removes it). ``extension`` is appended (``.ipynb`` for papermill)."""
    target = Path(target)
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, path = _new_temporary(target, extension)
    try:
        yield path
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, payload, indent: int | None = 2) -> None:
    write_text(path, json.dumps(payload, indent=indent) + "\n")


def _is_temporary(name: str) -> bool:
    return ((name.startswith(".") and (name.endswith(PARTIAL_SUFFIX) or f"{PARTIAL_SUFFIX}." in name
                                       or name.endswith(CREATING_SUFFIX)))
            or name in LEGACY_NAMES or name.endswith(LEGACY_SUFFIXES))


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete the temporary files in ``folder`` whose writers are gone: those this process can
    lock (a live writer holds its lock). Returns the paths removed. Files that are not temporary
    files of this project are never touched."""
    folder = Path(folder)
    if fcntl is None or not folder.is_dir():
        return []
    removed = []
    for path in folder.iterdir():
        if not _is_temporary(path.name):
            continue
        try:
            if not path.is_file() or path.is_symlink():
                continue
            if (path.name.endswith(CREATING_SUFFIX)
                    and time.time() - path.stat().st_mtime < CREATING_GRACE_S):
                continue
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # gone meanwhile, or unreadable: not ours to judge
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # locked: its writer is alive
            os.close(fd)
            continue
        try:
            path.unlink(missing_ok=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


class OutputPathError(ValueError):
    """An output location that cannot be written: said before any work starts."""


def check_output_folder(folder: Path, what: str) -> Path:
    """Make sure ``folder`` is (or can be made) a writable folder; create it. ``what`` names the
    setting in the message (``--out_dir``, ``MIDDLEGROUND_SWEEP_CACHE``...)."""
    folder = Path(folder)
    for parent in (folder, *folder.parents):
        if parent.exists() and not parent.is_dir():
            raise OutputPathError(f"{what} {folder}: {parent} is a file, not a folder; "
                                  f"choose another {what} or move that file")
        if parent.exists():
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputPathError(f"{what} {folder} cannot be created ({e.strerror or e}); "
                              f"choose another {what}") from None
    try:  # a real write: permissions, a read-only file system and quotas all show here
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe.")
    except OSError as e:
        raise OutputPathError(f"{what} {folder} is not writable ({e.strerror or e}); fix its "
                              f"permissions or choose another {what}") from None
    os.close(fd)
    os.unlink(probe)
    return folder


def check_output_file(path: Path, what: str) -> Path:
    """Make sure a file can be written at ``path`` (its folder is created): it must not be a
    folder, and its folder must be writable."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{what} {path} is a folder; give a file name, e.g. {path / 'run.json'}")
    # (an existing read-only file is fine: the atomic write replaces it, it does not write into it)
    try:
        check_target(path)
    except NotARegularFile as e:
        raise OutputPathError(f"{what} {e.strerror}; give the name of a regular file") from None
    check_output_folder(path.parent, f"the folder of {what}")
    return path
