"""Chart conventions: one theme, one size, one offline renderer for every figure of the book.

Altair's default HTML output loads vega from a CDN, so an offline reader would see an error
instead of a chart. Here each chart is emitted as an empty ``div`` plus a call to ``vegaEmbed``;
the vega, vega-lite and vega-embed code comes from one local bundle that
:mod:`middleground.book.sphinx_vega` adds to every page of the built book. In Jupyter the same output
carries the vega-lite mimetype, which JupyterLab renders natively.

Conventions every chart follows (enforced by :func:`finish`): a title, a one-sentence description
that becomes the chart's accessible label, axis titles that name their units, and tooltips.
Data are always given as lists of records with explicit field types (``x:Q``), since no pandas is
used to infer them.
"""

from __future__ import annotations

import html
import json
import uuid

import altair as alt

WIDTH, HEIGHT = 520, 280
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def _theme() -> dict:
    return {
        "config": {
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "font": FONT,
            "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555"},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "grid": True, "gridColor": "#eee"},
            "legend": {"labelFontSize": 12, "titleFontSize": 13, "orient": "right"},
            "range": {"category": PALETTE},
            "line": {"strokeWidth": 2},
            "point": {"size": 40, "filled": True},
            # Marks are not announced one by one: the figure's text alternative is the chart's
            # description (the div's aria-label), which every chart must have (finish()).
            "mark": {"aria": False},
        }
    }


def _render(spec: dict, **_) -> dict:
    """Mimebundle: an HTML div drawn by the page's local vegaEmbed, and the raw vega-lite spec."""
    div_id = f"mg-chart-{uuid.uuid4().hex[:12]}"
    label = html.escape(spec.get("description") or _title_text(spec) or "chart", quote=True)
    # "</" would end the inline script early; JSON allows the escaped form.
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    page = (
        f'<div id="{div_id}" class="mg-chart" role="figure" aria-label="{label}"></div>\n'
        "<script>(function () {\n"
        f'  var spec = {payload};\n'
        "  function draw() {\n"
        "    if (!window.vegaEmbed) { console.error('middleground: vega bundle missing'); return; }\n"
        f"    window.vegaEmbed('#{div_id}', spec, {{renderer: 'svg', actions: {{export: true, source: false, compiled: false, editor: false}}}})\n"
        "      .then(function () {\n"
        f"        var menu = document.querySelector('#{div_id} details > summary');\n"
        "        if (menu) menu.setAttribute('aria-label', 'Chart actions: save as SVG or PNG');\n"
        "      })\n"
        "      .catch(function (e) { console.error('middleground chart: ' + e); });\n"
        "  }\n"
        "  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);\n"
        "  else draw();\n"
        "})();</script>"
    )
    return {"text/html": page, f"application/vnd.vegalite.v{alt.SCHEMA_VERSION.split('.')[0][1:]}+json": spec}


def _title_text(spec: dict) -> str:
    t = spec.get("title")
    if isinstance(t, dict):
        t = t.get("text")
    if isinstance(t, list):
        t = " ".join(t)
    return t or ""


def _units(spec: dict) -> list[dict]:
    """Every single-view spec inside layers, concatenations and facets."""
    for key in ("layer", "hconcat", "vconcat", "concat"):
        if key in spec:
            return [u for sub in spec[key] for u in _units(sub)]
    if "spec" in spec:  # facet or repeat
        return _units(spec["spec"])
    return [spec]


def enable() -> None:
    """Switch Altair to the book's theme and offline renderer (idempotent)."""
    alt.theme.register("middleground", enable=True)(_theme)
    alt.renderers.register("middleground", _render)
    alt.renderers.enable("middleground")
    alt.data_transformers.disable_max_rows()


def finish(chart: alt.TopLevelMixin, title: str, description: str, subtitle: str | None = None):
    """Give a chart its title and accessible description, and check axis titles and tooltips.

    Raises ``ValueError`` when a quantitative axis lacks a title or the chart has no tooltip,
    so no figure of the book ships without labels.
    """
    if not title or not description:
        raise ValueError("every chart needs a title and a description")
    encodings = [unit.get("encoding", {}) for unit in _units(chart.to_dict())]
    for enc in encodings:
        for channel in ("x", "y"):
            axis = enc.get(channel, {})
            # a measured axis needs a title with units; a categorical one is labelled by its values
            if axis.get("type") in ("quantitative", "temporal") and "field" in axis and not axis.get("title"):
                raise ValueError(f"the {channel} axis of chart {title!r} needs a title with units")
    if not any("tooltip" in enc for enc in encodings):
        raise ValueError(f"chart {title!r} needs a tooltip on at least one layer")
    heading = alt.TitleParams(text=title, subtitle=subtitle) if subtitle else title
    return chart.properties(title=heading, description=description)
