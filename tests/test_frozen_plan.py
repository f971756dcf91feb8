"""A frozen plan: hashed, dated by git, its changes listed, and a result from another plan refused."""

import hashlib
import subprocess

import pytest

from middleground.experiments import frozen_plan as fp

PLAN = """\
[settings]
families = ["iid", "period"]
[sizes]
widths = [6, 8, 12]
[schedule]
steps = 600
[statistics]
interval = 0.95
[decision]
min_coverage = 0.8
[secondary]
tests = ["within-run"]
"""


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_a_plan_is_hashed_dated_by_its_commits_and_lists_its_changes(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.org")
    git(tmp_path, "config", "user.name", "t")
    path = tmp_path / "plan.toml"
    path.write_text(PLAN)
    git(tmp_path, "add", "plan.toml")
    git(tmp_path, "commit", "-qm", "freeze")
    frozen = git(tmp_path, "rev-parse", "HEAD")
    plan = fp.load(path)
    assert plan.sha256 == hashlib.sha256(PLAN.encode()).hexdigest()
    assert plan.first_commit == plan.last_commit == frozen and plan.changes == ()
    assert plan.section("sizes")["widths"] == (6, 8, 12)
    with pytest.raises(TypeError):
        plan.section("sizes")["widths"] = (1,)  # read-only
    path.write_text(PLAN + '\n[[changes]]\ndate = "2026-12-07"\nchange = "steps 600 -> 900"\n'
                           'reason = "the smallest rung had not reached its plateau"\n')
    git(tmp_path, "commit", "-qam", "change")
    changed = fp.load(path)
    assert changed.first_commit == frozen and changed.last_commit == git(tmp_path, "rev-parse", "HEAD")
    assert changed.changes == (fp.Change("2026-12-07", "steps 600 -> 900",
                                         "the smallest rung had not reached its plateau"),)
    # a result computed under the first plan is refused under the changed one
    fp.check_result(plan, plan.sha256)
    with pytest.raises(fp.PlanMismatch, match="computed under the plan with SHA-256"):
        fp.check_result(changed, plan.sha256)


def test_outside_a_checkout_the_hash_still_identifies_the_plan(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(PLAN)
    plan = fp.load(path)
    assert plan.first_commit is None and plan.last_commit is None and len(plan.sha256) == 64


def test_a_plan_without_a_section_or_a_change_without_its_reason_is_refused(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(PLAN.replace("[decision]\nmin_coverage = 0.8\n", ""))
    with pytest.raises(fp.PlanError, match="lacks the section.s. decision"):
        fp.load(path)
    path.write_text(PLAN + '[[changes]]\ndate = "2026-12-07"\nchange = "x"\n')
    with pytest.raises(fp.PlanError, match="change 1 .* lacks reason"):
        fp.load(path)
    path.write_text("not = [toml")
    with pytest.raises(fp.PlanError, match="is not valid TOML"):
        fp.load(path)
    with pytest.raises(fp.PlanError, match="cannot read the plan"):
        fp.load(tmp_path / "missing.toml")
