"""Chapter calculus's numbers and sentences from fabricated gradient errors with known answers."""

import pytest

from middleground.experiments.calculus import (ATTENTION, EPS, TOL, error_table, headline,
                                               layer_norm_sentence, margin, summarise, zero_noise)


def _rows(**errors):
    names = {"linear": "linear", "ln": "layer norm", "att": ATTENTION, "gpt": "whole GPT (every parameter)"}
    return [{"component": names[k], "max_rel_error": v} for k, v in errors.items()]


def _error(**errors):
    return {r["component"]: r["max_rel_error"] for r in _rows(**errors)}


def test_margin_counts_orders_of_magnitude_below_the_tolerance():
    assert margin(1e-12) == pytest.approx(4.0)
    assert margin(1e-8) == pytest.approx(0.0)
    assert margin(0.0) == pytest.approx(292.0)  # a zero error counts as 1e-300


def test_the_error_table():
    assert error_table(_rows(linear=1.234e-15, att=0.0)) == (
        "| component | max relative error vs autograd (float64) |\n|---|---|\n"
        "| linear | 1.2e-15 |\n| causal multi-head attention | 0.0e+00 |")


def test_headline_every_error_below_the_tolerance():
    assert headline(_error(linear=1e-14, ln=1e-12, att=1e-15), att_scaled=1e-15) == (
        "The largest relative error of any component is 1.0e-12 (in layer norm), 4.0 orders of "
        "magnitude below the 1e-8 the test suite enforces.")


def test_headline_attention_stands_out_but_is_rounding_noise():
    text = headline(_error(linear=1e-14, ln=1e-12, att=1e-4), att_scaled=1e-16)
    assert text.startswith(f"One entry stands out: {ATTENTION}, at 1.0e-04.")
    assert "at most 1.0e-12, 4.0 orders of magnitude below" in text


@pytest.mark.parametrize("errors, att_scaled", [
    ({"linear": 1e-6, "ln": 1e-12, "att": 1e-15}, 1e-15),   # a component other than attention fails
    ({"linear": 1e-14, "ln": 1e-12, "att": 1e-4}, 1e-6),    # attention fails against all its gradients
    ({"linear": 1e-7, "ln": 1e-12, "att": 1e-4}, 1e-16)])   # attention worst, but another fails too
def test_headline_an_error_above_the_tolerance(errors, att_scaled):
    text = headline(_error(**errors), att_scaled)
    assert text.startswith("The largest relative error, ") and text.endswith(
        "is above the 1e-8 the test suite enforces.")


def test_zero_noise_both_outcomes():
    assert zero_noise(3e-17).startswith("autograd returns rounding noise, up to 3.0e-17 over the draws")
    assert zero_noise(0.0).startswith("autograd returned zeros too in this cell's draws")


def test_layer_norm_sentence_each_outcome():
    big = 1000 * EPS  # 2.2e-13: "well above rounding" starts here
    assert layer_norm_sentence(_error(linear=1e-14, ln=1e-12, att=1.0)) == (
        "The layer norm's error, 1.0e-12, is the largest of the components other than attention, and "
        "well above rounding.")
    assert layer_norm_sentence(_error(linear=1e-11, ln=1e-12, att=1.0)) == (
        "The layer norm's error, 1.0e-12, is well above rounding.")
    assert layer_norm_sentence(_error(linear=big / 2, ln=1e-14, att=1.0)) == (
        "In this run every component other than attention is within a factor of 1000 of rounding (the "
        "layer norm's error is 1.0e-14).")
    assert layer_norm_sentence(_error(linear=1e-12, ln=1e-14, att=1.0)) == (
        "The largest error of the components other than attention is 1.0e-12, in linear.")


def test_summarise_values_and_claims_from_known_errors():
    rows = _rows(linear=1e-15, ln=2e-12, att=5e-11, gpt=1e-13)
    r = summarise(rows, zero_hand=0.0, zero_torch=1e-16, att_scaled=1e-15, trials=3)
    v = r.values
    assert v["calc_trials"] == 3 and v["calc_worst"] == 5e-11 and v["calc_worst_component"] == ATTENTION
    assert v["calc_scaled_worst"] == 2e-12  # the largest of the others (layer norm) and att_scaled
    assert v["calc_scaled_margin"] == pytest.approx(3.69897, abs=1e-5)  # log10(1e-8 / 2e-12)
    assert v["calc_zero_hand"] == 0.0 and v["calc_att_scaled"] == 1e-15
    assert v["calc_headline"].startswith("The largest relative error of any component is 5.0e-11")
    assert v["calc_zero_noise"].startswith("autograd returns rounding noise, up to 1.0e-16")
    assert v["calc_ln_sentence"].startswith("The layer norm's error, 2.0e-12, is the largest")
    assert [c.holds for c in r.claims] == [True] * 5
    assert r.claims[0].text.startswith("every hand gradient agrees") and r.claims[0].value == 2e-12
    assert r.claims[4].value == {"layer norm": 2e-12, "largest of the rest": 1e-13}
    assert r.table.count("\n") == 5 and r.rows == tuple(rows)


def test_summarise_reports_a_wrong_gradient_and_a_nonzero_hand_gradient():
    r = summarise(_rows(linear=1e-3, ln=1e-12, att=1e-14), zero_hand=1e-9, zero_torch=0.0,
                  att_scaled=1e-14, trials=3)
    assert [c.holds for c in r.claims[:2]] == [False, False]
    assert r.values["calc_headline"].startswith("The largest relative error, 1.0e-03 in linear, is above")
    assert TOL == 1e-8
