"""The reproduction appendix's tables from fabricated records with known answers."""

import json
from dataclasses import dataclass

from middleground.base.profiles import Param
from middleground.experiments.reproduce import (claims_table, gpu_table, gpu_values, parameters_table,
                                                read_times, times_table)

CHAPTERS = {"a": {"seed": Param(int, 0, 0, 0, help="seed"),
                  "steps": Param(int, 10, 200, 4000, help="training steps")},
            "b": {"width": Param(int, 8, 32, 256, help="model width"),
                  "seed": Param(int, 0, 0, 0, help="seed")}}


def test_parameters_table_skips_the_seed_and_follows_the_order():
    assert parameters_table(["b", "a"], CHAPTERS).splitlines() == [
        "| chapter | parameter | quick | full | gpu | meaning |", "|---|---|---|---|---|---|",
        "| b | `width` | 8 | 32 | 256 | model width |",
        "| a | `steps` | 10 | 200 | 4000 | training steps |"]


def _record(chapters, total, date="2026-01-01", commit="0123456789abcdef", device="CPU"):
    return {"chapters": chapters, "total_s": total, "date": date, "commit": commit, "device": device}


def test_times_table_with_one_profile_missing_and_a_chapter_not_timed():
    records = {"quick": _record({"a": 1.25, "b": 2.0}, 90.0), "full": _record({"a": 30.0}, 600.0)}
    table, values = times_table(records, ["a", "b"])
    assert table.splitlines() == [
        "| chapter | quick (s) | full (s) |", "|---|---|---|",
        "| a | 1.2 | 30.0 |", "| b | 2.0 | – |",
        "| **total** | **1.5 min** | **10.0 min** |", "",
        "- `quick`: 2026-01-01, commit 0123456789, CPU", "- `full`: 2026-01-01, commit 0123456789, CPU",
        "- not recorded: gpu"]
    assert values == {"rep_total_quick": 1.5, "rep_total_full": 10.0, "rep_missing": "gpu"}


def test_times_table_with_every_profile():
    records = {p: _record({"a": 1.0}, 60.0) for p in ("quick", "full", "gpu")}
    table, values = times_table(records, ["a"])
    assert "not recorded" not in table and values["rep_missing"] == "none"


def test_read_times_reads_the_profiles_recorded(tmp_path):
    (tmp_path / "chapter_times_full.json").write_text(json.dumps(_record({"a": 3.0}, 3.0)))
    assert read_times(tmp_path) == {"full": _record({"a": 3.0}, 3.0)}


def test_claims_table_counts_escapes_and_lists_a_chapter_not_executed():
    recorded = [{"chapter": "b", "claims": [
        {"text": "x | y holds", "holds": True, "value": "0.5", "status": "holds"},
        {"text": "z is small", "holds": False, "value": "3", "status": "does not hold"}]},
        {"chapter": "other", "claims": [{"text": "t", "holds": False, "value": "1", "status": "FAILS"}]}]
    table, n_checked, n_failing = claims_table(recorded, ["a", "b"])
    assert (n_checked, n_failing) == (2, 1)  # a chapter outside the order is not counted
    assert table.splitlines()[2:] == ["| a | (not executed in this build) | | |",
                                      "| b | x \\| y holds | 0.5 | holds |",
                                      "| b | z is small | 3 | does not hold |"]


@dataclass(frozen=True)
class _Model:
    n_layer: int = 2
    n_embd: int = 64
    block_size: int = 32
    vocab_size: int = 65


@dataclass
class _Row:
    """A Training row with known counts (no model is built)."""
    what: str
    runs: int
    members: int
    train: float
    evals: float
    memory: int
    seconds: float
    model: _Model = _Model()
    n_params: int = 12345
    steps: int = 1000
    batch_size: int = 8

    def flops(self):
        return self.train

    def eval_flops(self):
        return self.evals

    def memory_bytes(self):
        return self.memory

    def gpu_seconds(self):
        return self.seconds


def test_gpu_table_rows_and_totals_by_hand():
    rows = {"a": [_Row("one model", 1, 1, 2e12, 5e11, 2**30, 12.0)],
            "b": [_Row("an ensemble", 12, 4, 3e15, 1.5e15, 3 * 2**30, 228.0),
                  _Row("another", 3, 3, 1e12, 0.0, 2**29, 0.0)]}
    table, totals = gpu_table(rows)
    assert totals == {"flops": 2e12 + 3e15 + 1e12, "eval_flops": 5e11 + 1.5e15, "seconds": 240.0,
                      "memory": 3 * 2**30, "runs": 16}
    lines = table.splitlines()
    assert len(lines) == 5
    assert lines[2] == "| a | one model | 2 × 64, 32, 65 | 12,345 | 1 | 1,000 × 8 | 2.0 | 0.5 | 1.00 | 12.0 |"
    assert lines[3] == ("| b | an ensemble | 2 × 64, 32, 65 | 12,345 | 12 (4) | 1,000 × 8 | 3,000.0 | 1,500.0 "
                        "| 3.00 | 228.0 |")
    values = gpu_values(totals, 989e12, 67e12, 256)
    assert values == {"rep_gpu_width": 256, "rep_h100_tflops": "989", "rep_gpu_pflop": "3.0",
                      "rep_gpu_eval_pflop": "1.5", "rep_h100_fp32_tflops": "67", "rep_gpu_minutes": "4.0",
                      "rep_gpu_memory": "3.0", "rep_gpu_runs": "16"}


def test_gpu_values_format_thousands():
    values = gpu_values({"flops": 1.26e17, "eval_flops": 0.0, "seconds": 90.0, "memory": 2**31, "runs": 1084},
                        1979e12, 67e12, 32)
    assert values["rep_h100_tflops"] == "1,979" and values["rep_gpu_runs"] == "1,084"
    assert values["rep_gpu_pflop"] == "126.0" and values["rep_gpu_minutes"] == "1.5"
    assert values["rep_gpu_memory"] == "2.0" and values["rep_gpu_eval_pflop"] == "0.0"
