"""Run the book's chapters through papermill, then render the book from what ran.

    python -m middleground.book.runner                       # every chapter in _toc.yml, default profile
    python -m middleground.book.runner intro --profile quick
    python -m middleground.book.runner intro -p steps 200 -p seed 3
    python -m middleground.book.runner --book                # every chapter, then the HTML (make book)
    python -m middleground.book.runner --render              # the HTML from notebooks already executed

Papermill is the only executor. ``--book`` executes each chapter once and Jupyter Book then renders
those executed notebooks with execution off, strictly (``-W -n``): a warning, an unknown glue key
or a broken reference fails the build. Rendering refuses an executed notebook whose chapter source
or package code has changed since it ran (each executed notebook records the SHA-256 of both), so
a stale page can never be published.

Chapters are MyST Markdown notebooks; papermill only reads ``.ipynb``, so each is read with
jupytext and executed in memory. ``-p`` values are read by each parameter's declared type and
validated against :mod:`middleground.base.profiles` for every selected chapter *before* the first
kernel starts; so are the output locations. Executed notebooks are written to
``_build/papermill/<chapter>.ipynb`` through a temporary file, so a failed or interrupted run
(Ctrl-C or SIGTERM, which stop the kernel too) never leaves a half-written notebook under that
name, and the temporary files of a killed run are removed by the next. Each chapter's wall time
is printed; a failure names the chapter and the cell, and the exit status is non-zero (1 a
failure, 2 bad input, 130 interrupted).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from ..base.data import sha256_of
from ..base.files import OutputPathError, check_output_file, check_output_folder, remove_stale_partials, \
    temporary_file, write_text
from ..base.paths import PACKAGE_DIR, PROJECT_ROOT, fingerprint
from ..base import settings
from .claims import CLAIMS_ENV
from ..base.profiles import PROFILES, ParameterError, parse_overrides, resolve

ROOT = PROJECT_ROOT


class ChapterFailed(RuntimeError):
    pass


class StaleNotebook(RuntimeError):
    """An executed notebook that is missing, or older than its chapter or the package code."""


def package_hash() -> str:
    """SHA-256 over every module of the package: what an executed chapter's outputs depend on."""
    return fingerprint(PACKAGE_DIR.rglob("*.py"), PACKAGE_DIR)


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


def _default_profile() -> str:
    from ..gpt.device import default_profile  # torch, only when no profile is given

    return default_profile()


def run_chapter(path: Path, profile: str | None, overrides: dict, out_dir: Path) -> float:
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    chapter = path.stem
    resolve(chapter, profile or _default_profile(), **overrides)  # fail fast, with the parameter named, before a kernel
    source_sha, code_sha = sha256_of(path), package_hash()  # what this execution ran from
    notebook = jupytext.read(path)
    check_output_folder(out_dir, "--out")
    remove_stale_partials(out_dir)  # left by a killed run
    final = out_dir / f"{chapter}.ipynb"
    params = {"profile": profile, **overrides} if profile is not None else dict(overrides)
    t0 = time.perf_counter()
    with temporary_file(final, ".ipynb") as partial:  # locked while papermill writes it
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
        executed = json.loads(partial.read_text(encoding="utf-8"))
        executed["metadata"]["middleground"] = {
            "source": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            "source_sha256": source_sha, "package_sha256": code_sha,
            "profile": profile or "default", "overrides": overrides}
        try:
            write_text(final, json.dumps(executed, indent=1, ensure_ascii=False))
        finally:
            partial.unlink(missing_ok=True)
    # an earlier failure's notebook describes code that now runs: it would only mislead
    (out_dir / f"{chapter}.failed.ipynb").unlink(missing_ok=True)
    return time.perf_counter() - t0


def check_fresh(path: Path, executed: Path, code_sha: str) -> None:
    """Raise :class:`StaleNotebook` unless ``executed`` ran from ``path`` and the current package."""
    rerun = f"run `python -m middleground.book.runner {path.stem}` (or `make book`) first"
    if not executed.is_file():
        raise StaleNotebook(f"chapter {path.stem!r} has no executed notebook at {executed}; {rerun}")
    meta = json.loads(executed.read_text(encoding="utf-8"))["metadata"].get("middleground", {})
    if meta.get("source_sha256") != sha256_of(path):
        raise StaleNotebook(f"chapter {path.stem!r}: {executed} was executed from another version of "
                            f"{path.name}; {rerun}")
    if meta.get("package_sha256") != code_sha:
        raise StaleNotebook(f"chapter {path.stem!r}: {executed} was executed with other code in "
                            f"src/middleground; {rerun}")


def render(executed_dir: Path, out: Path, toc_paths: list[Path] | None = None) -> Path:
    """Render the book from executed notebooks, strictly, with execution off; return the HTML folder.

    The HTML goes to ``out/_build/html``, the log to ``out/_build/render.log``. A staging folder,
    ``out/_build/stage``, mirrors the book (``_config.yml``, ``_toc.yml``, ``chapters/``) with every
    notebook chapter replaced by its executed notebook; ``src`` is linked so that literalinclude
    shows the real code. Refuses stale notebooks (:func:`check_fresh`)."""
    toc_paths = chapters_in_toc() if toc_paths is None else toc_paths
    code_sha = package_hash()
    stage = out / "_build" / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "chapters").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, stage / name)
    for extra in (ROOT / "chapters").glob("*.bib"):
        shutil.copy2(extra, stage / "chapters" / extra.name)
    (stage / "src").symlink_to(ROOT / "src", target_is_directory=True)
    for path in toc_paths:
        rel = path.relative_to(ROOT)
        if is_notebook(path):
            executed = executed_dir / f"{path.stem}.ipynb"
            check_fresh(path, executed, code_sha)
            shutil.copy2(executed, (stage / rel).with_suffix(".ipynb"))
        else:
            shutil.copy2(path, stage / rel)
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(stage), "--all", "-W", "-n", "--keep-going",
                           "--path-output", str(out)], capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    (out / "_build" / "render.log").write_text(log, encoding="utf-8")
    if proc.returncode == 0:  # each chapter's MyST source beside its executed notebook (.md download)
        sources = out / "_build" / "html" / "_sources"
        for path in toc_paths:
            if is_notebook(path) and path.suffix == ".md":
                target = sources / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    if proc.returncode != 0:
        raise ChapterFailed(f"the strict render failed (exit {proc.returncode}); see {out / '_build' / 'render.log'}"
                            f":\n{log[-3000:]}")
    return out / "_build" / "html"


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
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--book", action="store_true",
                      help="execute every chapter, then render the book strictly into HTML_ROOT/_build/html")
    mode.add_argument("--render", action="store_true",
                      help="only render the book from the executed notebooks in --out (refusing stale ones)")
    parser.add_argument("--html-root", type=Path, default=ROOT,
                        help="the rendered book goes to HTML_ROOT/_build/html (default: the project)")
    args = parser.parse_args(argv)

    available = {p.stem: p for p in chapters_in_toc() if is_notebook(p)}
    unknown = [c for c in args.chapters if c not in available]
    if unknown:
        parser.error(f"unknown chapter(s) {', '.join(unknown)}; _toc.yml has: {', '.join(available)}")
    if (args.book or args.render) and (args.chapters or args.parameter):
        parser.error("--book and --render take the whole book: no chapter names and no -p overrides "
                     "(run single chapters without --book to override their parameters)")
    selected = [available[c] for c in args.chapters] or list(available.values())
    try:  # every chapter's parameters and every output location, before the first kernel
        overrides = {}
        for path in selected:
            overrides[path.stem] = parse_overrides(path.stem, args.parameter)
            resolve(path.stem, args.profile or _default_profile(), **overrides[path.stem])
        check_output_folder(args.out, "--out")
        if args.times is not None:
            check_output_file(args.times, "--times")
        if args.book or args.render:
            check_output_folder(args.html_root / "_build", "--html-root")
    except (ParameterError, OutputPathError) as e:
        print(f"[middleground] FAILED {e}", file=sys.stderr, flush=True)
        return 2
    # SIGTERM (a CI timeout, `kill`) stops the run like Ctrl-C: papermill shuts the kernel down
    # and the temporary notebook is removed. Only the main thread may set a handler; the old one
    # is put back when the run ends.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _execute(args, selected, overrides)
    except KeyboardInterrupt:
        print("[middleground] interrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _execute(args, selected: list[Path], overrides: dict[str, dict]) -> int:
    # Chapters record their claims beside the executed notebooks (the appendix lists them); a
    # whole-book run starts from an empty list, so no claim of an older build is shown.
    claims = Path(settings.set_default(CLAIMS_ENV, str(args.out / "claims")))
    if args.book:
        shutil.rmtree(claims, ignore_errors=True)
    if args.render:
        return _render_or_fail(args.out, args.html_root)

    total = 0.0
    times: dict[str, float] = {}
    for path in selected:
        print(f"[middleground] {path.stem}: running (profile {args.profile or 'default'})", flush=True)
        try:
            seconds = run_chapter(path, args.profile, overrides[path.stem], args.out)
        except (ChapterFailed, ParameterError) as e:
            print(f"[middleground] FAILED {e}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            print(f"[middleground] interrupted in chapter {path.stem!r}; its notebook was not written",
                  file=sys.stderr, flush=True)
            return 130
        total += seconds
        times[path.stem] = seconds
        print(f"[middleground] {path.stem}: {seconds:.1f} s", flush=True)
    print(f"[middleground] {len(selected)} chapter(s) in {total:.1f} s", flush=True)
    if args.times is not None:
        merged = {k: v for chapter in overrides.values() for k, v in chapter.items()}
        write_times(args.times, args.profile, merged, times)
    return _render_or_fail(args.out, args.html_root) if args.book else 0


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _render_or_fail(executed_dir: Path, html_root: Path) -> int:
    print("[middleground] rendering the executed notebooks (strict, execution off)", flush=True)
    t0 = time.perf_counter()
    try:
        html = render(executed_dir, html_root)
    except (ChapterFailed, StaleNotebook) as e:
        print(f"[middleground] FAILED {e}", file=sys.stderr, flush=True)
        return 1
    print(f"[middleground] book written to {html / 'index.html'} in {time.perf_counter() - t0:.1f} s",
          flush=True)
    return 0


def write_times(path: Path, profile: str | None, overrides: dict, times: dict[str, float]) -> None:
    """Record chapter wall times with what produced them (atomically)."""
    from ..base.files import write_json
    from ..gpt.device import pick
    from .provenance import stamp

    record = {"profile": profile or "default", "overrides": overrides, **stamp(),
              "device": pick().name,
              "sweep_cache": str(settings.sweep_cache()),
              "chapters": times, "total_s": sum(times.values())}
    write_json(path, record)


if __name__ == "__main__":
    sys.exit(main())
