"""Where the project and its code live, and a fingerprint of code files.

The project root holds ``_toc.yml``, ``chapters/``, ``data/`` and ``src/``. The fingerprint (a
SHA-256 over files' relative names and bytes) is how the sweep cache and the book's render tell
whether the code behind a result has changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_DIR.parents[1]


def fingerprint(files, root: Path) -> str:
    """SHA-256 over ``files`` in sorted order: each one's path relative to ``root`` (or its name,
    outside it) and its bytes."""
    h = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        h.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
        h.update(path.read_bytes())
    return h.hexdigest()
