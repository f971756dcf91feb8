"""Every chapter runs through papermill with the quick profile; failures name chapter and cell."""

import json

import pytest

from middleground.book import runner
from middleground.book.runner import ChapterFailed, chapters_in_toc, is_notebook, run_chapter


def test_toc_lists_existing_chapters_and_each_notebook_has_parameters_cell():
    paths = chapters_in_toc()
    assert paths[0].stem == "intro"
    notebooks = [p for p in paths if is_notebook(p)]
    assert notebooks
    for p in notebooks:
        text = p.read_text()
        assert text.count(":tags: [parameters]") == 1, f"{p.name} needs exactly one parameters cell"
        assert "profile = None" in text, f"{p.name}'s parameters cell must include profile"


def test_every_chapter_runs_quick_through_papermill(tmp_path, capsys):
    assert runner.main(["--profile", "quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for path in chapters_in_toc():
        if not is_notebook(path):
            continue
        assert f"[middleground] {path.stem}: " in out and " s\n" in out
        executed = json.loads((tmp_path / f"{path.stem}.ipynb").read_text())
        injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and "profile = \"quick\"" in "".join(injected[0]["source"])
        errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors
    assert not list(tmp_path.glob("*.partial.ipynb"))


def test_a_failing_cell_is_named_and_nothing_half_written_remains(tmp_path):
    chapter = tmp_path / "intro.md"  # stem "intro" so its parameters validate
    front_matter = "---" + runner.ROOT.joinpath("chapters", "intro.md").read_text().split("---")[1] + "---"
    chapter.write_text(
        front_matter + "\n\n"
        "```{code-cell} ipython3\n:tags: [parameters]\nprofile = None\n```\n\n"
        "```{code-cell} ipython3\nraise RuntimeError('boom in cell')\n```\n")
    out = tmp_path / "out"
    with pytest.raises(ChapterFailed) as err:
        run_chapter(chapter, "quick", {}, out)
    message = str(err.value)
    assert "chapter 'intro'" in message and "failed in cell" in message
    assert "raise RuntimeError('boom in cell')" in message and "RuntimeError: boom in cell" in message
    assert not (out / "intro.ipynb").exists() and not (out / "intro.partial.ipynb").exists()
    assert (out / "intro.failed.ipynb").exists()


@pytest.mark.parametrize("argv,expected", [
    (["intro", "--profile", "quick", "-p", "steps", "0"], "parameter 'steps' must be int in [1, 100000]; got 0"),
    (["intro", "--profile", "quick", "-p", "stepz", "3"], "unknown parameter(s) 'stepz' for chapter 'intro'"),
    (["intro", "--profile", "quick", "-p", "n_seeds", "many"], "parameter 'n_seeds' must be int"),
])
def test_bad_parameters_fail_before_any_kernel_starts(argv, expected, tmp_path, capsys):
    assert runner.main(argv + ["--out", str(tmp_path)]) == 1
    assert expected in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_unknown_profile_and_chapter_are_rejected(capsys):
    with pytest.raises(SystemExit) as e:
        runner.main(["--profile", "fast"])
    assert e.value.code == 2 and "invalid choice: 'fast'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        runner.main(["no_such_chapter"])
    assert "unknown chapter(s) no_such_chapter" in capsys.readouterr().err


def test_parse_value_reads_yaml_scalars():
    assert runner.parse_value("3") == 3 and runner.parse_value("0.5") == 0.5
    assert runner.parse_value("true") is True and runner.parse_value("gelu") == "gelu"
