"""Where a sweep's groups of runs are trained: in this process (the default), or on a Dask cluster.

The sweep engine (:func:`middleground.sweeps.cache.run`) hands each group of uncached cells to an
executor as a task, ``task(group) -> results``. A task trains its group *and writes its cells to the
cache itself* (atomically), so whoever finishes a group stores it: a driver killed mid-sweep loses
only the groups still running, and a rerun trains just those.

- :class:`InProcess`: one group after another, here. Nothing to start, nothing to install.
- :class:`Dask`: each group becomes a task on a Dask cluster (``distributed``), retried on another
  worker if its worker dies. ``MIDDLEGROUND_DASK_ADDRESS`` chooses it: ``local`` starts a cluster
  on this machine (loopback only, one process per core, one thread each, no dashboard), any other
  value is a scheduler's address (``tcp://host:8786``) started by hand or by a batch system.
  ``MIDDLEGROUND_DASK_GPUS_PER_TASK`` (say ``0.25``) makes each group ask for that share of a GPU
  (Dask resources: start the workers with ``--resources GPU=1``).

Why Dask and not Ray: with Ray 2.60, a local cluster whose node address was set to 127.0.0.1 still
connected through the host's own address (reported in the issue that asked for this), and every
service the tests start must stay on loopback; Dask's ``LocalCluster(host="127.0.0.1")`` does (the
tests check each socket). Dask is an optional extra: ``pip install -e .[cluster]``.

Threads: a task sets torch's thread count to its worker's thread count (``--nthreads``; one per
worker of the local cluster, which has one worker per core), so workers sharing a machine do not
oversubscribe it; a run's numbers equal the in-process ones when both use the same thread count.

Code: a task checks that its worker runs the code the driver keyed the cache with (the same
:func:`~middleground.sweeps.cache.code_version`), so a worker with a stale install refuses rather
than storing its results under the driver's version.
"""

from __future__ import annotations

import atexit
import os
from typing import Callable, Iterator

from ..base import settings

ADDRESS_ENV = "MIDDLEGROUND_DASK_ADDRESS"
GPU_ENV = "MIDDLEGROUND_DASK_GPUS_PER_TASK"  # e.g. 0.25: four groups share a GPU


class InProcess:
    """Train each group here, in order."""

    name = "in-process"

    def map(self, task: Callable[[list], list], groups: list[list]) -> Iterator[tuple[int, list]]:
        for i, group in enumerate(groups):
            yield i, task(group)

    def close(self) -> None:
        pass


def _with_threads(task, group, threads):
    """Run ``task(group)`` with ``threads`` torch threads (None: the worker's own thread count,
    its share of its machine's cores)."""
    import torch

    if threads is None:
        from distributed import get_worker

        threads = get_worker().state.nthreads
    torch.set_num_threads(max(1, int(threads)))
    from ..gpt import allocator  # a worker is a program of its own: its process-wide policy

    allocator.keep_freed_memory()
    return task(group)


class Dask:
    """Each group a task on a Dask cluster; results as they finish. ``address``: a scheduler
    (``tcp://host:port``), or ``"local"`` to start a loopback-only cluster of ``n_workers``
    single-threaded worker processes here (default: one per core)."""

    name = "dask"

    def __init__(self, address: str = "local", n_workers: int | None = None, retries: int = 0,
                 threads: int | None = None, gpus_per_task: float | None = None):
        # retries: how often a task that *raises* is rerun (a bug or a divergence: by default not
        # at all); a task whose worker dies is rescheduled by Dask anyway (allowed-failures).
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError(f"{ADDRESS_ENV} is set, but Dask is not installed: "
                               "pip install -e .[cluster]") from None
        if gpus_per_task is not None and not 0 < gpus_per_task <= 1:
            raise ValueError(f"gpus_per_task must be in (0, 1]; got {gpus_per_task!r}")
        self.cluster = None
        if address == "local":
            n = n_workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                              else os.cpu_count() or 1)
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None)
            address = self.cluster.scheduler_address
        try:
            self.client = Client(address)
        except BaseException:
            if self.cluster is not None:
                self.cluster.close()
            raise
        self.retries, self.threads = retries, threads
        # Dask's resources: workers started with `--resources GPU=1` run tasks asking for a share
        self.resources = {"GPU": gpus_per_task} if gpus_per_task else None

    def map(self, task: Callable[[list], list], groups: list[list]) -> Iterator[tuple[int, list]]:
        from distributed import as_completed

        futures = {self.client.submit(_with_threads, task, group, self.threads, pure=False,
                                      retries=self.retries, resources=self.resources): i
                   for i, group in enumerate(groups)}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


_shared: dict[tuple, Dask] = {}


def from_environment():
    """:class:`Dask` if ``MIDDLEGROUND_DASK_ADDRESS`` is set, else :class:`InProcess`
    (``MIDDLEGROUND_DASK_GPUS_PER_TASK``: each group asks for that share of a GPU). One cluster
    client per process and setting, reused by every sweep (a chapter runs several), closed at exit."""
    address = settings.dask_address()
    if not address:
        return InProcess()
    gpus = settings.dask_gpus_per_task()
    try:
        share = float(gpus) if gpus else None
    except ValueError:
        raise ValueError(f"{GPU_ENV} must be a number in (0, 1]; got {gpus!r}") from None
    key = (address, share)
    if key not in _shared:
        _shared[key] = Dask(address, gpus_per_task=share)
        atexit.register(_shared[key].close)
    return _shared[key]
