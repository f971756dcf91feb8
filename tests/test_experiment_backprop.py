"""Chapter backprop's numbers from fabricated runs with known answers (no training)."""

import pytest

from middleground.experiments.backprop import AGREEMENT, agreement_sentence, summarise


def _records(numpy_losses, torch_losses):
    out = []
    for step, (a, b) in enumerate(zip(numpy_losses, torch_losses), start=1):
        out += [{"step": step, "implementation": "numpy (by hand)", "loss": a},
                {"step": step, "implementation": "torch (autograd)", "loss": b}]
    return out


FACTS = {"max_abs_param_diff": 2e-9, "max_abs_param": 0.5, "n_params": 12345}


def test_values_and_claims_from_known_losses():
    r = summarise(_records([4.0, 3.0, 2.0], [4.0, 3.0 + 3e-9, 2.0 - 2e-9]), FACTS, steps=3, lines=400)
    v = r.values
    assert v["bp_steps"] == 3 and v["bp_params"] == "12,345" and v["bp_lines"] == 400
    assert v["bp_first_loss"] == 4.0 and v["bp_final_loss"] == 2.0
    assert v["bp_loss_gap"] == pytest.approx(3e-9)
    assert v["bp_loss_rel"] == pytest.approx(1e-9)  # 2e-9 / 2.0 at the last step is the largest
    assert v["bp_param_rel"] == pytest.approx(4e-9)
    assert v["bp_agreement"] == AGREEMENT[0][0]
    assert all(c.holds for c in r.claims) and len(r.claims) == 5


def test_a_wrong_gradient_fails_the_claims_and_picks_the_last_sentence():
    r = summarise(_records([4.0, 3.0], [4.0, 3.5]), {**FACTS, "max_abs_param_diff": 0.1},
                  steps=2, lines=50)
    failed = {c.text for c in r.claims if not c.holds}
    assert any("step for step" in t for t in failed)
    assert any("largest parameter" in t for t in failed)
    assert any("few hundred lines" in t for t in failed)
    assert r.values["bp_agreement"] == AGREEMENT[-1][0]


@pytest.mark.parametrize("loss_rel, param_rel, index", [
    (1e-9, 5e-7, 0), (1e-9, 1e-6, 1), (5e-4, 1e-9, 1), (1e-3, 0.0, 2), (0.5, 0.5, 2)])
def test_the_agreement_sentence_follows_the_larger_difference(loss_rel, param_rel, index):
    assert agreement_sentence(loss_rel, param_rel) == AGREEMENT[index][0]


def test_a_loss_that_does_not_fall_is_reported():
    r = summarise(_records([2.0, 2.5], [2.0, 2.5]), FACTS, steps=2, lines=300)
    assert not next(c for c in r.claims if c.text == "the loss falls over training").holds
