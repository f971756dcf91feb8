"""Chapter natural's numbers from fabricated runs with known answers (no training)."""

import bz2
import lzma
import math
import zlib

import numpy as np
import pytest

from middleground.experiments import natural
from middleground.experiments.natural import GPT
from middleground.experiments.report import Findings


def _done(found):
    out = found.done()
    return out["values"], out["claims"]


def test_names_of_the_block_estimator_and_noise_rates():
    assert natural.block_key(5) == "Miller–Madow h(5)"
    assert natural.noise_rate("noise 0.25") == 0.25 and natural.noise_rate("original") == 0.0
    assert natural.noise_rate("word shuffle") is None and natural.noise_rate("ngram 3") is None


# --- estimators along the degradations -------------------------------------------------------------

def _heldout_by_hand(x, cut):
    train, whole = bytes(x[:cut].tolist()), bytes(x.tolist())  # one byte per symbol
    size = {"zlib": lambda b: len(zlib.compress(b, 9)), "bz2": lambda b: len(bz2.compress(b, 9)),
            "lzma": lambda b: len(lzma.compress(b, preset=9 | lzma.PRESET_EXTREME))}
    return {name: 8.0 * (f(whole) - f(train)) / (len(x) - cut) for name, f in size.items()}


def test_held_out_compressor_rates_cost_the_last_tenth_given_the_rest():
    texts = {"cycle": (np.arange(20) % 4).astype(np.int64), "ramp": np.arange(30, dtype=np.int64),
             "unused": np.zeros(10, dtype=np.int64)}
    fair = natural.heldout_rates(texts, ["cycle", "ramp"])
    assert list(fair) == ["cycle", "ramp"]
    assert fair["cycle"] == _heldout_by_hand(texts["cycle"], 18)  # 2 held-out symbols of 20
    assert fair["ramp"] == _heldout_by_hand(texts["ramp"], 27)  # 3 of 30


def test_estimator_rows_by_text_and_estimate():
    names = ["original", "noise 0.5", "word shuffle"]
    est = {n: {"h": np.array([3.0, 2.0]), "h_part_sd": np.array([0.1, 0.2])} for n in names}
    fair = {n: {"zlib": 3.5, "bz2": 3.0, "lzma": 3.25} for n in names}
    cells = [{"degradation": n, "seed": s} for n in names for s in ((0, 1) if n == "original" else (0,))]
    bits = {("original", 0): 4.0, ("original", 1): 5.0, ("noise 0.5", 0): 6.0, ("word shuffle", 0): 4.5}
    results = [{"val_bits": bits[(c["degradation"], c["seed"])]} for c in cells]
    rows = natural.estimator_rows(names, est, fair, cells, results, 2)
    assert len(rows) == 15
    assert rows[0] == {"text": "original", "kind": "noise", "p": 0.0, "estimator": "Miller–Madow h(2)",
                       "bits": 2.0, "sd": 0.2}
    assert rows[1] == {"text": "original", "kind": "noise", "p": 0.0, "estimator": "zlib", "bits": 3.5,
                       "sd": None}
    assert rows[4]["estimator"] == GPT and rows[4]["bits"] == 4.5 and rows[4]["sd"] == pytest.approx(0.5 ** 0.5)
    assert rows[9]["p"] == 0.5 and rows[9]["bits"] == 6.0 and rows[9]["sd"] == 0.0  # one seed: no spread
    assert rows[10]["kind"] == "structure removed" and rows[10]["p"] is None


@pytest.mark.parametrize("gpt, sentence", [
    (4.0, "looser than lzma and bz2 on the same held-out text"),
    (3.25, "looser than lzma and bz2 on the same held-out text"),  # above both, though below zlib
    (2.0, "tighter than every compressor"),
    (2.75, "between the compressors' rates")])
def test_where_the_gpt_lies_relative_to_the_compressors(gpt, sentence):
    assert natural.gpt_vs_sentence({GPT: gpt, "zlib": 3.5, "bz2": 2.5, "lzma": 3.0}) == sentence


NAMES = ["original", "noise 0.5", "noise 1.0", "word shuffle", "char shuffle", "ngram 1", "ngram 3"]
# hL, zlib, bz2, lzma, GPT per text.
TABLE = {"original": (1.5, 3.0, 2.5, 2.75, 2.25), "noise 0.5": (0.5, 4.0, 3.5, 3.75, 4.5),
         "noise 1.0": (0.25, 7.0, 7.0, 7.0, math.log2(65) + 0.01), "word shuffle": (1.0, 3.5, 3.0, 3.25, 3.0),
         "char shuffle": (2.0, 4.5, 4.0, 4.25, 4.0), "ngram 1": (1.0, 3.0, 3.0, 3.0, 3.5),
         "ngram 3": (1.25, 3.0, 3.0, 3.0, 2.5)}


def _rows(table=TABLE):
    keys = ("Miller–Madow h(2)", "zlib", "bz2", "lzma", GPT)
    return [{"text": n, "estimator": k, "bits": b} for n in NAMES for k, b in zip(keys, table[n])]


def test_the_degradations_values_and_claims():
    found = Findings()
    orig = natural.degradation_findings(found, _rows(), NAMES, {"lzma": 3.125, "bz2": 2.875}, 2, 10)
    v, claims = _done(found)
    assert orig == {"Miller–Madow h(2)": 1.5, "zlib": 3.0, "bz2": 2.5, "lzma": 2.75, GPT: 2.25}
    assert (v["nat_gpt_orig"], v["nat_lzma_orig"], v["nat_bz2_orig"], v["nat_zlib_orig"]) == (2.25, 2.75, 2.5, 3.0)
    assert (v["nat_hL_orig"], v["nat_Lmax"], v["nat_iters"]) == (1.5, 2, 10)
    assert [v[f"nat_gpt_{t}"] for t in ("ws", "cs", "ng3", "ng1")] == [3.0, 4.0, 2.5, 3.5]
    assert v["nat_uniform"] == math.log2(65)
    assert (v["nat_p_low"], v["nat_hL_noisy"], v["nat_upper_noisy"]) == (0.5, 0.5, 3.5)
    assert v["nat_gpt_pmax"] == math.log2(65) + 0.01
    assert (v["nat_lzma_whole"], v["nat_bz2_whole"]) == (3.125, 2.875)
    assert v["nat_gpt_vs"] == "tighter than every compressor"
    assert len(claims) == 8 and all(c.holds for c in claims), [c.text for c in claims if not c.holds]
    rises = next(c for c in claims if c.text.startswith("word shuffle:"))
    assert rises.value == {"zlib": 0.5, "bz2": 0.5, "lzma": 0.5, GPT: 0.75}


def test_a_shuffle_that_lowers_a_bound_fails_its_claims():
    table = {**TABLE, "char shuffle": (2.0, 4.5, 4.0, 4.25, 2.0)}  # the GPT does better than on the text
    found = Findings()
    natural.degradation_findings(found, _rows(table), NAMES, {"lzma": 3.0, "bz2": 3.0}, 2, 10)
    _, claims = _done(found)
    failed = [c.text for c in claims if not c.holds]
    assert failed == ["char shuffle: every upper bound (compressors, GPT) rises above its value on the "
                      "original text",
                      "the character shuffle raises the GPT's held-out loss above the original's"]


# --- capabilities ---------------------------------------------------------------------------------

def _run(name, seed, bits, word, name_exact, word_n=256, name_n=81):
    cell = {"degradation": name, "seed": seed}
    result = {"val_bits": bits, "word_exact": word, "word_chars": word / 2 if word is not None else None,
              "word_n": word_n if word is not None else 0, "name_exact": name_exact,
              "name_chars": name_exact, "name_n": name_n if name_exact is not None else 0}
    return cell, result


def _runs(specs):
    pairs = [_run(*s) for s in specs]
    return [c for c, _ in pairs], [r for _, r in pairs]


def test_capability_rows_skip_a_capability_without_prompts():
    cells, results = _runs([("original", 0, 2.5, 0.5, 0.25), ("word shuffle", 3, 3.0, 0.125, None)])
    rows = natural.capability_rows(cells, results)
    assert [(r["text"], r["capability"]) for r in rows] == [
        ("original", "word completion"), ("original", "speaker name"), ("word shuffle", "word completion")]
    assert rows[0] == {"text": "original", "p": 0.0, "seed": 0, "capability": "word completion",
                       "exact": 0.5, "chars": 0.25, "loss": 2.5, "n": 256}
    assert rows[2]["p"] is None and rows[2]["seed"] == 3
    assert natural.per_seed(rows, "original", "speaker name") == [0.25]
    assert natural.mean_capability(rows, "word shuffle", "word completion") == 0.125
    assert math.isnan(natural.mean_capability(rows, "word shuffle", "speaker name"))
    assert natural.prompts(rows, "original", "speaker name") == 81


def test_the_speaker_name_sentence():
    assert natural.name_sentence([0.0, 0.0], 81) == (
        "it never completes a speaker name, in any seed, even on the clean text (0 of 81 prompts per "
        "seed): at this training budget the capability is absent")
    assert natural.name_sentence([0.25, 0.5], 81) == "it completes 0.375 of speaker names"


@pytest.mark.parametrize("w0, half, sentence", [
    ([0.5], [0.0, 0.0], "word completion falls to zero in every seed"),
    ([0.5], [0.25], "word completion falls to 0.250"),
    ([0.0], [0.0], "word completion stays at 0.000"),  # nothing to fall from
    ([0.25], [0.5], "word completion stays at 0.500")])
def test_word_completion_at_half_noise(w0, half, sentence):
    assert natural.half_word_sentence(w0, half) == sentence


@pytest.mark.parametrize("n0, half, sentence", [
    ([0.0], [0.0], "speaker names, absent on clean text, stay absent"),
    ([0.5], [0.25], "speaker names fall to 0.250"),
    ([0.25], [0.25], "speaker names stay at 0.250")])
def test_speaker_names_at_half_noise(n0, half, sentence):
    assert natural.half_name_sentence(n0, half) == sentence


def test_similar_loss_different_capability():
    loss = {"original": [2.25, 2.25], "ngram 3": [2.25, 2.25]}
    sentence, value = natural.loss_vs_capability(loss, [0.5, 0.625], [0.125, 0.25], 2, 256)
    assert sentence == ("the original text and its order-3 surrogate reach similar held-out loss (2.250 and "
                        "2.250 bits), yet word completion differs beyond the spread over seeds (0.500 to "
                        "0.625 against 0.125 to 0.250): similar loss, different capability")
    assert value == {"loss gap": 0.0, "loss spread": 0.0, "original": [0.5, 0.625], "ngram 3": [0.125, 0.25]}


def test_similar_loss_with_overlapping_or_single_seed_scores_cannot_tell():
    loss = {"original": [2.25, 2.5], "ngram 3": [2.5, 2.5]}  # gap 0.125 within the spread 0.25
    sentence, value = natural.loss_vs_capability(loss, [0.5, 0.625], [0.5, 0.75], 2, 256)
    assert value["loss gap"] == 0.125 and value["loss spread"] == 0.25
    assert sentence.endswith("(0.500 to 0.625 against 0.500 to 0.750): with 2 seeds of 256 prompts this "
                             "build cannot tell whether similar loss means similar capability")
    one = {"original": [2.25], "ngram 3": [2.25]}
    sentence, _ = natural.loss_vs_capability(one, [0.5], [0.125], 1, 100)
    assert "with 1 seed of 100 prompts this build cannot tell" in sentence


def test_different_loss_cannot_test_the_question():
    loss = {"original": [2.25, 2.25], "ngram 3": [3.0, 3.0]}
    sentence, _ = natural.loss_vs_capability(loss, [0.5, 0.625], [0.125, 0.25], 2, 256)
    assert sentence == ("the original text and its order-3 surrogate differ in held-out loss (2.250 against "
                        "3.000 bits), so this pair cannot test whether similar loss means similar capability")


def test_the_capability_values_and_claims():
    cells, results = _runs([
        ("original", 0, 2.25, 0.5, 0.0), ("original", 1, 2.25, 0.625, 0.0),
        ("noise 0.5", 0, 4.0, 0.0, 0.0), ("noise 0.5", 1, 4.0, 0.0, 0.0),
        ("noise 1.0", 0, 6.0, 0.0, 0.0), ("noise 1.0", 1, 6.0, 0.0, 0.0),
        ("ngram 3", 0, 2.25, 0.125, None), ("ngram 3", 1, 2.25, 0.25, None),
        ("word shuffle", 0, 3.0, 0.375, None), ("word shuffle", 1, 3.0, 0.375, None)])
    found = Findings()
    natural.capability_findings(found, natural.capability_rows(cells, results), cells, results, [0.5, 1.0], 2)
    v, claims = _done(found)
    assert (v["nat_word_orig"], v["nat_name_orig"], v["nat_word_ng3"], v["nat_word_ws"]) == (0.5625, 0.0, 0.1875, 0.375)
    assert (v["nat_half_p"], v["nat_word_half"], v["nat_name_half"]) == (0.5, 0.0, 0.0)
    assert v["nat_word_range"] == "0.500 to 0.625" and v["nat_word_prompts"] == 256
    assert v["nat_n_seeds"] == 2 and v["nat_n_seeds_text"] == "2 seeds"
    assert v["nat_name_sentence"].startswith("it never completes a speaker name")
    assert v["nat_half_word"] == "word completion falls to zero in every seed"
    assert v["nat_half_name"] == "speaker names, absent on clean text, stay absent"
    assert v["nat_loss_vs_cap"].endswith("similar loss, different capability")
    assert len(claims) == 4 and all(c.holds for c in claims)


# --- excess entropy and the Hilberg fit -------------------------------------------------------------

def test_finite_excess_entropy():
    assert natural.finite_excess(np.array([0.0, 2.0, 3.0, 3.5])) == [0.0, 1.0, 2.0]


def test_excess_rows_of_the_texts_and_the_exact_santa_fe_curve():
    est = {n: {"H": np.array([0.0, 2.0, 3.0, 3.5, 3.75]), "hilberg": {"beta": 0.5, "beta_se": 0.25}}
           for n in ("original", "ngram 3", "word shuffle")}
    rows, fits = natural.excess_rows(est, 4)
    assert [r["E"] for r in rows if r["text"] == "ngram 3"] == [0.0, 1.0, 2.0, 2.75]
    sf = [r for r in rows if r["kind"] == "exact"]
    assert [r["L"] for r in sf] == [1, 2, 3, 4] and sf[0]["E"] == 0.0  # E(1) = H(1) − h(1) = 0
    assert all(a["E"] < b["E"] for a, b in zip(sf, sf[1:]))  # Hilberg growth
    assert fits["original"] is est["original"]["hilberg"] and set(fits) == {"original", "ngram 3",
                                                                           "word shuffle", "Santa Fe"}


def test_the_excess_verdicts():
    b0 = {"beta": 0.6, "beta_se": 0.3}
    assert natural.beta_verdict(b0, {"beta": 0.62, "beta_se": 0.4}).startswith("yet at these lengths")
    assert natural.beta_verdict(b0, {"beta": 1.2, "beta_se": 0.3}).startswith("and at these lengths")
    assert natural.excess_verdict({"original": 10.0, "ngram 3": 10.0}) == "at least as large as"
    assert natural.excess_verdict({"original": 10.0, "ngram 3": 8.5}) == "nearly as large as"
    assert natural.excess_verdict({"original": 10.0, "ngram 3": 7.0}) == "well below"
    assert natural.santa_fe_verdict({"beta": 0.9}).endswith("misses the asymptotic exponent by +0.40")
    assert natural.santa_fe_verdict({"beta": 0.375}).endswith("by -0.12")
    assert natural.santa_fe_verdict({"beta": 0.52}) == ("on this exact curve the fit lands within 0.05 of the "
                                                       "asymptotic exponent")


def test_the_excess_values_and_claims():
    rows = [{"text": n, "L": L, "E": E} for n, Es in (("original", (1.0, 5.0)), ("ngram 3", (1.0, 4.5)))
            for L, E in zip((1, 2), Es)]
    fits = {"original": {"beta": 0.6, "beta_se": 0.3}, "ngram 3": {"beta": 0.62, "beta_se": 0.4},
            "word shuffle": {"beta": 0.7, "beta_se": 0.5}, "Santa Fe": {"beta": 0.9, "beta_se": 0.0625}}
    found = Findings()
    natural.excess_findings(found, rows, fits, 2)
    v, claims = _done(found)
    assert (v["nat_beta_ws"], v["nat_beta_se_sf"], v["nat_E_orig"], v["nat_E_ng3"]) == (0.7, 0.0625, 5.0, 4.5)
    assert v["nat_E_verdict"] == "nearly as large as"
    assert [c.value for c in claims] == [(0.6, 0.62), {"original": 5.0, "ngram 3": 4.5}, (0.9, 0.0625)]


def _conv(short_books=(0.25, 0.75, 0.9), short_h=(0.5, 0.5, 0.0)):
    rows = []
    for beta, book, h in zip((0.3, 0.5, 0.7), short_books, short_h):
        rows.append({"beta": beta, "L_min": 1, "L_max": 6, "book": book, "book_se": 0.125, "book_h": h,
                     "h": 1.0, "h_known_offset": beta, "L_star": 2e6})
    for beta, book, off in zip((0.3, 0.5, 0.7), (0.3125, 0.5, 0.6875), (0.3, 0.53125, 0.7)):
        rows.append({"beta": beta, "L_min": 64, "L_max": 4096, "book": book, "book_se": 0.0, "book_h": 1.0,
                     "h": 1.0, "h_known_offset": off, "L_star": 1.5e6})
    return rows


def test_the_hilberg_table():
    table = natural.hilberg_table(_conv()[:1])
    assert table == ("| true β | lengths L | fitted β (this chapter's fit) | fitted h vs exact h | fit with h "
                     "exact and a constant |\n|---|---|---|---|---|\n"
                     "| 0.3 | 1–6 | 0.250 ± 0.125 | 0.500 vs 1.000 | 0.300 |")


def test_the_hilberg_convergence_values_and_claims():
    found = Findings()
    natural.hilberg_findings(found, _conv(), 6)
    v, claims = _done(found)
    assert v["nat_conv_Lmax"] == 6 and v["nat_conv_Lstar"] == 1.5e6
    assert v["nat_conv_short_err"] == pytest.approx(0.25) and v["nat_conv_long_err"] == pytest.approx(0.0125)
    assert v["nat_conv_offset_err"] == 0.03125
    assert v["nat_conv_short_range"] == ("-0.05 at β = 0.3, +0.25 at β = 0.5, +0.20 at β = 0.7; "
                                         "the fit at β = 0.7 runs into its bound h = 0")
    assert [c.holds for c in claims] == [True, True]
    found = Findings()
    natural.hilberg_findings(found, _conv(short_books=(0.3, 0.55, 0.7), short_h=(1, 1, 1)), 6)
    v, claims = _done(found)
    assert v["nat_conv_short_range"] == "+0.00 at β = 0.3, +0.05 at β = 0.5, +0.00 at β = 0.7"
    assert [c.holds for c in claims] == [True, False]


# --- the strongest model ----------------------------------------------------------------------------

STRONG = {"val_bits": 2.0, "val_se": 0.25, "bayes_bits": 2.5, "bayes_se": 0.125, "gpt_minus_bayes": -0.5,
          "gpt_minus_bayes_se": 0.0625, "train_bits": 1.875, "params": 27840}
ORIG = {GPT: 3.0, "zlib": 3.5, "bz2": 2.75, "lzma": 2.875, "Miller–Madow h(5)": 1.25}


def test_the_strongest_models_bars():
    bars = natural.strong_bars(STRONG, ORIG, 1.875)
    assert [(b["what"], b["bits"]) for b in bars] == [
        ("strongest GPT (held-out)", 2.0), ("small sweep GPT (held-out)", 3.0),
        ("Bayes counts, orders 0–3 (held-out)", 2.5), ("order-3 surrogate's own rate (in-sample)", 1.875),
        ("zlib (held-out)", 3.5), ("bz2 (held-out)", 2.75), ("lzma (held-out)", 2.875)]
    assert (bars[0]["lo"], bars[0]["hi"], bars[2]["lo"], bars[2]["hi"]) == (1.5, 2.5, 2.25, 2.75)
    assert ["lo" in b for b in bars] == [True, False, True, False, False, False, False]


@pytest.mark.parametrize("gap, start", [(-0.5, "below the count-based predictor"),
                                        (0.5, "above the count-based predictor"),
                                        (0.25, "within error"), (-0.25, "within error")])
def test_the_strongest_model_against_counting_at_three_standard_errors(gap, start):
    assert natural.strong_vs_bayes(gap, 0.1).startswith(start)


def test_the_strongest_model_against_the_surrogate_and_the_compressors():
    assert natural.strong_vs_surrogate(1.5, 2.0) == "below" and natural.strong_vs_surrogate(2.5, 2.0) == "above"
    comp = {"zlib": 3.0, "bz2": 2.5, "lzma": 2.75}
    assert natural.strong_vs_compressors(2.0, comp) == "below every compressor's held-out rate"
    assert natural.strong_vs_compressors(2.9, comp) == "below zlib's held-out rate but above bz2's or lzma's"
    assert natural.strong_vs_compressors(3.5, comp) == "above every compressor's held-out rate"


def test_the_strongest_models_values_and_the_gpu_claim():
    cell = {"model": {"n_layer": 2, "n_embd": 32, "block_size": 32}, "iters": 20, "batch_size": 8}
    for check_gpu, n_claims in ((False, 3), (True, 4)):
        found = Findings()
        natural.strong_findings(found, STRONG, cell, 2.125, ORIG, 2.5, check_gpu)
        v, claims = _done(found)
        assert v["nat_strong_shape"] == "2 layers of width 32, context 32, 27,840 parameters"
        assert (v["nat_strong_iters"], v["nat_strong_batch"]) == (20, 8)
        assert v["nat_strong_nats"] == pytest.approx(2.0 * math.log(2))
        assert v["nat_ng3_undertrained"] == 0.375 and v["nat_strong_train_gap"] == 0.125
        assert v["nat_strong_vs_bayes"].startswith("below the count-based predictor")
        assert v["nat_strong_vs_sur"] == "below"
        assert v["nat_strong_vs_comp"] == "below every compressor's held-out rate"
        assert len(claims) == n_claims and all(c.holds for c in claims)


def test_the_anchors_table():
    table = natural.anchors_table(ORIG, STRONG, 1.875, 5).splitlines()
    assert table[:2] == ["| estimate | bits per character | on |", "|---|---|---|"] and len(table) == 11
    assert table[2] == "| Shannon 1951, $F_3$, 27-letter English, letter statistics | 3.1 | published tables |"
    assert table[4] == "| lzma on Tiny Shakespeare | 2.875 | held-out 10 % given the rest (this build) |"
    assert table[9] == "| Miller–Madow $h(5)$ on Tiny Shakespeare | 1.250 | whole file (this build) |"
    assert table[10] == "| GPT of this chapter | 3.000 | held-out 10 % (this build) |"
