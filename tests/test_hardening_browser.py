"""Hardening of the browser check (issue 12): it can never hang CI (a page whose script loops is
stopped and named), and a missing build or a wrong ``MIDDLEGROUND_CHROMIUM`` is one clear line."""

import os
import time

import pytest

from middleground.book import browser_check
from middleground.book.browser_check import BrowserCheckError, BrowserCheckTimeout

LOOPING_PAGE = ("<html lang='en'><head><title>loop</title></head><body><p>a page</p><script>"
                "window.addEventListener('load', () => setTimeout(() => { for (;;) {} }, 50));"
                "</script></body></html>")


def _chromium_processes() -> set[int]:
    """Live browser processes (zombies are dead, waiting for their new parent to reap them)."""
    out = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                name, state = open(f"/proc/{d}/stat").read().rsplit(")", 1)
            except (OSError, ValueError):
                continue
            if "chrom" in name and state.split()[0] != "Z":
                out.add(int(d))
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="counts browser processes through /proc (Linux)")
# It counts every Chromium process on the machine, so it shares the book's xdist group: under
# make test's two workers it never runs while the book's own browser check has one open.
@pytest.mark.xdist_group("book")
def test_a_page_whose_script_never_returns_is_stopped_and_named(tmp_path):
    """Before: ``page.evaluate`` waited forever; CI would hang."""
    (tmp_path / "a.html").write_text("<html lang='en'><head><title>a</title></head><body>fine</body></html>")
    (tmp_path / "b_loop.html").write_text(LOOPING_PAGE)
    before = _chromium_processes()
    t0 = time.monotonic()
    with pytest.raises(BrowserCheckTimeout, match=r"page b_loop.html did not finish within 8 s"):
        browser_check.check(tmp_path, settle_ms=100, page_timeout_s=8)
    assert time.monotonic() - t0 < 60
    time.sleep(0.5)
    assert _chromium_processes() <= before, "the stopped browser left processes behind"


def test_a_missing_build_is_one_line_and_exit_2(tmp_path, capsys):
    """Before: a traceback."""
    assert browser_check.main([str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: no built book at {tmp_path / 'nothing'}")
    assert browser_check.main([str(tmp_path)]) == 2  # a folder without pages
    assert "no HTML pages under" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["missing", "not executable", "a folder"])
def test_a_wrong_chromium_setting_is_an_error_not_ignored(kind, tmp_path, monkeypatch, capsys):
    """Before: a wrong ``MIDDLEGROUND_CHROMIUM`` was silently passed over for another browser."""
    (tmp_path / "a.html").write_text("<html><body>x</body></html>")
    plain = tmp_path / "notes.txt"
    plain.write_text("not a browser")
    plain.chmod(0o644)
    value = {"missing": "/no/such/chromium", "not executable": str(plain), "a folder": str(tmp_path)}[kind]
    monkeypatch.setenv("MIDDLEGROUND_CHROMIUM", value)
    with pytest.raises(BrowserCheckError, match=f"MIDDLEGROUND_CHROMIUM={value} is not an executable file"):
        browser_check.chromium_path()
    assert browser_check.main([str(tmp_path)]) == 2
    assert "MIDDLEGROUND_CHROMIUM" in capsys.readouterr().err
