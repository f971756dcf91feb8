"""benchmarks/glue_diff.py, the check that a move of code changed no published number, on
fabricated executed notebooks with known differences."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "glue_diff.py"
spec = importlib.util.spec_from_file_location("glue_diff", SCRIPT)
glue_diff = importlib.util.module_from_spec(spec)
spec.loader.exec_module(glue_diff)

PREFIX = "application/papermill.record/"


def _notebook(folder: Path, chapter: str, values: dict, claims: list | None = None):
    outputs = [{"output_type": "display_data", "metadata": {"scrapbook": {"name": k, "mime_prefix": PREFIX}},
                "data": {PREFIX + "text/plain": repr(v)}} for k, v in values.items()]
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": outputs}], "metadata": {}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{chapter}.ipynb").write_text(json.dumps(nb))
    if claims is not None:
        (folder / "claims").mkdir(exist_ok=True)
        (folder / "claims" / f"{chapter}.json").write_text(json.dumps(
            {"claims": [{"text": t, "holds": h, "value": v} for t, h, v in claims]}))


def test_identical_builds_print_identical(tmp_path, capsys):
    for side in ("a", "b"):
        _notebook(tmp_path / side, "intro", {"x": 0.1 + 0.2, "run_time_quick": "about 3 s"},
                  [("it holds", True, "1")])
    assert glue_diff.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "3 values and claims compared" in capsys.readouterr().out


def test_a_changed_value_in_the_last_digit_is_a_difference(tmp_path, capsys):
    _notebook(tmp_path / "a", "intro", {"x": 0.30000000000000004})
    _notebook(tmp_path / "b", "intro", {"x": 0.3})
    assert glue_diff.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert "DIFFERS intro:x" in capsys.readouterr().out


def test_timings_are_apart_and_missing_keys_and_claims_are_reported(tmp_path):
    _notebook(tmp_path / "a", "matmul", {"mm_time_forward_ms": 8.7, "gone": 1},
              [("far more of the time than of the arithmetic", True, "0.5"), ("same", True, "1")])
    _notebook(tmp_path / "b", "matmul", {"mm_time_forward_ms": 9.1, "new": 1},
              [("far more of the time than of the arithmetic", True, "0.6"), ("same", False, "1")])
    report = glue_diff.diff(tmp_path / "a", tmp_path / "b")
    assert [e["where"] for e in report["volatile"]] == [
        "matmul:mm_time_forward_ms", "matmul: claim 'far more of the time than of the arithmetic'"]
    assert report["only_before"] == ["matmul:gone"] and report["only_after"] == ["matmul:new"]
    assert [e["where"] for e in report["differ"]] == ["matmul: claim 'same'"]


def test_chapters_can_be_restricted(tmp_path):
    _notebook(tmp_path / "a", "intro", {"x": 1})
    _notebook(tmp_path / "a", "knob", {"y": 1})
    _notebook(tmp_path / "b", "intro", {"x": 1})
    assert glue_diff.diff(tmp_path / "a", tmp_path / "b")["only_before"] == ["knob (chapter)"]
    assert glue_diff.diff(tmp_path / "a", tmp_path / "b", only=["intro"])["only_before"] == []
