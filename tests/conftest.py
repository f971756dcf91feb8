"""Shared test settings: corpora come from the mirror beside the project, never the network."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if "MIDDLEGROUND_DATA_MIRROR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["MIDDLEGROUND_DATA_MIRROR"] = str(SHARED_DATA)
os.environ.setdefault("MIDDLEGROUND_OFFLINE", "1")


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """A private, empty data cache, so tests never touch (or depend on) data/cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MIDDLEGROUND_DATA_CACHE", str(cache))
    return cache
