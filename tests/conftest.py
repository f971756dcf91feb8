"""Shared test settings: corpora come from the mirror beside the project, never the network."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if "MIDDLEGROUND_DATA_MIRROR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["MIDDLEGROUND_DATA_MIRROR"] = str(SHARED_DATA)
os.environ.setdefault("MIDDLEGROUND_OFFLINE", "1")
# Sweeps (chapters 7-8) cache their runs; tests start from an empty cache of their own so that
# they never depend on, or pollute, data/cache of the working tree.
if "MIDDLEGROUND_SWEEP_CACHE" not in os.environ:
    import tempfile

    os.environ["MIDDLEGROUND_SWEEP_CACHE"] = tempfile.mkdtemp(prefix="middleground-sweeps-")


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """A private, empty data cache, so tests never touch (or depend on) data/cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MIDDLEGROUND_DATA_CACHE", str(cache))
    return cache
