"""A tiny Sphinx extension: serve one local vega + vega-lite + vega-embed bundle on every page.

The bundle comes from ``vl_convert.javascript_bundle()``, so its versions match the vega-lite
that Altair writes, and nothing is fetched from a CDN. It is wrapped in a function scope because
its top-level ``const`` names would otherwise clash with other scripts on the page; the bundle
publishes ``window.vegaEmbed`` itself.
"""

from __future__ import annotations

from pathlib import Path

FILENAME = "middleground-vega.js"


def _write_bundle(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import vl_convert

    target = Path(app.outdir) / "_static" / FILENAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("(function () {\n" + vl_convert.javascript_bundle() + "\n})();\n", encoding="utf-8")


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated script tags. sphinx-thebe 0.3.1 registers its inline config script twice under
    Jupyter Book 1.x, and the second copy throws "Identifier 'THEBE_JS_URL' has already been
    declared" on every page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # The two copies differ in filename (None vs "") only: key on what the browser sees.
        attributes = getattr(js, "attributes", {})
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    # In place: the list is the builder's own, and handlers that run later (sphinx.ext.mathjax)
    # append to it.
    scripts[:] = unique


def setup(app):
    # Loaded synchronously in <head>, so charts' inline scripts further down can call vegaEmbed.
    app.add_js_file(FILENAME, priority=300)
    app.connect("build-finished", _write_bundle)
    # Early: html-page-context stops at the first handler that returns a template name.
    app.connect("html-page-context", _dedupe_scripts, priority=1)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


class VegaLiteMime:
    """myst-nb mime plugin: the vega-lite mimetype of a chart renders to nothing in the book.

    Charts carry that mimetype so JupyterLab can draw them natively; the book draws the same chart
    from its HTML output instead. Without this plugin myst-nb warns about an unknown mimetype,
    which the strict build turns into an error. Registered in pyproject.toml's entry points.
    """

    mime_priority_overrides = [("*", "application/vnd.vegalite.v6+json", None),
                               ("*", "application/vnd.vegalite.v5+json", None)]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type.startswith("application/vnd.vegalite."):
            return []
        return None
