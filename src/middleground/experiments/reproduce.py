"""The reproduction appendix's experiment: the book's parameters, run times, claims and GPU plan.

:func:`run` tabulates four things, each with a pure function that takes plain inputs:

- every chapter's parameters under the three profiles (:func:`parameters_table`);
- the chapters' recorded wall times (:func:`times_table`, from :func:`read_times`);
- the claims this build checked (:func:`claims_table`). The claims are book tooling, so they are
  read by the book layer (:func:`middleground.book.claims.collected`) and handed in as dicts;
- what the ``gpu`` profile trains (:func:`gpu_table`, from :func:`middleground.experiments.plan.book`).

The chapters to list, in reading order, are handed in too (the book's table of contents is the
book layer's to read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..base.paths import PROJECT_ROOT
from ..base.profiles import CHAPTERS, ChapterConfig, resolve
from .report import Findings, Result

PROFILES = ("quick", "full", "gpu")
TIMES = PROJECT_ROOT / "benchmarks" / "results"  # chapter_times_<profile>.json, written by runner --times


def parameters_table(order: Sequence[str], chapters: Mapping[str, Mapping] = CHAPTERS) -> str:
    """Every parameter but the seed of each chapter in ``order``, with its value under each
    profile and its meaning, as a Markdown table."""
    lines = ["| chapter | parameter | quick | full | gpu | meaning |", "|---|---|---|---|---|---|"]
    for chapter in order:
        for name, p in chapters[chapter].items():
            if name == "seed":
                continue
            lines.append(f"| {chapter} | `{name}` | {p.quick} | {p.full} | {p.gpu} | {p.help} |")
    return "\n".join(lines)


def read_times(folder: Path = TIMES) -> dict[str, dict]:
    """The recorded chapter times by profile, for the profiles that have a record in ``folder``."""
    records = {}
    for prof in PROFILES:
        path = folder / f"chapter_times_{prof}.json"
        if path.exists():
            records[prof] = json.loads(path.read_text())
    return records


def times_table(records: Mapping[str, Mapping], order: Sequence[str]) -> tuple[str, dict]:
    """The run-time table (seconds by chapter and profile, a total in minutes, and a note per
    record: date, commit, device, or that a profile has none), and its quoted values: the quick and
    full totals in minutes and the profiles not recorded."""
    profiles_shown = list(records)
    lines = ["| chapter | " + " | ".join(f"{p} (s)" for p in profiles_shown) + " |",
             "|---|" + "---|" * len(profiles_shown)]
    for chapter in order:
        cells = [f"{records[p]['chapters'][chapter]:.1f}" if chapter in records[p]["chapters"] else "–"
                 for p in profiles_shown]
        lines.append(f"| {chapter} | " + " | ".join(cells) + " |")
    lines.append("| **total** | " + " | ".join(f"**{records[p]['total_s'] / 60:.1f} min**" for p in profiles_shown) + " |")
    notes = [f"- `{p}`: {r['date']}, commit {r['commit'][:10]}, {r['device']}" for p, r in records.items()]
    missing = [p for p in PROFILES if p not in records]
    if missing:
        notes.append(f"- not recorded: {', '.join(missing)}")
    values = {f"rep_total_{p}": records[p]["total_s"] / 60 for p in ("quick", "full") if p in records}
    values["rep_missing"] = ", ".join(missing) if missing else "none"
    return "\n".join(lines) + "\n\n" + "\n".join(notes), values


def claims_table(recorded: Sequence[Mapping], order: Sequence[str]) -> tuple[str, int, int]:
    """The claims of each chapter in ``order`` (``recorded``: one dict per chapter as
    :class:`~middleground.book.claims.Claims` writes it), as a Markdown table with a row for a
    chapter not executed in this build; and how many claims were checked and how many failed."""
    by_chapter = {r["chapter"]: r for r in recorded}
    rows = ["| chapter | claim | value | status |", "|---|---|---|---|"]
    n_checked = n_failing = 0
    for chapter in order:
        r = by_chapter.get(chapter)
        if r is None:
            rows.append(f"| {chapter} | (not executed in this build) | | |")
            continue
        for c in r["claims"]:
            n_checked += 1
            n_failing += not c["holds"]
            text = c["text"].replace("|", "\\|")
            rows.append(f"| {chapter} | {text} | {c['value']} | {c['status']} |")
    return "\n".join(rows), n_checked, n_failing


def gpu_table(gpu_rows: Mapping[str, Sequence]) -> tuple[str, dict]:
    """The ``gpu`` profile's trainings (``gpu_rows``: chapter to
    :class:`~middleground.gpt.budget.Training` rows) as a Markdown table, and their totals:
    training and evaluation FLOPs, estimated H100 seconds, the largest memory and the runs."""
    lines = ["| chapter | what | layers × width, context, vocabulary | parameters | runs (per ensemble) | steps × windows "
             "| training TFLOP | evaluation TFLOP | memory (GiB) | H100 at 40 % (s) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    total_flops = total_eval = total_seconds = 0.0
    peak_memory = 0
    for chapter, rows in gpu_rows.items():
        for r in rows:
            flops, memory = r.flops(), r.memory_bytes()
            total_flops += flops
            total_eval += r.eval_flops()
            total_seconds += r.gpu_seconds()
            peak_memory = max(peak_memory, memory)
            together = f" ({r.members})" if r.members > 1 else ""
            lines.append(f"| {chapter} | {r.what} | {r.model.n_layer} × {r.model.n_embd}, {r.model.block_size}, "
                         f"{r.model.vocab_size} "
                         f"| {r.n_params:,} | {r.runs:,}{together} | {r.steps:,} × {r.batch_size} "
                         f"| {flops / 1e12:,.1f} | {r.eval_flops() / 1e12:,.1f} | {memory / 2**30:.2f} "
                         f"| {r.gpu_seconds():,.1f} |")
    totals = {"flops": total_flops, "eval_flops": total_eval, "seconds": total_seconds,
              "memory": peak_memory, "runs": sum(r.runs for rows in gpu_rows.values() for r in rows)}
    return "\n".join(lines), totals


def gpu_values(totals: Mapping[str, float], bf16_flops: float, fp32_flops: float, gpu_width: int) -> dict:
    """The prose's figures of the GPU plan, formatted as it quotes them (PFLOP, minutes, GiB)."""
    return {"rep_gpu_width": gpu_width,
            "rep_h100_tflops": f"{bf16_flops / 1e12:,.0f}",
            "rep_gpu_pflop": f"{totals['flops'] / 1e15:.1f}",
            "rep_gpu_eval_pflop": f"{totals['eval_flops'] / 1e15:.1f}",
            "rep_h100_fp32_tflops": f"{fp32_flops / 1e12:,.0f}",
            "rep_gpu_minutes": f"{totals['seconds'] / 60:.1f}",
            "rep_gpu_memory": f"{totals['memory'] / 2**30:.1f}",
            "rep_gpu_runs": f"{totals['runs']:,}"}


@dataclass(frozen=True)
class ReproduceResult(Result):
    """The appendix's four Markdown tables and every value it quotes (it states no claim)."""

    parameters_table: str
    times_table: str
    claims_table: str
    gpu_table: str


def run(cfg: ChapterConfig, order: Sequence[str], recorded: Sequence[Mapping]) -> ReproduceResult:
    """The appendix for the chapters in ``order`` (reading order) and this build's ``recorded``
    claims (:func:`middleground.book.claims.collected`)."""
    from ..gpt import budget
    from . import plan

    found = Findings()
    times, values = times_table(read_times(), order)
    claims, n_checked, n_failing = claims_table(recorded, order)
    values.update({"rep_claims": n_checked, "rep_claims_failing": n_failing, "rep_claims_profile": cfg.profile})
    gpu, totals = gpu_table(plan.book("gpu", cfg.seed))
    values.update(gpu_values(totals, budget.H100_BF16_FLOPS, budget.H100_FP32_FLOPS,
                             resolve("knob", "gpu").width))
    for key, value in values.items():
        found.value(key, value)
    return ReproduceResult(parameters_table=parameters_table(order), times_table=times, claims_table=claims,
                           gpu_table=gpu, **found.done())
