"""Chapter ladder's experiment: the size ladder along both knobs, arranged for the central test.

The runs come from :func:`middleground.sweeps.knob.ladder_results`; this module turns them into one
row per run (:func:`runs`) and one record per knob setting with its seeds × sizes arrays
(:func:`settings`), the input of :func:`middleground.measures.predictability.central_test`.
:func:`central` does all of it for a profile, so the introduction and chapter questions quote the
very test that chapter ladder states and runs.
"""

from __future__ import annotations

import numpy as np

from ..base.profiles import resolve
from ..measures import predictability, regions
from ..sources.knobs import KNOB_K, KNOBS
from ..sweeps import knob


def runs(cells: list[dict], results: list[dict]) -> list[dict]:
    """One row per run: its setting, seed, width, size N, region and final evaluation."""
    sizes = {w: knob.non_embedding_params(w) for w in {c["model"]["n_embd"] for c in cells}}
    out = []
    for c, r in zip(cells, results):
        out.append({"family": c["family"], "knob": c["knob"], "seed": c["seed"],
                    "width": c["model"]["n_embd"], "N": sizes[c["model"]["n_embd"]],
                    "h": r["h"], "E": r["E"], "share": r["h"] / np.log2(KNOB_K),
                    "region": regions.region(r["h"], r["E"], KNOB_K), **r["final"]})
    return out


def settings(rows: list[dict], widths: list[int]) -> list[dict]:
    """One record per knob setting, in knob order: seeds × sizes arrays of the excess loss above
    the floor, the exact continuations and the continuation's cross-entropy, as the central test
    takes them."""
    out = []
    for fam in KNOBS:
        for kv in sorted({r["knob"] for r in rows if r["family"] == fam}):
            rs = [r for r in rows if r["family"] == fam and r["knob"] == kv]
            seeds = sorted({r["seed"] for r in rs})
            grid = {(r["seed"], r["width"]): r for r in rs}

            def table(key):
                return np.array([[grid[s, w][key] for w in widths] for s in seeds])

            out.append({"family": fam, "knob": kv, "h": rs[0]["h"], "E": rs[0]["E"],
                        "share": rs[0]["share"], "region": rs[0]["region"],
                        "N": np.array([grid[seeds[0], w]["N"] for w in widths], dtype=float),
                        "excess": table("excess_floor"), "target": table("target_bits"),
                        "k": table("exact_count"), "n": rs[0]["n_prompts"]})
    return out


def central(profile: str | None, seed: int = 0) -> dict:
    """The central test at chapter ladder's sizes for ``profile``: its configuration, widths, rows,
    settings, the test itself and the decision by the pre-stated rule."""
    cfg = resolve("ladder", profile, seed=seed)
    cells, results, counts, widths = knob.ladder_results(cfg.profile, cfg.seed)
    rows = runs(cells, results)
    sets = settings(rows, widths)
    test = predictability.central_test(sets, cfg.n_boot, cfg.n_perm, cfg.seed)
    return {"cfg": cfg, "widths": widths, "runs": rows, "settings": sets, "test": test,
            "decision": predictability.decision(test), "counts": counts}
