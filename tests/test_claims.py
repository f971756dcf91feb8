"""Claims: a sentence of the prose that its numbers contradict fails an enforcing build, is listed
under quick, and is recorded for the appendix."""

import json

import pytest

from middleground.book import runner
from middleground.book.claims import ClaimFailed, Claims, collected, show
from middleground.base.profiles import resolve


def test_a_false_claim_is_listed_under_quick_and_fails_under_full(tmp_path):
    quick = Claims(resolve("intro", "quick"), folder=tmp_path)
    assert quick("the excess is a few hundredths of a bit", 0.01 <= 0.5 < 0.1, 0.5) is False
    record = json.loads((tmp_path / "intro.json").read_text())
    assert record["claims"][0]["holds"] is False and "not enforced" in record["claims"][0]["status"]
    full = Claims(resolve("intro", "full"), folder=tmp_path)
    assert full("true things pass", True, 1.0)
    with pytest.raises(ClaimFailed, match=r"'the excess is small' does not hold for 0\.5"):
        full("the excess is small", 0.5 < 0.1, 0.5)
    assert [c["status"] for c in collected(tmp_path)[0]["claims"]] == ["holds", "FAILS"]


def test_a_readers_run_with_overridden_parameters_lists_claims_but_does_not_stop(tmp_path):
    claim = Claims(resolve("intro", "full", steps=10), folder=tmp_path)
    assert not claim.enforced and claim("sizes as published", False, 10) is False


def test_choose_picks_the_first_sentence_that_holds_and_records_it(tmp_path):
    claim = Claims(resolve("intro", "full"), folder=tmp_path)
    x = 0.03
    text = claim.choose([("well below a tenth", x < 0.01), ("a few hundredths", x < 0.1),
                         ("large", True)], x)
    assert text == "a few hundredths" and claim.items[-1].holds and claim.items[-1].value == "0.03"
    with pytest.raises(ValueError, match="must cover every outcome"):
        claim.choose([("never", False)], x)
    with pytest.raises(ValueError, match="sentence as text"):
        claim("", True, 1)


def test_values_print_compactly():
    assert show(0.0123456) == "0.01235" and show([1.0, 2]) == "1, 2" and show({"a": 0.5}) == "a = 0.5"


NOTEBOOK = """---
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

```{{code-cell}} ipython3
:tags: [parameters]
profile = None
seed = None
```

```{{code-cell}} ipython3
from middleground.book.claims import Claims
from middleground.base.profiles import resolve

cfg = resolve("reproduce", profile, seed=seed)
claim = Claims(cfg)
excess = 0.5
claim("the excess is a few hundredths of a bit", 0.01 <= excess < 0.1, excess)
```
"""


@pytest.mark.parametrize("profile,fails", [("full", True), ("quick", False)])
def test_a_chapter_whose_prose_its_numbers_contradict_fails_an_enforcing_build(
        tmp_path, monkeypatch, profile, fails):
    chapter = tmp_path / "reproduce.md"  # a stem with declared parameters (profile, seed)
    chapter.write_text(NOTEBOOK.format())
    monkeypatch.setenv("MIDDLEGROUND_CLAIMS_DIR", str(tmp_path / "claims"))
    if fails:
        with pytest.raises(runner.ChapterFailed) as err:
            runner.run_chapter(chapter, profile, {}, tmp_path / "out")
        assert "ClaimFailed" in str(err.value) and "a few hundredths of a bit" in str(err.value)
        assert "0.5" in str(err.value)
    else:
        runner.run_chapter(chapter, profile, {}, tmp_path / "out")
    status = json.loads((tmp_path / "claims" / "reproduce.json").read_text())["claims"][0]["status"]
    assert status == ("FAILS" if fails else "does not hold (not enforced under this profile)")
