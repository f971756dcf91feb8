"""Sweeps on a real Dask cluster (issue 15): a local cluster of two single-threaded worker
processes, on loopback only, trains a small sweep and gets exactly the numbers of the in-process
run (one torch thread per cell in both paths); a worker killed mid-sweep is replaced and the sweep
still completes with the same numbers; a driver killed mid-sweep leaves only whole cells and a
rerun finishes the rest; a cell already cached is never sent out."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from distributed import LocalCluster

import forkserver
import tiny_sweep
from middleground.base import proctree
from middleground.sweeps import cache as sweep
from middleground.sweeps import executors

TESTS = Path(__file__).parent
LOOPBACK = ("127.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "::1")


@pytest.fixture(scope="module")
def cluster():
    with forkserver.tests_on_pythonpath():  # the workers import tiny_sweep by name
        local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address=None)
    yield local
    local.close()


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    """The reference: the whole sweep here, one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return tiny_sweep.run_sweep(tmp_path_factory.mktemp("in-process"), executor=executors.InProcess())
    finally:
        torch.set_num_threads(threads)


def _dask(cluster):
    return executors.Dask(cluster.scheduler_address)  # a client of the test's cluster


def _tcp_sockets(pids: set[int]) -> list[tuple[str, str, str]]:
    out = subprocess.run(["ss", "-tanpH"], capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 6 and any(f"pid={p}," in fields[-1] for p in pids):
            rows.append((fields[0], fields[3], fields[4]))
    return rows


def test_a_sweep_on_the_cluster_gives_the_in_process_numbers_on_loopback_only(cluster, in_process, tmp_path):
    executor = _dask(cluster)
    seen, done = [], threading.Event()

    def watch():
        while not done.is_set():
            seen.extend(_tcp_sockets(set(proctree.tree(os.getpid()))))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results, counts = tiny_sweep.run_sweep(tmp_path, executor=executor)
    finally:
        done.set()
        watcher.join()
        executor.close()
    assert results == in_process[0]  # exactly: same seeds, same code, one thread per cell
    assert counts["executed"] == len(tiny_sweep.tiny_cells()) and counts["groups"] == 8
    names = {p.name for p in (tmp_path / tiny_sweep.NAME).glob("*.json")}
    assert len(names) == len(tiny_sweep.tiny_cells())
    # every socket of the scheduler (this process) and of the workers and their nannies
    assert seen, "no socket was seen"
    print(f"{len(set(seen))} distinct sockets seen, {sum(s == 'LISTEN' for s, _, _ in set(seen))} listening; "
          f"all on loopback")
    for state, local, peer in seen:
        assert local.rsplit(":", 1)[0] in LOOPBACK, (state, local, peer)
        assert state == "LISTEN" or peer.rsplit(":", 1)[0] in LOOPBACK, (state, local, peer)


def test_a_worker_killed_mid_sweep_is_replaced_and_the_numbers_are_the_same(cluster, in_process, tmp_path):
    executor = _dask(cluster)
    pids = list(executor.client.run(os.getpid).values())
    folder = tmp_path / tiny_sweep.NAME
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(
        result=tiny_sweep.run_sweep(tmp_path, executor=executor)))
    runner.start()
    deadline = time.monotonic() + 120
    while not (folder.exists() and list(folder.glob("*.json"))) and time.monotonic() < deadline:
        time.sleep(0.02)
    stored_at_kill = len(list(folder.glob("*.json")))
    os.kill(pids[0], signal.SIGKILL)  # mid-sweep: one group stored, the others not yet
    runner.join(timeout=300)
    print(f"worker {pids[0]} killed with {stored_at_kill} of {len(tiny_sweep.tiny_cells())} cells stored")
    assert stored_at_kill < len(tiny_sweep.tiny_cells())
    executor.close()
    assert "result" in outcome, "the sweep did not complete after a worker was killed"
    assert outcome["result"][0] == in_process[0]


_DRIVER = """\
import sys
sys.path.insert(0, {tests!r})
import tiny_sweep
tiny_sweep.run_sweep(sys.argv[1])  # on the cluster that MIDDLEGROUND_DASK_ADDRESS names
"""


def test_a_driver_killed_mid_sweep_leaves_whole_cells_and_a_rerun_finishes(cluster, in_process, tmp_path):
    env = {**os.environ, executors.ADDRESS_ENV: cluster.scheduler_address,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    driver = subprocess.Popen([sys.executable, "-c", _DRIVER.format(tests=str(TESTS)), str(tmp_path)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    folder = tmp_path / tiny_sweep.NAME
    deadline = time.monotonic() + 120
    while not (folder.exists() and list(folder.glob("*.json"))) and time.monotonic() < deadline:
        time.sleep(0.02)
    driver.kill()
    driver.wait()
    version = sweep.code_version(tiny_sweep.trainer_file())
    by_key = {sweep.cell_key(c, version): c for c in tiny_sweep.tiny_cells()}
    time.sleep(1.0)  # tasks already running may still store their cells: each whole, or none
    stored = list(folder.glob("*.json"))
    assert 0 < len(stored) < len(by_key), len(stored)
    for f in stored:
        assert sweep.read_cell(f, by_key[f.stem], version) is not None
    executor = _dask(cluster)
    try:
        results, counts = tiny_sweep.run_sweep(tmp_path, executor=executor)
    finally:
        executor.close()
    assert results == in_process[0] and counts["reused"] >= len(stored)


def test_a_cached_cell_is_never_sent_out(in_process, tmp_path):
    class Recording(executors.InProcess):
        def __init__(self):
            self.groups = []

        def map(self, task, groups):
            self.groups.extend(groups)
            return super().map(task, groups)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cells = tiny_sweep.tiny_cells(n_groups=2)
        first = Recording()
        tiny_sweep.run_sweep(tmp_path, cells=cells, executor=first)
        assert len(first.groups) == 2
        again = Recording()
        results, counts = tiny_sweep.run_sweep(tmp_path, cells=cells, executor=again)
    finally:
        torch.set_num_threads(threads)
    assert again.groups == [] and counts["executed"] == 0 and results == in_process[0][:len(cells)]


def test_a_worker_running_other_code_refuses_to_store(tmp_path):
    version = sweep.code_version(tiny_sweep.trainer_file())
    with pytest.raises(RuntimeError, match="this worker runs other code than the sweep's driver"):
        sweep.train_and_store(tiny_sweep.train_tiny, str(tmp_path), "0" * 64,
                              [("k", tiny_sweep.tiny_cells()[0])])
    assert not list(tmp_path.iterdir()) and version != "0" * 64


def test_the_environment_chooses_the_executor(monkeypatch):
    monkeypatch.delenv(executors.ADDRESS_ENV, raising=False)
    assert isinstance(executors.from_environment(), executors.InProcess)


def test_a_bad_gpu_share_is_refused(monkeypatch):
    monkeypatch.setenv(executors.ADDRESS_ENV, "tcp://127.0.0.1:1")
    monkeypatch.setenv(executors.GPU_ENV, "half")
    with pytest.raises(ValueError, match="MIDDLEGROUND_DASK_GPUS_PER_TASK must be a number in"):
        executors.from_environment()
