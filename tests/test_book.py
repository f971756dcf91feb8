"""The strict offline build, and the built pages checked in a real browser with no network."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from middleground.book import browser_check
from middleground.book.runner import chapters_in_toc, is_notebook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ, MIDDLEGROUND_PROFILE="quick")
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(ROOT), "--all", "-W", "-n", "--keep-going",
                           "--path-output", str(out)], env=env, capture_output=True, text=True)
    return proc, out / "_build" / "html"


def test_strict_build_passes_with_no_warnings(built_book):
    proc, html = built_book
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "WARNING" not in log.replace("[IPKernelApp] WARNING", ""), log[-4000:]
    assert (html / "index.html").exists()


def test_no_page_references_a_remote_script_or_stylesheet(built_book):
    _, html = built_book
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for needle in ('src="http', "src='http", 'href="https://cdn', "cdn.jsdelivr", "unpkg.com/vega"):
            assert needle not in text, f"{page.relative_to(html)} loads {needle}..."


def test_pages_render_offline_in_chromium(built_book):
    _, html = built_book
    reports = browser_check.check(html)
    assert browser_check.problems(reports) == []
    by_page = {r.page: r for r in reports}
    chapters = [p for p in chapters_in_toc() if is_notebook(p)]
    for path in chapters:
        report = by_page[f"chapters/{path.stem}.html"]
        assert report.provenance, f"{path.stem} lacks its provenance box"
        # every chart the chapter builds must reach the page (a chart that is not the last
        # expression of its cell is silently not displayed)
        built = path.read_text().count("charts.finish(")
        assert report.charts == built, f"{path.stem}: {built} chart(s) built, {report.charts} on the page"
    intro = by_page["chapters/intro.html"]
    assert intro.charts >= 1 and intro.charts_drawn == intro.charts
    assert intro.math >= 1 and intro.math_rendered >= intro.math


def test_browser_check_catches_a_broken_page(tmp_path):
    """The check itself must be able to fail: a page with a JS error, an undrawn chart, and a
    remote script."""
    (tmp_path / "bad.html").write_text(
        "<html><body><div class='mg-chart'></div><span class='math'>x</span>"
        "<script src='https://cdn.example.com/x.js'></script><script>undefinedFunction();</script>"
        "</body></html>")
    problems = browser_check.problems(browser_check.check(tmp_path, settle_ms=200))
    text = "\n".join(problems)
    assert "1 of 1 chart(s) not drawn" in text
    assert "math not rendered" in text
    assert "undefinedFunction" in text
    assert "network request blocked: https://cdn.example.com/x.js" in text
