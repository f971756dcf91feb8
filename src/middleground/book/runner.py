"""Run the book's chapters through papermill, as CI does and as a reader would.

    python -m middleground.book.runner                       # every chapter in _toc.yml, default profile
    python -m middleground.book.runner intro --profile quick
    python -m middleground.book.runner intro -p steps 200 -p seed 3

Chapters are MyST Markdown notebooks; papermill only reads ``.ipynb``, so each is read with
jupytext and executed in memory. Parameters are validated against :mod:`middleground.profiles`
*before* a kernel starts. Executed notebooks are written to ``_build/papermill/<chapter>.ipynb``
through a temporary file, so a failed or interrupted run never leaves a half-written notebook
under that name. Each chapter's wall time is printed; a failure names the chapter and the cell,
and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import yaml

from ..base.paths import PROJECT_ROOT
from .profiles import PROFILES, ParameterError, resolve

ROOT = PROJECT_ROOT


class ChapterFailed(RuntimeError):
    pass


def chapters_in_toc(toc: Path = ROOT / "_toc.yml") -> list[Path]:
    """The chapter files in reading order: the root, then every ``file:`` entry, recursively."""
    spec = yaml.safe_load(toc.read_text(encoding="utf-8"))
    names = [spec["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                names.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in spec.items() if k != "root"})
    paths = []
    for name in names:
        hits = [ROOT / f"{name}{ext}" for ext in (".md", ".ipynb")]
        found = next((p for p in hits if p.exists()), None)
        if found is None:
            raise FileNotFoundError(f"_toc.yml names {name!r}, but neither {name}.md nor .ipynb exists")
        paths.append(found)
    return paths


def is_notebook(path: Path) -> bool:
    """A MyST notebook declares a kernelspec in its front matter; plain pages are only rendered."""
    if path.suffix == ".ipynb":
        return True
    text = path.read_text(encoding="utf-8")
    return text.startswith("---") and "kernelspec:" in text[3:].split("\n---", 1)[0]


def parse_value(text: str):
    """``-p`` values are read as YAML scalars: 3 -> int, 0.5 -> float, true -> bool, else str."""
    value = yaml.safe_load(text)
    return text if isinstance(value, (dict, list)) or value is None else value


def run_chapter(path: Path, profile: str | None, overrides: dict, out_dir: Path) -> float:
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    chapter = path.stem
    resolve(chapter, profile, **overrides)  # fail fast, with the parameter named, before a kernel
    notebook = jupytext.read(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"{chapter}.ipynb"
    partial = out_dir / f"{chapter}.partial.ipynb"
    params = {"profile": profile, **overrides} if profile is not None else dict(overrides)
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            notebook, str(partial), parameters=params, kernel_name="python3",
            cwd=str(path.parent), progress_bar=False, log_output=False,
        )
    except PapermillExecutionError as e:
        failed = out_dir / f"{chapter}.failed.ipynb"
        if partial.exists():
            os.replace(partial, failed)
        first = (e.source or "").strip().splitlines()[:1]
        raise ChapterFailed(
            f"chapter {chapter!r} ({path}) failed in cell {e.cell_index} "
            f"[{first[0] if first else ''}...]: {e.ename}: {e.evalue}\n"
            f"  executed notebook kept at {failed}"
        ) from None
    except BaseException:  # interrupted or broken kernel: leave nothing half-written
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, final)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m middleground.book.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", help="chapter names (file stems); default: all in _toc.yml")
    parser.add_argument("--profile", choices=PROFILES, default=None,
                        help="run size; default: $MIDDLEGROUND_PROFILE, else gpu with CUDA, else full")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="override one chapter parameter")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "papermill",
                        help="folder for the executed notebooks")
    parser.add_argument("--times", type=Path, default=None,
                        help="also write each chapter's wall time to this JSON file "
                             "(the book's reproduction appendix reads benchmarks/results/)")
    args = parser.parse_args(argv)

    available = {p.stem: p for p in chapters_in_toc() if is_notebook(p)}
    unknown = [c for c in args.chapters if c not in available]
    if unknown:
        parser.error(f"unknown chapter(s) {', '.join(unknown)}; _toc.yml has: {', '.join(available)}")
    selected = [available[c] for c in args.chapters] or list(available.values())
    overrides = {name: parse_value(value) for name, value in args.parameter}

    total = 0.0
    times: dict[str, float] = {}
    for path in selected:
        print(f"[middleground] {path.stem}: running (profile {args.profile or 'default'})", flush=True)
        try:
            seconds = run_chapter(path, args.profile, overrides, args.out)
        except (ChapterFailed, ParameterError) as e:
            print(f"[middleground] FAILED {e}", file=sys.stderr, flush=True)
            return 1
        total += seconds
        times[path.stem] = seconds
        print(f"[middleground] {path.stem}: {seconds:.1f} s", flush=True)
    print(f"[middleground] {len(selected)} chapter(s) in {total:.1f} s", flush=True)
    if args.times is not None:
        write_times(args.times, args.profile, overrides, times)
    return 0


def write_times(path: Path, profile: str | None, overrides: dict, times: dict[str, float]) -> None:
    """Record chapter wall times with what produced them (atomically)."""
    from ..base.files import write_json
    from ..gpt.device import pick
    from .provenance import stamp

    record = {"profile": profile or "default", "overrides": overrides, **stamp(),
              "device": pick().name,
              "sweep_cache": os.environ.get("MIDDLEGROUND_SWEEP_CACHE", "data/cache/sweeps"),
              "chapters": times, "total_s": sum(times.values())}
    write_json(path, record)


if __name__ == "__main__":
    sys.exit(main())
