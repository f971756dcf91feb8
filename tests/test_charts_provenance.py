import json

import altair as alt
import pytest

from middleground.book import charts
from middleground.book import provenance
from middleground.base.profiles import resolve


def _chart(with_titles=True, tooltip=True):
    x = alt.X("a:Q", title="a (units)") if with_titles else alt.X("a:Q")
    enc = dict(x=x, y=alt.Y("b:Q", title="b (bits)"))
    if tooltip:
        enc["tooltip"] = [alt.Tooltip("a:Q")]
    return alt.Chart(alt.Data(values=[{"a": 1, "b": 2}])).mark_point().encode(**enc)


def test_renderer_is_offline_and_carries_the_spec():
    charts.enable()
    chart = charts.finish(_chart(), "A title", "A description.")
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    html = bundle["text/html"]
    assert "vegaEmbed" in html and 'class="mg-chart"' in html and 'aria-label="A description."' in html
    assert "<script src" not in html and "cdn" not in html  # drawn by the page's local bundle
    spec = next(v for k, v in bundle.items() if k.startswith("application/vnd.vegalite"))
    assert spec["title"] == "A title" and spec["config"]["view"]["continuousWidth"] == charts.WIDTH


def test_script_closing_tags_in_data_cannot_break_out():
    charts.enable()
    chart = alt.Chart(alt.Data(values=[{"a": 1, "s": "</script><b>"}])).mark_point().encode(
        x=alt.X("a:Q", title="a (units)"), tooltip=[alt.Tooltip("s:N")])
    html = charts.finish(chart, "t", "d")._repr_mimebundle_()
    html = (html[0] if isinstance(html, tuple) else html)["text/html"]
    assert html.count("</script>") == 1


def test_finish_requires_axis_titles_tooltips_title_and_description():
    with pytest.raises(ValueError, match="x axis .* needs a title"):
        charts.finish(_chart(with_titles=False), "t", "d")
    with pytest.raises(ValueError, match="needs a tooltip"):
        charts.finish(_chart(tooltip=False), "t", "d")
    with pytest.raises(ValueError, match="title and a description"):
        charts.finish(_chart(), "t", "")


def test_provenance_box_records_what_produced_the_page():
    cfg = resolve("intro", "quick", steps=5)
    info = provenance.record(cfg, "test device")
    assert info["profile"] == "quick" and info["overrides"] == {"steps": 5}
    assert info["device"] == "test device" and info["wall_seconds"] >= 0
    assert len(info["commit"]) == 40 or info["commit"].startswith("unknown")
    html = provenance.Box(info)._repr_html_()
    assert 'class="mg-provenance"' in html and "steps=5" in html and "quick" in html
    json.dumps(info)  # serialisable, for machine-readable records
