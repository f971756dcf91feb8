"""Writing result files so that an interruption never leaves a half-written one.

Every result the project writes (run summaries, sweep cells, benchmark figures, chapter times)
goes through :func:`write_json`: the text is written to ``<name>.partial`` beside the target and
then renamed over it, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(path: Path, payload, indent: int | None = 2) -> None:
    write_text(path, json.dumps(payload, indent=indent) + "\n")
