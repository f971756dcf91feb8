"""A tiny Sphinx extension for readers: charts that fit the text column, accessible widgets, and the
chapter as MyST Markdown in the download menu.

- CSS: a chart's SVG scales down to the width of the text column (Vega draws at a fixed pixel
  size; wide concatenations used to scroll sideways with their legends cut off).
- JS, on load: sphinxcontrib-bibtex's citation list says ``role="list"`` but its entries say
  ``role="doc-biblioentry"`` (an axe "aria-required-children" violation): they become list items. The download menu
  gains a ``.md`` entry beside the executed ``.ipynb`` (the runner copies each chapter's MyST
  source next to the executed notebook under ``_sources/``).

Both files are written into ``_static`` when the build finishes, like the vega bundle, so the
built book needs no network.
"""

from __future__ import annotations

from pathlib import Path

CSS = "middleground-reader.css"
JS = "middleground-reader.js"

_CSS = """\
/* charts fit the text column: scale the drawing down, never scroll it sideways */
div.mg-chart { max-width: 100%; overflow: hidden; }
div.mg-chart svg.marks { max-width: 100%; height: auto; }
"""

_JS = """\
(function () {
  function ready() {
    // entries say role="doc-biblioentry", a deprecated role axe does not accept inside a list
    document.querySelectorAll('.citation-list[role="list"] > *').forEach(function (e) {
      e.setAttribute('role', 'listitem');
    });
    var nb = document.querySelector('.dropdown-download-buttons a[href$=".ipynb"]');
    if (nb && !document.querySelector('.dropdown-download-buttons a[href$=".md"]')) {
      nb.setAttribute('title', 'Download the executed notebook, with its outputs');
      var item = nb.closest('li').cloneNode(true);
      var md = item.querySelector('a');
      md.setAttribute('href', nb.getAttribute('href').replace(/\\.ipynb$/, '.md'));
      md.setAttribute('title', 'Download the chapter as MyST Markdown (jupytext)');
      md.querySelector('.btn__text-container').textContent = '.md';
      nb.closest('li').after(item);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
"""


def _write_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / CSS).write_text(_CSS, encoding="utf-8")
    (static / JS).write_text(_JS, encoding="utf-8")


def setup(app):
    app.add_css_file(CSS)
    app.add_js_file(JS)
    app.connect("build-finished", _write_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
