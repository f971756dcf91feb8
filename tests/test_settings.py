"""One module reads the environment: base/settings.py. The README's table is its table."""

import ast
from pathlib import Path

from middleground.base import settings

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "middleground"
README = Path(__file__).resolve().parents[1] / "README.md"


def _reads_environment(path: Path) -> list[int]:
    """Lines of ``path`` that touch ``os.environ`` or call ``os.getenv``/``os.putenv``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "environb"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ("environ", "getenv") for a in node.names):
            lines.append(node.lineno)
    return lines


def test_no_module_but_settings_reads_the_environment():
    offenders = {str(p.relative_to(PACKAGE)): _reads_environment(p) for p in PACKAGE.rglob("*.py")
                 if p.name != "settings.py" or p.parent.name != "base"}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_would_catch_a_read(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx = os.environ.get('MIDDLEGROUND_PROFILE')\n")
    assert _reads_environment(bad) == [2]


def test_every_setting_is_documented_in_the_readme():
    assert settings.markdown_table() in README.read_text(encoding="utf-8")
    assert len(settings.NAMES) == len(set(settings.NAMES)) == 12


def test_settings_are_read_when_called(monkeypatch, tmp_path):
    monkeypatch.setenv("MIDDLEGROUND_SWEEP_CACHE", str(tmp_path / "s"))
    assert settings.sweep_cache() == tmp_path / "s"
    monkeypatch.delenv("MIDDLEGROUND_SWEEP_CACHE")
    monkeypatch.setenv("MIDDLEGROUND_DATA_CACHE", str(tmp_path / "d"))
    assert settings.sweep_cache() == tmp_path / "d" / "sweeps"  # the sweep cache follows the data cache
    monkeypatch.setenv("MIDDLEGROUND_OFFLINE", "1")
    assert settings.offline()
    monkeypatch.setenv("MIDDLEGROUND_OFFLINE", "yes")
    assert not settings.offline()  # only "1" means offline, as documented
