"""Real processes that start in milliseconds, for the fault tests that kill them (SIGKILL).

A fork server imports torch and the given modules once; every process is then forked from it, so
a killed trainer or sweep can be restarted twenty times in a test without paying the second an
import of torch takes each time. (Forking the test process itself instead would be unsafe once
torch's thread pools are running in it.)
"""

import multiprocessing
import os
import time
from contextlib import contextmanager
from multiprocessing import forkserver
from pathlib import Path

import torch

# Building AdamW imports much of torch lazily (about 1.4 s here): done once when the server imports
# this module, so no forked process pays for it.
torch.optim.AdamW([torch.zeros(1, requires_grad=True)], fused=True)


@contextmanager
def tests_on_pythonpath():
    """The tests folder on PYTHONPATH while processes started in the block start (they import
    helper modules such as this one by name); the variable is restored afterwards."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), saved]))
    try:
        yield
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def context(*preload: str):
    """The fork-server context, with ``preload`` (module names) imported in the server. Python
    3.11's fork server ignores the parent's sys.path, so the tests folder goes on its PYTHONPATH;
    its start-up is waited for here, so it is never timed as a process's own."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", __name__, *preload])
    with tests_on_pythonpath():
        forkserver.ensure_running()
        warm = ctx.Process(target=time.sleep, args=(0,))  # starts once the server has preloaded
        warm.start()
        warm.join()
    return ctx
