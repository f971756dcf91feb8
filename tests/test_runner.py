"""The runner: parameters checked before a kernel starts; failures name chapter and cell.

Every chapter executed through papermill, and the render of what ran, are tested in test_book.py."""

import pytest

from middleground.book import runner
from middleground.base.profiles import parameters_cell
from middleground.book.runner import ChapterFailed, chapters_in_toc, is_notebook, run_chapter


def test_toc_lists_existing_chapters_and_each_notebook_has_parameters_cell():
    paths = chapters_in_toc()
    assert paths[0].stem == "intro"
    notebooks = [p for p in paths if is_notebook(p)]
    assert notebooks
    for p in notebooks:
        text = p.read_text()
        assert text.count(":tags: [parameters]") == 1, f"{p.name} needs exactly one parameters cell"


@pytest.mark.parametrize("path", [p for p in chapters_in_toc() if is_notebook(p)], ids=lambda p: p.stem)
def test_each_parameters_cell_is_the_one_generated_from_profiles(path):
    """Parameter help lives once, in profiles.py: the chapter's cell must equal what it generates."""
    text = path.read_text()
    body = text.split(":tags: [parameters]\n", 1)[1].split("```", 1)[0].strip("\n")
    expected = parameters_cell(path.stem)
    assert body == expected, (f"{path.name}'s parameters cell differs from profiles.py; replace it with:"
                              f"\n{expected}")


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
    assert not (out / "intro.ipynb").exists() and not list(out.glob("*.partial*"))
    assert (out / "intro.failed.ipynb").exists()
    # once the chapter runs, the old failure's notebook goes: it describes code that now works
    chapter.write_text(chapter.read_text().replace("raise RuntimeError('boom in cell')", "x = 1"))
    run_chapter(chapter, "quick", {}, out)
    assert (out / "intro.ipynb").exists() and not (out / "intro.failed.ipynb").exists()


@pytest.mark.parametrize("argv,expected", [
    (["intro", "--profile", "quick", "-p", "steps", "0"], "parameter 'steps' must be int in [1, 100000]; got 0"),
    (["intro", "--profile", "quick", "-p", "stepz", "3"], "unknown parameter(s) 'stepz' for chapter 'intro'"),
    (["intro", "--profile", "quick", "-p", "n_seeds", "many"], "parameter 'n_seeds' must be int"),
])
def test_bad_parameters_fail_before_any_kernel_starts(argv, expected, tmp_path, capsys):
    assert runner.main(argv + ["--out", str(tmp_path)]) == 2
    assert expected in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_unknown_profile_and_chapter_are_rejected(capsys):
    with pytest.raises(SystemExit) as e:
        runner.main(["--profile", "fast"])
    assert e.value.code == 2 and "invalid choice: 'fast'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        runner.main(["no_such_chapter"])
    assert "unknown chapter(s) no_such_chapter" in capsys.readouterr().err


