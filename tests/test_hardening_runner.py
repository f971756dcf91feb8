"""Hardening of the chapter runner (issue 12): ``-p`` values read by each parameter's declared
type, NaN refused, every chapter's parameters and every output location checked before the first
kernel, and an interrupted run (SIGTERM) stops its kernel and leaves no temporary notebook."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from middleground.book import runner
from middleground.base.profiles import ParameterError, parameters, parse_overrides


def _main(argv, tmp_path, capsys):
    code = runner.main(argv + ["--out", str(tmp_path / "out")])
    return code, capsys.readouterr().err


# --- 9. values read by the declared type ----------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["intro", "-p", "profile", "full"], "'profile' is not a chapter parameter: choose it with --profile"),
    (["intro", "-p", "chapter", "x"], "unknown parameter(s) 'chapter' for chapter 'intro'"),
    (["intro", "-p", "steps", "1:20"], "parameter 'steps' must be int in [1, 100000]; got '1:20', not a whole number"),
    (["intro", "-p", "steps", "2.5"], "got '2.5', not a whole number"),
    (["intro", "-p", "steps", "1e3"], "got '1e3', not a whole number"),
    (["intro", "-p", "steps", "5", "-p", "steps", "6"], "parameter(s) 'steps' given more than once"),
    (["backprop", "-p", "learning_rate", ".nan"], "parameter 'learning_rate' must be float in [1e-06, 1.0]; got '.nan', not a number"),
    (["backprop", "-p", "learning_rate", "nan"], "parameter 'learning_rate' must be float in [1e-06, 1.0]; got nan"),
    (["backprop", "-p", "learning_rate", "inf"], "parameter 'learning_rate' must be float in [1e-06, 1.0]; got inf"),
    (["training", "-p", "compile", "maybe"], "parameter 'compile' must be one of False, True; got 'maybe'"),
    # every selected chapter is checked before the first one runs: matmul has no 'steps'
    (["intro", "matmul", "-p", "steps", "5"], "unknown parameter(s) 'steps' for chapter 'matmul'"),
])
def test_bad_parameters_exit_2_before_any_kernel(argv, expected, tmp_path, capsys):
    """Before: ``-p profile full`` and ``-p chapter x`` crashed with TypeError, ``1:20`` was read
    as 80 (YAML's base 60), and ``-p learning_rate .nan`` reached the kernel."""
    code, err = _main(argv, tmp_path, capsys)
    assert code == 2 and expected in err, err
    assert not (tmp_path / "out").exists()


def test_values_are_read_by_the_declared_type():
    """Before: ``1e-3`` was refused as a string (YAML 1.1 reads it so)."""
    assert parse_overrides("backprop", [("learning_rate", "1e-3")]) == {"learning_rate": 1e-3}
    assert parse_overrides("backprop", [("learning_rate", "1")]) == {"learning_rate": 1.0}
    assert parse_overrides("intro", [("steps", "1_000"), ("seed", "+7")]) == {"steps": 1000, "seed": 7}
    assert parse_overrides("training", [("compile", "True")]) == {"compile": True}
    assert parse_overrides("capabilities", []) == {}


def test_every_float_parameter_refuses_non_finite_values():
    floats = [(chapter, name) for chapter in ("backprop", "training", "natural", "ladder")
              for name, p in parameters(chapter).items() if p.kind is float]
    assert floats
    for chapter, name in floats:
        for text in ("nan", "inf", "-inf"):
            with pytest.raises(ParameterError, match=f"parameter '{name}' must be float"):
                parse_overrides(chapter, [(name, text)])


# --- 5. output locations ------------------------------------------------------------------------------

def test_output_locations_are_checked_before_any_kernel(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert runner.main(["intro", "--out", str(blocker)]) == 2
    assert "--out" in capsys.readouterr().err
    assert runner.main(["intro", "--out", str(tmp_path / "out"), "--times", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--times" in err and "is a folder" in err


# --- 12. an interrupted run ----------------------------------------------------------------------------

_SLEEPING_CHAPTER = """\
---
{front}
---

```{{code-cell}} ipython3
:tags: [parameters]
profile = None
```

```{{code-cell}} ipython3
import os, pathlib, time
pathlib.Path({marker!r} + '.tmp').write_text(str(os.getpid()))
os.replace({marker!r} + '.tmp', {marker!r})  # whole or absent: the test polls for it
time.sleep(120)
```
"""

_RUN_ONE = """\
import sys
from pathlib import Path
from middleground.book import runner
runner.chapters_in_toc = lambda toc=None: [Path(sys.argv[1])]
sys.exit(runner.main(["intro", "--profile", "quick", "--out", sys.argv[2]]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")  # a zombie is gone


def test_sigterm_stops_the_kernel_and_leaves_no_temporary_notebook(tmp_path):
    """Before: SIGTERM left ``<chapter>.partial.ipynb`` behind (and the kernel running)."""
    front = runner.ROOT.joinpath("chapters", "intro.md").read_text().split("---")[1].strip("\n")
    marker = tmp_path / "kernel.pid"
    chapter = tmp_path / "intro.md"  # stem "intro", so its parameters validate
    chapter.write_text(_SLEEPING_CHAPTER.format(front=front, marker=str(marker)))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", _RUN_ONE, str(chapter), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), proc.communicate()
    kernel = int(marker.read_text())
    assert list(out.glob("*.partial*")), "papermill writes its temporary notebook while it runs"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted in chapter 'intro'" in err
    assert not list(out.glob("*.partial*")) and not (out / "intro.ipynb").exists()
    deadline = time.monotonic() + 20
    while _alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(kernel), "the kernel outlived the runner"


def test_temporary_notebooks_of_a_killed_run_are_removed_by_the_next(tmp_path):
    front = runner.ROOT.joinpath("chapters", "intro.md").read_text().split("---")[1].strip("\n")
    chapter = tmp_path / "intro.md"
    chapter.write_text(f"---\n{front}\n---\n\n```{{code-cell}} ipython3\n:tags: [parameters]\n"
                       "profile = None\n```\n\n```{code-cell} ipython3\nx = 1\n```\n")
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".intro.ipynb.k3j2.partial.ipynb"
    legacy = out / "intro.partial.ipynb"  # the name an older runner used
    for p in (stale, legacy):
        p.write_text("{}")
    runner.run_chapter(chapter, "quick", {}, out)
    assert not stale.exists() and not legacy.exists() and (out / "intro.ipynb").is_file()
    assert not list(out.glob("*.partial*"))
