"""Open every page of the built book in headless Chromium, offline, and report what a reader sees.

    python -m middleground.book.browser_check [_build/html]

The pages are served from localhost; every request to any other host is blocked and recorded.
For each page it reports: charts (``div.mg-chart``) and whether each holds a drawn ``svg``
or ``canvas``; math elements and whether MathJax rendered them (``mjx-container``, no
``merror``); JavaScript errors (console errors and uncaught exceptions); and blocked or failed
requests. The tests assert on this report; readers can run it on their own build.

It needs Debian's ``chromium`` (or ``$MIDDLEGROUND_CHROMIUM``, which must then name an executable)
and the ``playwright`` package, which drives that browser; Playwright's own browser download is
never used.

It cannot hang: the browser runs in a worker process of its own session, which reports each page
as it starts and finishes it; a page that takes longer than ``page_timeout_s`` (a script that never
returns blocks ``page.evaluate`` forever, and Playwright has no timeout for it) gets the worker and
its browser killed and a :class:`BrowserCheckTimeout` naming the page. The command line prints one
line and exits 2 for a missing build or browser, 1 for a timeout or a page with problems.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from ..base import proctree
from ..base.paths import PROJECT_ROOT
from ..base import settings

PAGE_TIMEOUT_S = 120  # the slowest page of the full book takes a few seconds


class BrowserCheckError(RuntimeError):
    """The check cannot run: no built pages, or no usable browser."""


class BrowserCheckTimeout(RuntimeError):
    """A page did not finish within the time allowed; the browser was killed."""


class BrowserCheckFailed(RuntimeError):
    """The browser worker stopped with an error."""


def chromium_path() -> str:
    given = settings.chromium()
    if given:  # a setting that names nothing usable is an error, never silently passed over
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            raise BrowserCheckError(f"MIDDLEGROUND_CHROMIUM={given} is not an executable file; "
                                    "point it at a Chromium or Chrome binary, or unset it")
        return given
    for candidate in (shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate:
            return candidate
    raise BrowserCheckError(
        "no Chromium found: install Debian's `chromium` (apt-get install chromium) or set "
        "MIDDLEGROUND_CHROMIUM to a Chromium or Chrome binary"
    )


@dataclass
class PageReport:
    page: str
    charts: int = 0
    charts_drawn: int = 0
    math: int = 0
    math_rendered: int = 0
    math_errors: int = 0
    charts_too_wide: int = 0
    provenance: bool = False
    js_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)  # serious or critical axe violations
    downloads: dict[str, str] = field(default_factory=dict)  # download link -> what it served


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


_WAIT_FOR_MATHJAX = """async () => {
  for (let i = 0; i < 50 && document.querySelector('div.math, span.math') &&
       !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 100));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
}"""

_ALL_CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('div.mg-chart'))
  .every(c => c.querySelector('svg.marks, canvas.marks, canvas'))"""
LATE_ERRORS_MS = 250  # after the last chart is drawn, for errors its scripts raise late

_INSPECT = """() => {
  const charts = Array.from(document.querySelectorAll('div.mg-chart'));
  const drawn = charts.filter(c => c.querySelector('svg.marks, canvas.marks, canvas'));
  const math = document.querySelectorAll('div.math, span.math');
  return {
    charts: charts.length,
    charts_drawn: drawn.length,
    math: math.length,
    math_rendered: document.querySelectorAll('mjx-container').length,
    math_errors: document.querySelectorAll('mjx-merror, mjx-container [data-mjx-error]').length,
    provenance: !!document.querySelector('aside.mg-provenance'),
    // a chart must fit the box its output sits in (else it scrolls sideways, legend cut off)
    charts_too_wide: drawn.filter(c => {
      const svg = c.querySelector('svg.marks');
      const box = c.closest('.cell_output') || c.closest('article') || document.body;
      return svg && svg.getBoundingClientRect().width > box.clientWidth + 1;
    }).length,
  };
}"""


# Accessibility: axe-core (WCAG 2 A and AA rules), from the axe-playwright-python wheel, injected
# from disk: nothing is fetched. Serious and critical violations fail the check.
_AXE_RUN = """async () => {
  // preload: false, or axe re-fetches stylesheets' @import targets against the page's own URL (404s)
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}, preload: false});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}) x${v.nodes.length}: ${v.nodes[0].target.join(' ')}`);
}"""

# Every download the page offers (the theme's download menu), fetched from the same server: the
# status, the type, and for a notebook whether it carries outputs.
_DOWNLOADS = """async () => {
  const out = {};
  const links = Array.from(document.querySelectorAll('.dropdown-download-buttons a[href]'))
    .filter(a => !a.getAttribute('href').startsWith('javascript') && !a.getAttribute('onclick'));
  for (const a of links) {
    const url = new URL(a.getAttribute('href'), document.baseURI);
    try {
      const r = await fetch(url);
      const text = r.ok ? await r.text() : '';
      let what = `${r.status}`;
      if (r.ok && url.pathname.endsWith('.ipynb')) {
        const nb = JSON.parse(text);
        const outputs = nb.cells.reduce((n, c) => n + ((c.outputs || []).length), 0);
        what += ` notebook, ${outputs} outputs`;
      } else if (r.ok) {
        what += ` ${text.length} characters`;
      }
      out[url.pathname.split('/').pop()] = what;
    } catch (e) {
      out[url.pathname.split('/').pop()] = `failed: ${e}`;
    }
  }
  return out;
}"""


def _axe_source() -> str:
    from importlib.resources import files

    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def _only_localhost(origin: str, report: PageReport):
    """A route handler: let requests to the local server through, block and record the rest."""
    host = urlparse(origin).netloc

    def route(r):
        if urlparse(r.request.url).netloc == host:
            r.continue_()
        else:
            report.blocked.append(r.request.url)
            r.abort()

    return route


def pages_of(html_dir: Path) -> list[str]:
    """The pages of a built book, relative to it; :class:`BrowserCheckError` if there are none.
    Redirect stubs (Jupyter Book writes index.html as one) are followed by the browser to a page
    that is checked in its own right."""
    html_dir = Path(html_dir)
    if not html_dir.is_dir():
        raise BrowserCheckError(f"no built book at {html_dir}: build it first (`make book`)")
    pages = sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts
                   and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8", errors="replace")[:2000])
    if not pages:
        raise BrowserCheckError(f"no HTML pages under {html_dir}; build the book first (`make book`)")
    return pages


def check(html_dir: Path, settle_ms: int = 1500, page_timeout_s: float = PAGE_TIMEOUT_S) -> list[PageReport]:
    """Check every page of ``html_dir`` in a worker process; see the module's docstring."""
    html_dir = Path(html_dir).resolve()
    pages_of(html_dir)
    chromium = chromium_path()
    log = tempfile.TemporaryFile(mode="w+")  # the worker's stderr: a file never fills up and blocks it
    worker = subprocess.Popen(
        [sys.executable, "-m", "middleground.book.browser_check", "--worker", str(html_dir),
         str(int(settle_ms)), str(float(page_timeout_s))],
        stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
        env=settings.child_environment(MIDDLEGROUND_CHROMIUM=chromium))
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in worker.stdout] + [lines.put(None)],
                     daemon=True).start()
    reports, page = [], "(start-up)"
    deadline = time.monotonic() + page_timeout_s
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise BrowserCheckTimeout(
                    f"page {page} did not finish within {page_timeout_s:g} s (a script that never "
                    "returns?); the browser was stopped") from None
            if line is None:
                break
            try:
                message = json.loads(line)
            except json.JSONDecodeError:  # something else printed on stdout: not a report
                continue
            if "start" in message:
                page, deadline = message["start"], time.monotonic() + page_timeout_s
            elif "report" in message:
                reports.append(PageReport(**message["report"]))
        if worker.wait() != 0:
            log.seek(0)
            raise BrowserCheckFailed(f"the browser worker failed on page {page} (exit "
                                     f"{worker.returncode}): {log.read().strip()[-2000:]}")
    finally:
        if worker.poll() is None:
            _kill_tree(worker)
            worker.wait()
        log.close()
    return reports


def _kill_tree(worker: subprocess.Popen) -> None:
    """SIGKILL the worker, its process group and every descendant: Playwright starts the browser
    in a session of its own, which a group kill would miss. Descendants are found through /proc
    (Linux); elsewhere the group (POSIX) or the worker alone is killed."""
    if not hasattr(os, "killpg"):
        worker.kill()
        return
    members = proctree.tree(worker.pid)
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for p in reversed(members):
        try:
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _check_pages(html_dir: Path, settle_ms: int, page_timeout_s: float) -> None:
    """The worker: every page in Chromium, one JSON line as each page starts and one with its report."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    def say(message):
        print(json.dumps(message), flush=True)

    pages = pages_of(html_dir)
    axe = _axe_source()
    server = _serve(html_dir)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium_path(), headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run",
                      "--disable-quic"],
            )
            context = browser.new_context(service_workers="block")
            context.set_default_timeout(1e3 * page_timeout_s)
            for rel in pages:
                say({"start": rel})
                report = PageReport(rel)
                page = context.new_page()

                page.route("**/*", _only_localhost(origin, report))
                page.on("console", lambda m, report=report: m.type == "error" and
                        report.js_errors.append(f"console: {m.text}"))
                page.on("pageerror", lambda e, report=report: report.js_errors.append(f"uncaught: {e}"))
                page.on("requestfailed", lambda r, report=report: report.failed.append(
                    f"{r.url} ({r.failure})"))
                page.goto(f"{origin}/{rel}", wait_until="load")
                # MathJax typesets after load, and charts draw asynchronously: wait for both.
                page.evaluate(_WAIT_FOR_MATHJAX)
                # Until every chart holds its drawing, at most settle_ms (an undrawn chart is then
                # reported as such), then a moment for errors raised after the last draw.
                try:
                    page.wait_for_function(_ALL_CHARTS_DRAWN, timeout=settle_ms)
                except PlaywrightTimeout:
                    pass
                page.wait_for_timeout(LATE_ERRORS_MS)
                for key, value in page.evaluate(_INSPECT).items():
                    setattr(report, key, value)
                report.downloads = page.evaluate(_DOWNLOADS)
                page.add_script_tag(content=axe)
                report.accessibility = page.evaluate(_AXE_RUN)
                page.close()
                say({"report": asdict(report)})
            browser.close()
    finally:
        server.shutdown()


def problems(reports: list[PageReport]) -> list[str]:
    """Everything a reader would see as broken, one line each; empty when all is well."""
    out = []
    for r in reports:
        if r.charts_drawn < r.charts:
            out.append(f"{r.page}: {r.charts - r.charts_drawn} of {r.charts} chart(s) not drawn")
        if r.math and (r.math_rendered < r.math or r.math_errors):
            out.append(f"{r.page}: math not rendered ({r.math_rendered} of {r.math} rendered, "
                       f"{r.math_errors} errors)")
        if r.charts_too_wide:
            out.append(f"{r.page}: {r.charts_too_wide} chart(s) wider than the text column")
        out += [f"{r.page}: {e}" for e in r.js_errors]
        out += [f"{r.page}: network request blocked: {u}" for u in r.blocked]
        out += [f"{r.page}: request failed: {u}" for u in r.failed
                if not any(u.startswith(b) for b in r.blocked)]
        out += [f"{r.page}: accessibility: {v}" for v in r.accessibility]
        out += [f"{r.page}: download {name} gave {what}" for name, what in r.downloads.items()
                if not what.startswith("200")]
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        _check_pages(Path(argv[1]), int(argv[2]), float(argv[3]))
        return 0
    html_dir = Path(argv[0]) if argv else PROJECT_ROOT / "_build" / "html"
    try:
        reports = check(html_dir)
    except BrowserCheckError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (BrowserCheckTimeout, BrowserCheckFailed) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for r in reports:
        print(json.dumps(asdict(r)))
    issues = problems(reports)
    for line in issues:
        print("PROBLEM", line)
    print(f"{len(reports)} page(s), {sum(r.charts for r in reports)} chart(s), "
          f"{sum(r.math for r in reports)} math element(s), {len(issues)} problem(s)")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
