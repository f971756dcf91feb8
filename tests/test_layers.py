"""The package's folders are its layers: a test reads every import (with the ast module, function-
level imports included) and fails when a lower layer imports a higher one, or when modules import
each other in a cycle."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "middleground"
# Lowest first. A module may import its own layer and the layers before it, nothing after.
LAYERS = ["base", "mechanics", "sources", "measures", "gpt", "sweeps", "experiments", "book"]
# Third-party packages a layer may not import at all.
FORBIDDEN_THIRD_PARTY = {"mechanics": {"torch"}, "sources": {"torch"}, "base": {"torch"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, as absolute names (relative imports resolved)."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import x` may name a module
                candidate = f"{stem}.{alias.name}"
                out.add(candidate if _is_module(candidate) else stem)
    return out


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "middleground" and parts[1] in LAYERS else None


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_lives_in_a_layer():
    loose = [p.name for p in MODULES if p.parent == PACKAGE and p.name != "__init__.py"]
    assert not loose, f"modules outside the layer folders: {loose}"
    assert sorted(d.name for d in PACKAGE.iterdir() if (d / "__init__.py").exists()) == sorted(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_layer_imports_a_higher_one(path):
    me = layer_of(module_name(path))
    if me is None:
        return
    for name in imports_of(path):
        other = layer_of(name)
        if other is not None:
            allowed = LAYERS.index(other) <= LAYERS.index(me)
            assert allowed, f"{module_name(path)} ({me}) imports {name} ({other}), a higher layer"
        assert name.split(".")[0] not in FORBIDDEN_THIRD_PARTY.get(me, set()), \
            f"{module_name(path)} ({me}) imports {name}"


def test_no_import_cycles():
    graph = {module_name(p): {n for n in imports_of(p) if n.startswith("middleground.")} for p in MODULES}
    graph = {m: {n for n in deps if n in graph and n != m} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_the_rule_catches_an_upward_import(tmp_path, monkeypatch):
    """The check itself can fail: a measure that imports the trainer is reported."""
    fake = PACKAGE / "measures" / "entropy.py"
    text = fake.read_text(encoding="utf-8") + "\nfrom ..gpt import train  # an upward arrow\n"
    copy = tmp_path / "entropy.py"
    copy.write_text(text)
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: text if self == fake
                        else Path.read_bytes(self).decode(encoding or "utf-8"))
    assert "middleground.gpt.train" in imports_of(fake)
    with pytest.raises(AssertionError, match="a higher layer"):
        test_no_layer_imports_a_higher_one(fake)
