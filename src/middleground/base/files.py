"""Writing result files so that an interruption or a concurrent writer never leaves a broken one.

Every result the project writes (run summaries, sweep cells, benchmark figures, chapter times)
goes through :func:`write_text` or :func:`write_json`: the text goes to a temporary file with a
unique name beside the target, is flushed to disk, and is then renamed over the target, which is
atomic on POSIX file systems. Two writers of the same file each rename a whole file; the last wins.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_bytes(path: Path, payload: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, payload, indent: int | None = 2) -> None:
    write_text(path, json.dumps(payload, indent=indent) + "\n")
