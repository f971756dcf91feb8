"""The pins of requirements.txt and environment.yml must be the same set."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        assert m, f"not an exact pin: {line!r}"
        out[m.group(1).lower()] = m.group(2)
    return out


def test_requirements_and_environment_pin_the_same_versions():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip_section) == req


def test_torch_is_pinned_exactly():
    # A loose torch spec can pull a multi-GB CUDA build on the CPU machines this book targets.
    # _pins refuses any line that is not `name==version`; which version is requirements.txt's call.
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert "torch" in req and re.fullmatch(r"\d+\.\d+\.\d+", req["torch"])


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    mismatched = {name: (pin, version(name)) for name, pin in req.items()
                  if version(name).split("+")[0] != pin}
    assert not mismatched, f"installed versions differ from requirements.txt: {mismatched}"
