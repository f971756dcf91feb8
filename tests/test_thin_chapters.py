"""Chapters are thin views: their code cells set up, call one tested experiment, draw and glue.

Every statement of a chapter's code cells (the parameters cell aside) must be an import, the setup
call, the experiment's call, or a call that shows a result's field (a figure, a table, a printed
line, publish, provenance). No arithmetic, comparison, loop, comprehension or literal number: a
number the prose states comes from a tested function in ``src/middleground/experiments/``.
"""

import ast
import re
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.md"))
CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)
MAX_LINES = 1500  # all chapters' code cells together, parameters cells included (issue 23)


def cells(path: Path) -> list[str]:
    return CELL.findall(path.read_text(encoding="utf-8"))


def code_of(cell: str) -> str:
    return "\n".join(line for line in cell.splitlines() if not line.startswith(":tags:"))


def computing_nodes(source: str) -> list[str]:
    """What in ``source`` computes rather than calls: each offending node, by kind and line."""
    bad = []
    for stmt in ast.parse(source).body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            node = stmt.value
        elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
              and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Call)):
            node = stmt.value
        else:
            bad.append(f"{type(stmt).__name__} at line {stmt.lineno}")
            continue
        for sub in ast.walk(node):
            if isinstance(sub, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.Lambda,
                                ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.Subscript,
                                ast.JoinedStr)):
                bad.append(f"{type(sub).__name__} at line {sub.lineno}")
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, (int, float)) \
                    and not isinstance(sub.value, bool):
                bad.append(f"the number {sub.value!r} at line {sub.lineno}")
    return bad


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_cell_computes(path):
    for cell in cells(path):
        if cell.startswith(":tags: [parameters]"):
            continue
        assert computing_nodes(code_of(cell)) == [], f"{path.stem}: a cell computes:\n{cell}"


def test_the_check_catches_a_computing_cell():
    assert computing_nodes("x = result.values['a'] * 2") != []
    assert computing_nodes("for r in rows:\n    glue(r, 1)") != []
    assert computing_nodes("figures.excess([r for r in result.rows if r['h'] > 0.5])") != []
    assert computing_nodes("glue('n', 0.5)") == ["the number 0.5 at line 1"]
    assert computing_nodes("result = knob.run(ch.cfg)\nch.publish(result)\nfigures.excess(result)") == []


def test_chapter_code_stays_short():
    total = sum(len([l for l in c.splitlines() if l.strip()]) for p in CHAPTERS for c in cells(p))
    assert total <= MAX_LINES, f"{total} non-blank lines of code in chapter cells (at most {MAX_LINES})"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if cells(p)], ids=lambda p: p.stem)
def test_the_experiment_call_is_visible(path):
    """The cell that runs the experiment is shown, so a reader sees which function made the figures."""
    calls = [c for c in cells(path) if re.search(r"^result = \w+\.run\(", c, re.M)]
    assert len(calls) == 1, f"{path.stem}: one visible experiment call expected"
    assert "hide" not in calls[0].split("\n")[0]


INCLUDE = re.compile(r"```\{literalinclude\} ([^\n]+)\n((?::[\w-]+:[^\n]*\n)*)```")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_literalinclude_finds_its_code(path):
    """The book shows the real code from src/ (literalinclude): a moved function or a changed line
    fails here in a second, not in the strict render after every chapter has run."""
    for target, options in INCLUDE.findall(path.read_text(encoding="utf-8")):
        source = (path.parent / target.strip()).resolve()
        assert source.is_file(), f"{path.stem}: {target} does not exist"
        text = source.read_text(encoding="utf-8")
        for name, value in re.findall(r":([\w-]+):\s*(.*)", options):
            value = value.strip().strip('"')
            if name in ("start-at", "end-at", "start-after", "end-before"):
                assert value in text, f"{path.stem}: {name} {value!r} not found in {target}"
            elif name == "pyobject":
                tree = ast.parse(text)
                names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
                assert value.split(".")[-1] in names, f"{path.stem}: {target} has no {value}"
