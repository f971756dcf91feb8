"""Writing result files so that an interruption or a concurrent writer never leaves a broken one.

Every result the project writes (checkpoints, run summaries, sweep cells, benchmark figures,
chapter times) goes through :func:`write_bytes`, :func:`write_text` or :func:`write_json`: the
bytes go to a temporary file with a unique name beside the target, are flushed to disk
(``fsync``), and the file is then renamed over the target, which is atomic on POSIX file systems;
the folder is synced too, so the rename itself survives a power cut. Two writers of the same file
each rename a whole file; the last wins. A reader sees the old file or the new one, never a part.

A process killed between creating its temporary file and renaming it (SIGKILL, a power cut)
leaves that file behind. Its name says which process wrote it,
``.<target>.<host>-<pid>.<random>.partial`` (:func:`temporary_path` may add an extension), so :func:`remove_stale_partials` can delete exactly
the ones whose writer is gone, and never a file another live process is still writing.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def _owner_tag() -> str:
    host = socket.gethostname().replace(".", "_").replace("-", "_") or "host"
    return f"{host}-{os.getpid()}"


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


def write_bytes(path: Path, payload: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_owner_tag()}.",
                               suffix=PARTIAL_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename is None:  # say which file could not be written
            raise OSError(e.errno, e.strerror or str(e), str(path)) from e
        raise
    _fsync_folder(path.parent)


def temporary_path(target: Path, extension: str = "") -> Path:
    """A new, empty temporary file beside ``target``, for a writer that cannot use
    :func:`write_bytes` (a tool writing the file itself): named like write_bytes's own, plus
    ``extension`` (``.ipynb`` for papermill), so :func:`remove_stale_partials` knows its writer."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{_owner_tag()}.",
                               suffix=PARTIAL_SUFFIX + extension)
    os.close(fd)
    return Path(tmp)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, payload, indent: int | None = 2) -> None:
    write_text(path, json.dumps(payload, indent=indent) + "\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete the temporary files in ``folder`` left by writers on this host that no longer run.

    Files of live writers, of other hosts (a shared file system) and anything not named by
    :func:`write_bytes` are left alone. Returns the paths removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    host = _owner_tag().rsplit("-", 1)[0]
    removed = []
    for path in folder.glob(f".*{PARTIAL_SUFFIX}*"):
        # .<target>.<host>-<pid>.<random>.partial[<extension>]; the target may contain dots
        stem, _, extension = path.name.rpartition(PARTIAL_SUFFIX)
        parts = stem.split(".")
        if len(parts) < 4 or (extension and (not extension.startswith(".") or "." in extension[1:])):
            continue
        owner_host, _, pid = parts[-2].rpartition("-")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
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
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"{what} {path} exists and is not writable; choose another {what}")
    check_output_folder(path.parent, f"the folder of {what}")
    return path
