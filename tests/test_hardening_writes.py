"""Issue 27, defect 1: the atomic writer never replaces what is not a regular file.

Before the fix, ``runner calculus --times /dev/null`` run as root replaced the machine's
``/dev/null`` with an ordinary file, because an atomic write ends in a rename over its target. A
FIFO, a socket, a symbolic link or a folder stands in for the device here, so the test needs no
root and harms nothing (checked against 542eb30: the FIFO and the link became regular files).
"""

import os
import socket
import stat

import pytest

from middleground.base.files import (NotARegularFile, OutputPathError, check_output_file,
                                     temporary_file, write_json, write_text)
from middleground.book import runner


def _fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def _socket(tmp_path):
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the socket file stays
    return path


def _link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("theirs")
    path = tmp_path / "link.txt"
    path.symlink_to(real)
    return path


def _folder(tmp_path):
    path = tmp_path / "folder"
    path.mkdir()
    return path


MAKERS = {"FIFO": _fifo, "socket": _socket, "symbolic link": _link, "folder": _folder}


@pytest.mark.parametrize("kind", MAKERS)
def test_the_writer_refuses_a_target_that_is_not_a_regular_file(kind, tmp_path):
    target = MAKERS[kind](tmp_path)
    before = os.lstat(target)
    for write in (lambda: write_text(target, "x"), lambda: write_json(target, {"a": 1})):
        with pytest.raises(NotARegularFile, match=str(target)) as e:
            write()
        assert kind.split()[-1] in str(e.value)
    with pytest.raises(NotARegularFile):
        with temporary_file(target, ".ipynb"):
            pass
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    # and nothing temporary was left beside it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_regular_file_is_still_replaced_atomically(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    write_json(target, {"new": True})
    assert '"new": true' in target.read_text()
    assert stat.S_ISREG(os.lstat(target).st_mode)


def test_check_output_file_names_the_setting_and_the_kind(tmp_path):
    with pytest.raises(OutputPathError, match=r"--times .*pipe exists and is a FIFO"):
        check_output_file(_fifo(tmp_path), "--times")


def test_the_runner_refuses_a_device_as_times_file_before_any_kernel(tmp_path, capsys):
    """The reported case itself: ``--times /dev/null`` (a character device) exits 2 naming it."""
    before = os.stat("/dev/null")
    code = runner.main(["calculus", "--out", str(tmp_path / "out"), "--times", "/dev/null"])
    err = capsys.readouterr().err
    assert code == 2 and "--times" in err and "character device" in err
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
