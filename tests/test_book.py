"""The whole book as CI builds it: every chapter executed once through papermill (quick profile),
the executed notebooks rendered strictly with execution off, and the pages checked in a real
browser with no network."""

import json
import os
import shutil
from collections import Counter
from dataclasses import asdict

import pytest

from middleground.book import browser_check, runner
from middleground.book.runner import StaleNotebook, chapters_in_toc, is_notebook
from middleground.experiments import plan
from middleground.gpt import training_log

NOTEBOOKS = [p for p in chapters_in_toc() if is_notebook(p)]
# One build for every test here: under pytest-xdist the module runs in one worker (make test uses
# --dist loadgroup), so the module-scoped build below is made once, not once per worker.
pytestmark = pytest.mark.xdist_group("book")


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    executed = tmp_path_factory.mktemp("executed")
    site = tmp_path_factory.mktemp("site")
    trainings = tmp_path_factory.getbasetemp() / "trainings.jsonl"  # read by build_trainings
    # The kernels inherit both: every training is logged, and the build starts from an empty sweep
    # cache of its own, so that it trains (and logs) every run of its plan.
    settings = {training_log.LOG_ENV: str(trainings),
                "MIDDLEGROUND_SWEEP_CACHE": str(tmp_path_factory.mktemp("sweeps"))}
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    try:
        code = runner.main(["--profile", "quick", "--book", "--out", str(executed), "--html-root", str(site)])
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.update({k: v})
    log_file = site / "_build" / "render.log"
    log = log_file.read_text() if log_file.exists() else ""
    return code, executed, site / "_build" / "html", log


def test_every_chapter_executes_once_through_papermill(built_book, capsys):
    code, executed, _, _ = built_book
    assert code == 0
    for path in NOTEBOOKS:
        nb = json.loads((executed / f"{path.stem}.ipynb").read_text())
        injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and 'profile = "quick"' in "".join(injected[0]["source"])
        errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors
        meta = nb["metadata"]["middleground"]
        assert meta["source_sha256"] == runner.sha256_of(path) and meta["profile"] == "quick"
    assert not list(executed.glob("*.partial.ipynb"))


@pytest.fixture(scope="module")
def build_trainings(built_book, tmp_path_factory):
    """The trainings the quick build started, as its trainers logged them."""
    path = tmp_path_factory.getbasetemp() / "trainings.jsonl"
    return training_log.read(path) if path.exists() else []


def test_the_plan_the_appendix_shows_is_what_the_build_trained(built_book, build_trainings):
    """The quick build, from an empty sweep cache, trains exactly the runs its plan lists: for every
    model, windows per step and steps, the runs the trainers logged (members of ensembles counted)
    equal the runs of the plan's rows. Ensembles may be grouped otherwise than in the plan (the
    introduction, which runs first, trains the size ladder before chapter knob), so runs are
    compared, not groups."""
    assert built_book[0] == 0

    def key(model: dict, batch: int, steps: int) -> tuple:
        return json.dumps(model, sort_keys=True), batch, steps

    planned, trained = Counter(), Counter()
    for rows in plan.book("quick").values():
        for r in rows:
            planned[key(asdict(r.model), r.batch_size, r.steps)] += r.runs
    for e in build_trainings:
        trained[key(e["model"], e["batch_size"], e["steps"])] += e["members"]
    assert trained and trained == planned, (trained - planned, planned - trained)


def test_the_strict_render_passes_with_no_warnings_and_executes_nothing(built_book):
    code, _, html, log = built_book
    assert code == 0, log[-4000:]
    assert "WARNING" not in log.replace("[IPKernelApp] WARNING", ""), log[-4000:]
    assert "Executing" not in log  # the render runs no cell: papermill already did
    assert (html / "index.html").exists()


def test_a_stale_executed_notebook_is_refused(built_book, tmp_path):
    _, executed, _, _ = built_book
    stale = tmp_path / "executed"
    shutil.copytree(executed, stale)
    nb_path = stale / "matmul.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["metadata"]["middleground"]["source_sha256"] = "0" * 64  # as if chapters/matmul.md changed
    nb_path.write_text(json.dumps(nb))
    with pytest.raises(StaleNotebook, match="'matmul'.*another version of matmul.md"):
        runner.render(stale, tmp_path / "site")
    nb["metadata"]["middleground"]["source_sha256"] = runner.sha256_of(
        next(p for p in NOTEBOOKS if p.stem == "matmul"))
    nb["metadata"]["middleground"]["package_sha256"] = "1" * 64  # as if src/ changed since
    nb_path.write_text(json.dumps(nb))
    with pytest.raises(StaleNotebook, match="other code in src/middleground"):
        runner.render(stale, tmp_path / "site")
    (stale / "intro.ipynb").unlink()
    with pytest.raises(StaleNotebook, match="'intro' has no executed notebook"):
        runner.render(stale, tmp_path / "site")


def test_no_page_references_a_remote_script_or_stylesheet(built_book):
    _, _, html, _ = built_book
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for needle in ('src="http', "src='http", 'href="https://cdn', "cdn.jsdelivr", "unpkg.com/vega"):
            assert needle not in text, f"{page.relative_to(html)} loads {needle}..."


def test_markdown_tables_printed_by_cells_render_as_tables(built_book):
    """A results table printed as Markdown must become a <table>, not a paragraph of pipes."""
    _, _, html, _ = built_book
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<p>| " not in text and "<p>|" not in text, f"{page.relative_to(html)}: a table left as text"


def _figure_functions(chapter: str) -> list[str]:
    """The public functions of book/figures/<chapter>.py that return a chart."""
    import ast

    path = runner.ROOT / "src" / "middleground" / "book" / "figures" / f"{chapter}.py"
    if not path.is_file():
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f.name for f in tree.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")
            and "charts.finish(" in ast.get_source_segment(path.read_text(encoding="utf-8"), f)]


def _charts_displayed(notebook) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(any(k.startswith("application/vnd.vegalite") for k in o.get("data", {}))
               for c in cells for o in c.get("outputs", []))


def test_pages_render_offline_in_chromium(built_book):
    _, executed, html, _ = built_book
    reports = browser_check.check(html)
    assert browser_check.problems(reports) == []
    by_page = {r.page: r for r in reports}
    for path in NOTEBOOKS:
        report = by_page[f"chapters/{path.stem}.html"]
        assert report.provenance, f"{path.stem} lacks its provenance box"
        # every chart the chapter's figures build must reach the page (a chart that is not the
        # last expression of its cell is silently not displayed): each figure function of
        # book/figures/<chapter>.py is called by the chapter, and every chart its kernel displayed
        # is drawn on the page
        for name in _figure_functions(path.stem):
            assert f"figures.{name}(" in path.read_text(), f"{path.stem}: figure {name} never shown"
        built = _charts_displayed(executed / f"{path.stem}.ipynb")
        assert report.charts == built, f"{path.stem}: {built} chart(s) displayed, {report.charts} on the page"
        # the download menu serves the executed notebook (with outputs) and the MyST source, offline
        nb = report.downloads.get(f"{path.stem}.ipynb", "")
        assert nb.startswith("200 notebook") and not nb.endswith(" 0 outputs"), (path.stem, report.downloads)
        assert report.downloads.get(f"{path.stem}.md", "").startswith("200"), (path.stem, report.downloads)
        assert report.accessibility == [] and report.charts_too_wide == 0
    intro = by_page["chapters/intro.html"]
    assert intro.charts >= 1 and intro.charts_drawn == intro.charts
    assert intro.math >= 1 and intro.math_rendered >= intro.math


def test_browser_check_catches_a_broken_page(tmp_path):
    """The check itself must be able to fail: a page with a JS error, an undrawn chart, and a
    remote script."""
    (tmp_path / "bad.html").write_text(
        "<html lang='en'><head><title>bad</title></head><body><div class='mg-chart'></div><span class='math'>x</span>"
        "<details><summary></summary>hidden</details><img src='missing.png'>"
        "<script src='https://cdn.example.com/x.js'></script><script>undefinedFunction();</script>"
        "</body></html>")
    problems = browser_check.problems(browser_check.check(tmp_path, settle_ms=200))
    text = "\n".join(problems)
    assert "1 of 1 chart(s) not drawn" in text
    assert "math not rendered" in text
    assert "undefinedFunction" in text
    assert "network request blocked: https://cdn.example.com/x.js" in text
    assert "accessibility: image-alt (critical)" in text  # axe-core ran on the page
