"""Chapter training's numbers from fabricated runs, benchmark files and products with known answers
(no training, no timing)."""

import math

import pytest

from middleground.experiments import training as tr
from middleground.experiments.report import Findings
from middleground.gpt.model import GPTConfig
from middleground.gpt.roofline import Matmul

QUICK = dict(n_layer=2, n_head=2, n_embd=32, block_size=32, batch_size=8, max_iters=40, dropout=0.0)


def first(options):
    """The sentence a chapter would choose: the first whose condition holds."""
    return next(text for text, ok in options if ok)


# ---- the run

@pytest.mark.parametrize("values, name, loss", [
    (tr.CPU_RECIPE, "nanoGPT's CPU recipe", 1.88),
    (tr.GPU_RECIPE, "nanoGPT's GPU recipe", 1.4697),
    (QUICK, "a smaller configuration than either recipe", None),
    ({**tr.CPU_RECIPE, "dropout": 0.2}, "a smaller configuration than either recipe", None)])
def test_the_recipe_and_its_published_loss(values, name, loss):
    assert tr.recipe_name(values) == name and tr.published_loss(values) == loss


def test_the_mfu_reading_names_the_recipe_only_at_its_sizes():
    assert first(tr.mfu_reading_options(tr.CPU_RECIPE)).startswith("This is nanoGPT's CPU recipe itself")
    assert first(tr.mfu_reading_options(QUICK)).startswith("This configuration is smaller")


@pytest.mark.parametrize("gap, reference, expected", [
    (None, None, "This run follows neither recipe, so neither published figure applies to it."),
    (0.005, 1.88, "This run's whole-split loss is within a hundredth of a nat of the published 1.88."),
    (-0.05, 1.88, "This run's whole-split loss is 0.050 nats below the published 1.88, a few hundredths"),
    (0.25, 1.4697, "This run's whole-split loss is 0.250 nats above the published 1.4697, more than a "
                   "tenth of a nat, too much to put down to seeds alone.")])
def test_each_reference_verdict(gap, reference, expected):
    assert first(tr.reference_options(gap, reference)).startswith(expected)


SUMMARY = {"n_params": 12_345, "n_params_without_position": 12_000, "ms_per_iter": 10.0,
           "tokens_per_s": 25_600.4, "mfu": 0.25, "peak_flops": 2e10, "flops_per_token": 3e6}


def test_the_run_values_and_claims_from_a_fabricated_run():
    found = Findings()
    history = [{"step": 0, "train_loss": 4.0, "val_loss": 4.1},
               {"step": 10, "train_loss": 2.0, "val_loss": 2.5}]
    values = {**tr.CPU_RECIPE, "max_iters": 10, "batch_size": 2, "block_size": 4}
    assert tr.describe_run(found, values, SUMMARY, history, 1.9, "cpu") == \
        "a smaller configuration than either recipe"
    v, claims = found.done()["values"], found.done()["claims"]
    assert v["tr_params"] == "12,345" and v["tr_params_pos"] == "345"
    assert v["tr_iters"] == "10" and v["tr_tokens"] == "80"
    assert v["tr_val_final"] == 2.5 and v["tr_train_final"] == 2.0 and v["tr_gap"] == 0.5
    assert v["tr_val_bits"] == pytest.approx(1.9 / math.log(2))
    assert v["tr_tps"] == "25,600" and v["tr_mfu"] == 25.0
    assert v["tr_peak"] == 20.0 and v["tr_fpt"] == 3.0 and v["tr_device"] == "cpu"
    # the reading, the two claims, the verdict, in the chapter's order
    assert [c.holds for c in claims] == [True, False, True, True]
    assert claims[1].value == "not a recipe" and claims[2].value == 0.5
    assert v["tr_ref_verdict"] == claims[3].text and "neither recipe" in claims[3].text


def test_a_cpu_recipe_run_close_to_the_published_loss():
    found = Findings()
    history = [{"step": 2000, "train_loss": 1.80, "val_loss": 1.75}]
    tr.describe_run(found, tr.CPU_RECIPE, SUMMARY, history, 1.90, "cpu")
    claims = found.done()["claims"]
    assert claims[0].text.startswith("This is nanoGPT's CPU recipe itself")
    assert claims[1].holds and claims[1].value == pytest.approx(0.02)
    assert not claims[2].holds  # validation below training: no gap
    assert "0.020 nats above the published 1.88" in claims[3].text


def test_samples_print_as_header_text_and_a_blank_line():
    text = tr.samples_text([{"step": 0, "val_loss": 4.1234, "text": "ab \n"},
                            {"step": 20, "val_loss": 3.0, "text": "cd"}])
    assert text == ("--- step 0, validation loss 4.123 nats/char ---\nab\n\n"
                    "--- step 20, validation loss 3.000 nats/char ---\ncd\n")


# ---- the recorded benchmark

def test_listed_joins_with_commas_and_a_final_and():
    assert tr.listed(["a"]) == "a"
    assert tr.listed(["a", "b"]) == "a and b"
    assert tr.listed(["a", "b", "c"]) == "a, b and c"


@pytest.mark.parametrize("met, missed, expected", [
    (["x"], [], "At batch 12 the recorded run met x."),
    ([], ["y", "z"], "At batch 12 the recorded run missed y and z."),
    (["x"], ["y"], "At batch 12 the recorded run met x and missed y.")])
def test_the_targets_sentence_leaves_out_an_empty_half(met, missed, expected):
    assert tr.targets_sentence(met, missed) == expected


def test_target_options_met_or_missed():
    assert first(tr.target_options("MFU", True)) == "the recorded benchmark (batch 12) met the MFU target"
    assert first(tr.target_options("MFU", False)) == \
        "the recorded benchmark (batch 12) missed the MFU target"


def _bench_run(batch, tps, mfu, val, fixed):
    return {"batch_size": batch, "tokens_per_s": tps, "mfu": mfu, "val_loss_whole_split": val,
            "final": {"val_loss": fixed}, "peak_flops": 8e10, "ms_per_iter": 1e3 * batch * 64 / tps}


BENCH = {"date": "2026-01-02", "commit": "0123456789abcdef", "device": "CPU", "iters": 2000,
         "runs": [_bench_run(12, 40_000.0, 0.5, 1.90, 1.89), _bench_run(64, 50_000.0, 0.6, 1.7, 1.7)],
         "reference": {"nanogpt_tokens_per_s_batch12": 20_000, "nanogpt_mfu_batch12": 0.3},
         "targets": {"tokens_per_s_batch12": 38_000, "mfu": 0.55, "val_loss_2000": 1.88}}


def test_the_benchmark_values_targets_and_claims():
    found = Findings()
    tr.describe_benchmark(found, BENCH, QUICK, SUMMARY)
    v, claims = found.done()["values"], found.done()["claims"]
    assert v["bench_commit"] == "0123456789" and v["bench_peak"] == 80.0 and v["bench_iters"] == "2,000"
    assert v["bench_b12_tps"] == "40,000" and v["bench_b64_mfu"] == 60.0
    assert v["bench_b12_ms"] == pytest.approx(19.2)
    assert v["bench_nanogpt_ratio"] == 2.0 and v["bench_nanogpt_tps"] == "20,000"
    assert v["bench_target_tps"] == "38,000" and v["bench_target_mfu"] == pytest.approx(55.0)
    assert v["bench_targets_sentence"] == (
        "At batch 12 the recorded run met the throughput target (40,000 tokens per second) and "
        "missed the MFU target (50.0%) and the validation-loss target (1.9000 on the whole split, "
        "1.8900 on the fixed batches).")
    assert [c.text.split(" the ")[-1] for c in claims[:3]] == \
        ["throughput target", "MFU target", "validation-loss target"]
    assert ["met" in c.text.split() for c in claims[:3]] == [True, False, False]
    assert claims[3].holds  # batch 64's MFU 0.6 above batch 12's 0.5
    assert v["tr_vs_bench"] == claims[4].text and "is not the recipe" in claims[4].text


@pytest.mark.parametrize("tps, mfu, start, because", [
    (50_000.0, 0.4, "This page's own run of the same recipe was faster", True),
    (50_000.0, 0.6, "This page's own run of the same recipe was faster", False),
    (30_000.0, 0.6, "This page's own run of the same recipe was slower", True),
    (41_000.0, 0.6, "This page's own run of the same recipe was about as fast", False)])
def test_each_speed_sentence(tps, mfu, start, because):
    summary = {**SUMMARY, "tokens_per_s": tps, "mfu": mfu, "peak_flops": 1e11}
    text = first(tr.speed_options(summary, BENCH["runs"][0], True))
    assert text.startswith(start + " than the recorded benchmark" if "about" not in start
                           else start + " as the recorded benchmark")
    assert f"({tps:,.0f} against 40,000 tokens per second)" in text
    assert ("because the matmul peak it measured, and divides by, differs more: 100 GFLOP/s against 80."
            in text) == because
    assert ("(measured peaks: 100 GFLOP/s against 80)." in text) == (not because)
    assert text.endswith("not a bound on what this code does on this machine.")


def test_the_speed_of_another_configuration_is_not_compared():
    assert first(tr.speed_options(SUMMARY, BENCH["runs"][0], False)) == (
        "This page's own run is not the recipe, so its speed above is not comparable with the table.")


# ---- the roofline

# Two products with hand-countable flops at one byte an element:
# 2 × 2 × 2 once: 3·2·8 = 48 flops, intensity 16 / 12 = 4/3;
# 4 × 4 × 4 twice: 3·2·64·2 = 768 flops, intensity 128 / 48 = 8/3.
MMS = [Matmul("small", 2, 2, 2, 1), Matmul("large", 4, 4, 4, 2)]


def test_roofline_rows_from_known_flops():
    rows = tr.roofline_rows(MMS, 1, peak=2.0, bw=1.0, machine="m", measured=[1.0, 1.5])
    assert [r["intensity"] for r in rows] == pytest.approx([4 / 3, 8 / 3])
    assert [r["roof"] for r in rows] == pytest.approx([4 / 3, 2.0])
    assert [r["share"] for r in rows] == pytest.approx([48 / 816, 768 / 816])
    assert rows[0]["shape"] == "2 × 2 × 2" and rows[1]["count"] == 2 and rows[0]["measured"] == 1.0
    assert list(rows[0]) == ["product", "shape", "count", "intensity", "measured", "roof", "share",
                             "machine"]
    unmeasured = tr.roofline_rows(MMS, 1, 2.0, 1.0, "m")
    assert "measured" not in unmeasured[0] and unmeasured[0]["share"] == rows[0]["share"]
    assert tr.below(rows, 2.0) == pytest.approx(48 / 816)
    assert tr.below(rows, 1.0) == 0 and tr.below(rows, 3.0) == pytest.approx(1.0)
    # each at its roof: 816 flops in 48 / (4/3) + 768 / 2 = 420 time units, at a peak of 2
    assert tr.roof_limit(MMS, 1, 2.0, 1.0) == pytest.approx(816 / 420 / 2)
    best, worst = tr.best_and_worst(rows)  # 1 / (4/3) = 0.75 of its roof; 1.5 / 2 = 0.75: a tie
    assert best["product"] == "small" and worst["product"] == "small"
    best, worst = tr.best_and_worst(tr.roofline_rows(MMS, 1, 2.0, 1.0, "m", measured=[0.5, 1.9]))
    assert (best["product"], worst["product"]) == ("large", "small")


def test_the_roofline_table_and_the_figure_data():
    rows = tr.roofline_rows(MMS, 1, 2.0, 1.0, "m", measured=[1.0, 1.5])
    assert tr.roofline_table(rows).splitlines()[2:] == [
        "| small | m | 2 × 2 × 2 | 1 | 1.3 | 5.9 % |", "| large | m | 4 × 4 × 4 | 2 | 2.7 | 94.1 % |"]
    points, roofs = tr.roofline_plot(rows + tr.roofline_rows(MMS, 1, 2.0, 1.0, "n"),
                                     [("m", 2.0, 1.0), ("n", 100.0, 1.0)])
    assert [p["rate"] for p in points] == pytest.approx([1.0, 1.5, 4 / 3, 2.0])
    # x from half the least intensity to twice the greatest; m's balance point 2 lies inside
    assert [(r["machine"], r["intensity"], r["rate"]) for r in roofs] == pytest.approx(
        [("m", 2 / 3, 2 / 3), ("m", 2.0, 2.0), ("m", 16 / 3, 2.0),
         ("n", 2 / 3, 2 / 3), ("n", 16 / 3, 16 / 3)])


@pytest.mark.parametrize("options, index", [
    (tr.here_reading_options(0.05), 0), (tr.here_reading_options(0.1), 1),
    (tr.compile_gain_options(0.021, 2.0), 0), (tr.compile_gain_options(0.02, 2.0), 1),
    (tr.cache_note_options({"measured": 2.1, "roof": 2.0}), 0),
    (tr.cache_note_options({"measured": 2.0, "roof": 2.0}), 1),
    (tr.gpu_bound_options(0.6057), 0), (tr.gpu_bound_options(0.9), 1)])
def test_each_roofline_sentence(options, index):
    assert first(options) == options[index][0]


def test_the_roofline_sentences_quote_their_numbers():
    assert first(tr.compile_gain_options(0.1236, 2.4)).startswith(
        "its steps 12 % faster compiled, after about 2 s of compilation")
    assert first(tr.compile_gain_options(-0.04, 1.6)).startswith("no gain from compiling (-4 %), after "
                                                                 "about 2 s")
    assert first(tr.gpu_bound_options(0.6057)).endswith("not use more than about 61 % of the tensor "
                                                        "cores' peak")
    assert first(tr.gpu_bound_options(0.95)) == ("but at its roof, product by product, the step could "
                                                 "use 95 % of the peak")


def test_each_gpu_measurement_sentence():
    assert tr.gpu_measured_sentence(None).startswith("No GPU measurement is recorded yet")
    assert tr.gpu_measured_sentence({"smoke": True, "device": "cpu"}).startswith(
        "The recorded `benchmarks/results/gpu_check.json` is a rehearsal at toy sizes (`--smoke`, on cpu)")
    measured = {"smoke": False, "device": "H100", "date": "2026-01-01", "peak_flops": 7.5e14,
                "throughput": [{"compile": True, "tokens_per_s": 400_000.0, "mfu": 0.41},
                               {"compile": False, "tokens_per_s": 300_000.0, "mfu": 0.3}],
                "training": {"steps": 1500, "val_loss_whole_split": 1.51234}}
    assert tr.gpu_measured_sentence(measured) == (
        "Measured on H100 (2026-01-01, `benchmarks/gpu_check.py`): a bf16 matmul peak of 750 TFLOP/s; "
        "the GPU recipe trains at 300,000 tokens per second eagerly (MFU 30.0 %) and 400,000 compiled "
        "(MFU 41.0 %); after 1,500 steps its loss on the whole validation split is 1.5123 nats per "
        "character.")


def test_the_roofline_values_from_fabricated_inputs():
    here = tr.roofline_rows(MMS, 1, 2.0, 1.0, tr.HERE, measured=[1.0, 1.9])
    gpu_model = GPTConfig(vocab_size=65, block_size=256, n_layer=6, n_head=6, n_embd=384)
    inputs = tr.RooflineInputs(
        gpu_mms=MMS, gpu_model=gpu_model, sweep_mms=MMS[:1], sweep_width=64, h100_peak=8.0,
        h100_bw=2.0, tensor_ratio=14.0, matmul_share=0.9,
        ens_bench={"rates": {"ensemble": {"wall_s": 15.0}, "ensemble, compiled": {"wall_s": 12.0}},
                   "step": {"eager_s": 1.1, "compiled_s": 1.0}, "compile_s": 2.0},
        gpu_check=None)
    found = Findings()
    gpu = tr.describe_roofline(found, here, 2.0, 1.0, inputs)
    v, claims = found.done()["values"], found.done()["claims"]
    assert [r["machine"] for r in gpu] == [tr.H100, tr.H100]
    # at two bytes an element, intensities halve: 2/3 and 4/3, both below the H100's balance of 4
    assert v["rf_gpu_max"] == pytest.approx(4 / 3) and v["rf_below_gpu"] == pytest.approx(100.0)
    assert v["rf_sweep_max"] == pytest.approx(2 / 3)
    assert v["rf_balance"] == 2.0 and v["rf_bw"] == 1e-9 and v["rf_h100_balance"] == 4.0
    assert v["rf_below_here"] == pytest.approx(100 * 48 / 816)
    assert v["rf_attn_ratio"] == pytest.approx(2 * 256 / (3 * 64))
    assert v["rf_gpu_T"] == 256 and v["rf_gpu_head"] == 64 and v["rf_counted"] == 90.0
    assert v["rf_compile_wall"] == "12.0 s against 15.0 s eager"
    assert v["rf_best"] == "large (95 % of its roof)" and v["rf_worst"] == "small (75 %)"
    # each at its roof on the H100: 816 flops in 48 / (4/3) + 768 / (8/3) = 324, at a peak of 8
    assert v["rf_gpu_limit"] == pytest.approx(100 * 816 / 324 / 8)
    assert v["rf_measured"] == tr.gpu_measured_sentence(None)
    assert [c.text for c in claims] == [
        "nearly all of it sits on the flat, arithmetic-bound part of this machine's roof",
        first(tr.compile_gain_options(0.1, 2.0)), " None runs above its roof.",
        first(tr.gpu_bound_options(816 / 324 / 8))]
