"""Shared test settings.

Corpora come from the mirror beside the project (``../shared/data``) when it exists and
``MIDDLEGROUND_DATA_MIRROR`` is absent from the environment (set, even to an empty string, it is
left as the user gave it), else from the data layer's download. Downloads are disabled only when
the user sets ``MIDDLEGROUND_OFFLINE=1``.
"""

import os
from pathlib import Path

import pytest

# Under pytest-xdist (make test: one worker per core) each worker gets its share of the cores for
# torch and the chapter kernels it starts, never all of them each: on a busy 2-core machine two
# threads per process ran many times slower than one. Set before anything imports torch.
if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // max(1, _workers)))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if "MIDDLEGROUND_DATA_MIRROR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["MIDDLEGROUND_DATA_MIRROR"] = str(SHARED_DATA)
# Sweeps cache their runs; tests start from an empty cache of their own so that
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
