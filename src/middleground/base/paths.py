"""Where the project lives: its root holds ``_toc.yml``, ``chapters/``, ``data/`` and ``src/``."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
