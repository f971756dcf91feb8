"""Diff every glued value (and every checked claim) of two builds of the book.

    python benchmarks/glue_diff.py BEFORE AFTER [--chapters a,b] [--volatile REGEX] [--json OUT]

``BEFORE`` and ``AFTER`` are folders of executed notebooks (``runner --out``; each may hold a
``claims/`` folder too). For every chapter in either, every value glued with myst-nb is compared
exactly, as the text the page would show (``text/plain``, ``text/markdown``, ``text/html``), and
every claim by its sentence, status and value. A move of code that should change no number
prints ``identical`` and exits 0; otherwise each difference is listed and the exit status is 1.

Values that measure this machine's speed (wall times, throughput, MFU) differ between any two runs
of the same code. They are matched by ``--volatile`` (a regular expression on the key; the default
names the book's timing keys), listed apart, and do not count as differences; so are claims about
such timings (``VOLATILE_CLAIMS``, by sentence) whose status did not change. The defaults were read
from builds of the same commit, whose only differing keys they name.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

# Keys that measure time or speed on the machine that ran the chapter.
VOLATILE = (r"^run_time_|_ms$|_ms_|_s$|_seconds|_time|tokens_per_s|_tok_s|mfu|_peak|gflop|"
            r"_rate_|speed|_wall|throughput|_elapsed|^mm_in_|^mm_elem_|^tr_tps$|"
            r"^rf_(bw|balance|best|worst|cache_note)$|^tr_vs_bench$")
# Claims whose values are such timings (chapter matmul's shares of the measured time).
# (chapter training's and scaling's claims about measured rates and the roofline's measured roofs).
VOLATILE_CLAIMS = (r"of the time|of the arithmetic|share of the measured peak|not comparable with the table|"
                   r"runs above its roof|above 100 % of its roof|than the recorded benchmark \(|"
                   r"launching many small operations")


def glued(notebook: Path) -> dict[str, dict]:
    """Every value a notebook glued, by key: its mime bundle without papermill's prefix."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    out = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            book = output.get("metadata", {}).get("scrapbook")
            if not book:
                continue
            prefix = book.get("mime_prefix", "")
            out[book["name"]] = {k[len(prefix):]: v for k, v in output.get("data", {}).items()}
    return out


def claims(folder: Path, chapter: str) -> dict[str, tuple]:
    path = folder / "claims" / f"{chapter}.json"
    if not path.is_file():
        return {}
    items = json.loads(path.read_text(encoding="utf-8"))["claims"]
    return {c["text"]: (c["holds"], c["value"]) for c in items}


def diff(before: Path, after: Path, volatile: str = VOLATILE, only: list[str] | None = None,
         volatile_claims: str = VOLATILE_CLAIMS) -> dict:
    """``{"differ": [...], "volatile": [...], "only_before": [...], "only_after": [...],
    "compared": n}``, each entry naming the chapter and key (or claim)."""
    pattern = re.compile(volatile)
    report = {"differ": [], "volatile": [], "only_before": [], "only_after": [], "compared": 0}
    chapters = sorted({p.stem for p in before.glob("*.ipynb")} | {p.stem for p in after.glob("*.ipynb")})
    chapters = [c for c in chapters if not c.endswith(".failed") and (not only or c in only)]
    for chapter in chapters:
        a_path, b_path = before / f"{chapter}.ipynb", after / f"{chapter}.ipynb"
        if not a_path.is_file() or not b_path.is_file():
            (report["only_after"] if b_path.is_file() else report["only_before"]).append(f"{chapter} (chapter)")
            continue
        a, b = glued(a_path), glued(b_path)
        for key in sorted(set(a) | set(b)):
            where = f"{chapter}:{key}"
            if key not in b:
                report["only_before"].append(where)
            elif key not in a:
                report["only_after"].append(where)
            else:
                report["compared"] += 1
                if a[key] != b[key]:
                    entry = {"where": where, "before": _shown(a[key]), "after": _shown(b[key])}
                    report["volatile" if pattern.search(key) else "differ"].append(entry)
        ca, cb = claims(before, chapter), claims(after, chapter)
        for text in sorted(set(ca) | set(cb)):
            where = f"{chapter}: claim {text!r}"
            timing = re.search(volatile_claims, text)
            if text not in cb:  # a sentence chosen from a timing may be swapped for another
                report["volatile" if timing else "only_before"].append(where)
            elif text not in ca:
                report["volatile" if timing else "only_after"].append(where)
            else:
                report["compared"] += 1
                if ca[text] != cb[text]:
                    entry = {"where": where, "before": ca[text], "after": cb[text]}
                    same_status = ca[text][0] == cb[text][0]
                    report["volatile" if timing and same_status else "differ"].append(entry)
    return report


def _shown(bundle: dict) -> str:
    for kind in ("text/plain", "text/markdown", "text/html"):
        if kind in bundle:
            text = bundle[kind]
            return "".join(text) if isinstance(text, list) else str(text)
    return json.dumps(bundle)[:200]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--volatile", default=VOLATILE, help="regex of keys that measure speed")
    parser.add_argument("--chapters", default="", help="comma-separated chapters to compare (default all)")
    parser.add_argument("--json", type=Path, default=None, help="write the report here too")
    args = parser.parse_args(argv)
    for folder in (args.before, args.after):
        if not folder.is_dir():
            parser.error(f"{folder} is not a folder of executed notebooks")
    report = diff(args.before, args.after, args.volatile, [c for c in args.chapters.split(",") if c])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    for entry in report["differ"]:
        print(f"DIFFERS {entry['where']}: {entry['before']!r} -> {entry['after']!r}")
    for name in ("only_before", "only_after"):
        for where in report[name]:
            print(f"{name.upper().replace('_', ' ')}: {where}")
    print(f"{report['compared']} values and claims compared; {len(report['volatile'])} timing values "
          f"differ as timings do; "
          + ("identical" if not (report["differ"] or report["only_before"] or report["only_after"])
             else f"{len(report['differ'])} differ, {len(report['only_before'])} only before, "
                  f"{len(report['only_after'])} only after"))
    return 1 if (report["differ"] or report["only_before"] or report["only_after"]) else 0


if __name__ == "__main__":
    sys.exit(main())
