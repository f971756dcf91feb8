"""Issue 12, items 3, 13 and 14b: every public function of the library refuses bad input with a
ValueError that names the parameter, and the integer codes of the n-gram counters cannot overflow.

Each test below reproduces one case of the issue (it failed, or answered wrongly, before the fix)
and checks the exception type and that the message names the parameter; the overflow cases check
the corrected result against a brute-force count. The validators themselves
(:mod:`middleground.base.checks`) and a few public functions get property-based tests."""

import math
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from middleground.base import checks
from middleground.base.bits import entropy_bits
from middleground.gpt.text import CharVocab
from middleground.measures import capability, curves, entropy, predictability, regions, scaling
from middleground.sources import degrade, hmm, knobs, tasks
from middleground.sources.processes import Periodic

FEW = settings(max_examples=40, deadline=None)


def counter_block_entropy(x, L):
    counts = Counter(tuple(x[i:i + L]) for i in range(len(x) - L + 1))
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


# --- item 3: integer codes that overflowed 64 bits ------------------------------------------------

def dict_counts(ids, order, k):
    """(order+1)-gram counts by a Python dict: context code (Python int) -> Counter of next symbols."""
    out = defaultdict(Counter)
    for i in range(order, len(ids)):
        code = 0
        for c in ids[i - order:i]:
            code = code * k + int(c)
        out[code][int(ids[i])] += 1
    return out


@pytest.mark.parametrize("order", [3, 10, 13])
def test_ngram_surrogate_counts_exactly_for_any_order_over_65_symbols(order):
    # 65 symbols: 65**11 > 2**63, so order 10 overflowed int64 codes (negative context codes, and
    # a surrogate that fell back to unigram noise). Order 3 is the path that never overflowed.
    rng = np.random.default_rng(0)
    word = rng.integers(0, 65, 50)
    ids = np.concatenate([word[np.arange(1500) % 50], rng.integers(0, 65, 500)])
    model = degrade.NgramSurrogate.fit(ids, order, 65)
    truth = dict_counts(ids, order, 65)
    assert list(model.contexts) == sorted(truth)  # the same contexts, in lexicographic order
    for code, counter in truth.items():
        syms, cum = model.contexts[code]
        assert syms.tolist() == sorted(counter)
        counts = np.array([counter[s] for s in sorted(counter)], dtype=float)
        assert np.allclose(cum, np.cumsum(counts) / counts.sum(), rtol=0, atol=1e-15)
    # A sample continues every seen context with one of its seen successors (no unigram noise);
    # only an unseen context (after the text's final one) falls back to the unigram law.
    x = model.sample(600, np.random.default_rng(1))
    seen = 0
    for i in range(order, len(x)):
        code = sum(int(c) * 65 ** (order - 1 - j) for j, c in enumerate(x[i - order:i]))
        if code in truth:
            assert int(x[i]) in truth[code]
            seen += 1
    assert seen >= 20  # it starts in a seen context and follows the text for a while at least


def test_ngram_surrogate_refuses_a_word_table_beyond_its_memory_limit(monkeypatch):
    monkeypatch.setattr(degrade, "MAX_WORD_TABLE_BYTES", 1000)
    ids = np.random.default_rng(0).integers(0, 65, 500)
    with pytest.raises(ValueError, match="MAX_WORD_TABLE_BYTES"):
        degrade.NgramSurrogate.fit(ids, 12, 65)


def test_block_entropies_of_symbols_beyond_2_to_the_61_are_those_of_their_ranks():
    x = np.random.default_rng(0).integers(0, 5, 2000)
    H = entropy.block_entropies(x, 6)
    assert np.array_equal(entropy.block_entropies(x + 2**61, 6), H)  # was silently wrong
    assert np.array_equal(entropy.block_entropies(x * 2**60 + 7, 6), H)
    for L in range(1, 7):
        assert H[L] == pytest.approx(counter_block_entropy(x.tolist(), L), abs=1e-10)


def test_block_entropies_refuse_symbols_beyond_int64():
    x = np.array([0, 2**63, 5, 2**63], dtype=np.uint64)  # would wrap to negative codes
    with pytest.raises(ValueError, match=r"^x: symbols must be below 2\*\*63"):
        entropy.block_entropies(x, 2)


# --- item 14b: a bound on the word length ------------------------------------------------------------

@pytest.mark.parametrize("L_max", [65, 10**6])
def test_block_entropies_bound_the_word_length(L_max):
    x = np.random.default_rng(0).integers(0, 2, 500)
    with pytest.raises(ValueError, match=r"^L_max must be an integer in \[1, 64\]"):
        entropy.block_entropies(x, L_max)  # 10**6 ran past 40 s; 65 was accepted


def test_block_entropies_need_two_words_of_the_longest_length():
    x = np.array([0, 1, 1, 0, 1])
    with pytest.raises(ValueError, match="^L_max must be below the sample length 5"):
        entropy.block_entropies(x, 5)  # one word: H = 0, nothing estimated
    assert entropy.block_entropies(x, 4)[4] == pytest.approx(1.0)  # two distinct words


# --- item 13: raw errors and silently accepted bad input -------------------------------------------

@pytest.mark.parametrize("ids", [[5], [-1], [1.5], [[0, 1]]])
def test_decode_refuses_ids_outside_the_vocabulary(ids):
    # [5] was an IndexError; [-1] decoded as the last character; [1.5] as character 1
    with pytest.raises(ValueError, match="^ids "):
        CharVocab("abc").decode(ids)
    assert CharVocab("abc").decode(np.array([2, 0])) == "ca"


def test_char_vocab_refuses_repeated_characters():
    with pytest.raises(ValueError, match="^chars "):
        CharVocab("abca")


def test_power_law_fit_names_its_parameters():
    with pytest.raises(ValueError, match="sizes in n"):
        scaling.fit_power_law([], [])
    with pytest.raises(ValueError, match="^n must hold numbers > 0"):
        scaling.fit_power_law([0, 1, 2, 3], [4.0, 3.0, 2.0, 1.5])
    with pytest.raises(ValueError, match="^sigma "):
        scaling.fit_power_law([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.5], sigma=[1.0, 1.0])


@pytest.mark.parametrize("n_by_seed", [{}, {1.0: [2.0], 2.0: [1.5]},
                                       {1.0: [2.0], 2.0: [], 3.0: [1.0], 4.0: [0.9]}])
def test_bootstrap_refuses_too_few_sizes_or_seeds(n_by_seed):
    # every draw used to fail (mean of an empty slice) and the result was empty arrays
    with pytest.raises(ValueError, match="^n_by_seed"):
        scaling.bootstrap(n_by_seed, 10.0, draws=5)


def test_size_predictions_and_within_run_name_their_parameters():
    with pytest.raises(ValueError, match="^N must have at least 3"):
        predictability.size_predictions([], [], [], [])
    with pytest.raises(ValueError, match="^k "):
        predictability.size_predictions([1, 2, 4], [0.5, 0.3, 0.2], [1, 2, 9], [8, 8, 8])
    with pytest.raises(ValueError, match="^excess "):
        predictability.size_predictions([1, 2, 4], [0.5, 0.3], [1, 2, 3], [8, 8, 8])
    with pytest.raises(ValueError, match="^steps must have at least 1"):  # was an IndexError
        predictability.within_run([], [], [], 0, 0.5, 1.0)
    with pytest.raises(ValueError, match="^E must be a finite number"):
        predictability.fit_decay([1, 2, 3], [3.0, 2.0, 1.0], E=float("nan"))


def test_steps_to_plateau_names_its_parameters():
    with pytest.raises(ValueError, match="^steps must have at least 1"):  # was an IndexError
        curves.steps_to_plateau([], [])
    with pytest.raises(ValueError, match="^steps and excess must have the same length"):
        curves.steps_to_plateau([1, 2, 3], [1.0, 0.5])
    with pytest.raises(ValueError, match=r"^fraction must be in \[0, 1\]"):
        curves.steps_to_plateau([1, 2, 3], [1.0, 0.5, 0.2], fraction=1.5)
    assert curves.steps_to_plateau([10, 20, 30], [1.0, 0.5, 0.1]) == 30


@pytest.mark.parametrize("family, knob", [("hmm", "nope"), ("hmm", 3), ("temperature", "warm"),
                                          ("temperature", float("nan")), ("order", 2.5),
                                          ("order", 0), ("santa-fe", None)])
def test_make_source_refuses_a_bad_knob(family, knob):
    # ("hmm", "nope") was a KeyError; ("order", 2.5) silently built order 2
    with pytest.raises(ValueError, match=f"^knob of family '{family}'"):
        knobs.make_source(family, knob)
    assert knobs.make_source("order", 2.0).order == 2  # sweep cells store the order as a float


def test_surrogate_sample_needs_order_symbols_at_least():
    model = degrade.NgramSurrogate.fit(np.array([0, 1, 2, 0, 1, 2, 1]), 3, 3)
    with pytest.raises(ValueError, match="^n must be an integer >= 3"):  # a broadcast error
        model.sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="^start must hold order = 3 symbols"):
        model.sample(5, np.random.default_rng(0), start=[0, 1])
    with pytest.raises(ValueError, match="^rng "):
        model.sample(5, 0)


@pytest.mark.parametrize("kwargs, name", [(dict(alphabet_size=0), "alphabet_size"),
                                          (dict(ids=np.array([0, 1, 5, 2])), "ids"),
                                          (dict(ids=np.array([0.0, 1.0, 2.0, 1.0])), "ids"),
                                          (dict(order=1.0), "order")])
def test_surrogate_fit_refuses_bad_input(kwargs, name):
    # alphabet_size = 0 and symbols beyond the alphabet were accepted (codes in the wrong base)
    args = dict(ids=np.array([0, 1, 2, 0, 1, 2]), order=1, alphabet_size=3) | kwargs
    with pytest.raises(ValueError, match=f"^{name} "):
        degrade.NgramSurrogate.fit(**args)


@pytest.mark.parametrize("contexts", [np.array([[1, 1]]), np.array([[0, -1]]), np.array([[0, 2]]),
                                      np.array([0, 1])])
def test_greedy_target_refuses_contexts_the_source_cannot_emit(contexts):
    # [[1, 1]] (two 1s: impossible in the golden mean) and [[0, -1]] answered [0, 0] silently
    with pytest.raises(ValueError, match="^contexts "):
        capability.greedy_target(hmm.golden_mean(), contexts, 2)
    with pytest.raises(ValueError, match="^contexts "):
        capability.continuation_correct(hmm.golden_mean(), contexts, np.zeros((1, 2), dtype=int))


def test_greedy_target_keeps_its_answers_for_possible_contexts():
    out = capability.greedy_target(hmm.golden_mean(), np.array([[0, 1], [1, 0]]), 3)
    assert out.tolist() == [[0, 0, 0], [0, 0, 0]]  # after a 1 a 0 is forced; after a 0, a tie
    with pytest.raises(ValueError, match="^k must be an integer >= 1"):
        capability.greedy_target(hmm.golden_mean(), np.array([[0, 1]]), 1.5)


@pytest.mark.parametrize("ids", [np.array([0, -1, 2]), np.array([0, 3]), np.array([0.0, 1.0])])
def test_char_noise_refuses_symbols_outside_the_alphabet(ids):
    # negative ids passed unchanged into the "noisy" text
    with pytest.raises(ValueError, match="^ids "):
        degrade.char_noise(ids, 0.5, 3, np.random.default_rng(0))


@pytest.mark.parametrize("pattern", [(0, 1.5), (0, 1.0), (True, 0), "01"])
def test_periodic_refuses_non_integer_patterns(pattern):
    with pytest.raises(ValueError, match="^pattern"):
        Periodic(pattern, 3)  # (0, 1.5) was accepted and sampled 1.5


def test_periodic_accepts_numpy_integer_symbols_as_python_ints():
    s = Periodic(tuple(np.array([2, 0, 1])), np.int64(3))
    assert s.pattern == (2, 0, 1) and s == Periodic((2, 0, 1), 3)


@pytest.mark.parametrize("kwargs, name", [(dict(segment=5.5), "segment"), (dict(k=1), "k"),
                                          (dict(n_tasks=0), "n_tasks"),
                                          (dict(exponent=float("nan")), "exponent"),
                                          (dict(seed=-1), "seed")])
def test_quanta_refuses_bad_fields(kwargs, name):
    # segment = 5.5 was accepted, and sampling died of a TypeError
    with pytest.raises(ValueError, match=f"^{name} "):
        tasks.Quanta(**(dict(n_tasks=3, k=4, exponent=1.0, segment=6) | kwargs))


def test_region_refuses_nan_and_takes_numpy_numbers():
    with pytest.raises(ValueError, match="^h must lie in"):
        regions.region(float("nan"), 1.0, 4)  # the old where_on_knob answered "the middle"
    with pytest.raises(ValueError, match="^E must be"):
        regions.region(1.0, float("nan"), 4)
    assert regions.region(np.float32(1.0), np.float32(3.0), np.int64(4)) == regions.MIDDLE
    assert regions.h_share(1.0, np.int64(4)) == 0.5  # a numpy integer was "not an integer"


@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), 0.0, "1"])
def test_dirichlet_segments_refuse_a_bad_concentration(alpha):
    # alpha = nan produced segments silently (from NaN transition rows)
    with pytest.raises(ValueError, match="alpha must be positive"):
        tasks.dirichlet_markov_segments(2, 5, 3, alpha, np.random.default_rng(0))
    with pytest.raises(ValueError, match="alpha must be positive"):
        tasks.bayes_position_loss(np.zeros((2, 5), dtype=int), 3, alpha)


def test_dirichlet_segments_name_their_other_parameters():
    with pytest.raises(ValueError, match="^length "):
        tasks.dirichlet_markov_segments(2, 0, 3, 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="^rng "):
        tasks.dirichlet_markov_segments(2, 5, 3, 0.5, 0)
    with pytest.raises(ValueError, match="^segments "):
        tasks.bayes_position_loss(np.array([[0, 3]]), 3, 0.5)


# --- item 13: MarkovChain.random at low temperature ---------------------------------------------------

@pytest.mark.parametrize("temperature", [1e-3, 1e-30, 5e-324])
@pytest.mark.parametrize("seed", range(5))
def test_markov_chain_is_irreducible_at_every_temperature(temperature, seed):
    # 1e-3 raised "the chain is reducible" (the lstsq rank test on a nearly decomposable chain);
    # 5e-324 overflows logits / τ
    m = hmm.MarkovChain.random(4, 2, temperature, seed)
    P = m.T.sum(axis=0)
    assert np.all((P > 0).sum(axis=1) == 4)  # every transition kept possible by the floor
    assert np.all(m.start >= 0) and m.start.sum() == pytest.approx(1.0, abs=1e-15)
    assert np.abs(m.start @ P - m.start).max() < 1e-15
    t = m.truth()
    assert 0.0 <= t.h < 1e-8  # nearly deterministic
    assert t.E == pytest.approx(float(entropy_bits(m.start)) - 2 * t.h, abs=1e-12)


def test_gth_gives_the_exact_stationary_law_of_a_nearly_decomposable_chain():
    eps, delta = 1e-13, 3e-13  # P = [[1-ε, ε], [δ, 1-δ]]: π = (δ, ε) / (ε + δ) = (3/4, 1/4)
    T = np.array([[[1 - eps, eps], [delta, 1 - delta]]])
    pi = hmm.HMM(T).start  # raised "reducible" before
    assert pi == pytest.approx([0.75, 0.25], rel=1e-12)
    with pytest.raises(ValueError, match="reducible: it has 2 closed classes"):
        hmm.HMM(np.array([[[1.0, 0.0], [0.0, 1.0]]]))


def test_the_book_temperatures_keep_the_least_squares_stationary_law():
    # The fallback only runs where least squares fails: the knob's chains keep their exact bits.
    for tau in sorted(set(knobs.knob_settings("temperature", 9) + knobs.knob_settings("temperature", 13))):
        P = knobs.markov_knob(tau, 0).T.sum(axis=0)
        S = len(P)
        A = np.vstack([P.T - np.eye(S), np.ones(S)])
        pi, *_ = np.linalg.lstsq(A, np.r_[np.zeros(S), 1.0], rcond=None)
        pi = np.clip(pi, 0.0, None)
        assert np.array_equal(knobs.markov_knob(tau, 0).start, pi / pi.sum())


def test_numpy_integer_scalars_are_integers():
    a = hmm.MarkovChain.random(np.int64(4), np.int32(2), np.float32(0.5), np.uint8(0))
    b = hmm.MarkovChain.random(4, 2, 0.5, 0)
    assert np.array_equal(a.T, b.T)
    assert knobs.knob_shares(np.int64(9)) == knobs.knob_shares(9)
    with pytest.raises(ValueError, match="^order must be an integer >= 1; got True"):
        hmm.MarkovChain.random(4, True, 0.5, 0)


# --- property-based: the validators ----------------------------------------------------------------

@FEW
@given(st.integers(-10**30, 10**30), st.integers(-50, 50), st.integers(0, 100))
def test_integer_accepts_exactly_the_ints_in_range(value, low, width):
    high = low + width
    if low <= value <= high:
        assert checks.integer("count", value, low, high) == value
    else:
        with pytest.raises(ValueError, match=rf"^count must be an integer in \[{low}, {high}\]"):
            checks.integer("count", value, low, high)


@FEW
@given(st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                        np.uint64]), st.integers(0, 127))
def test_integer_accepts_numpy_integer_scalars(dtype, value):
    out = checks.integer("k", dtype(value), 0)
    assert out == value and type(out) is int


@FEW
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=3),
                 st.none(), st.lists(st.integers(), max_size=2)))
def test_integer_refuses_everything_else(value):
    with pytest.raises(ValueError, match="^k must be an integer"):
        checks.integer("k", value)


@FEW
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-10, 10), st.floats(0, 10),
       st.booleans(), st.booleans())
def test_real_accepts_exactly_the_finite_numbers_in_its_interval(value, low, width, lo_open, hi_open):
    high = low + width
    inside = (math.isfinite(value) and (value > low if lo_open else value >= low)
              and (value < high if hi_open else value <= high))
    if inside:
        assert checks.real("rate", value, low, high, low_open=lo_open, high_open=hi_open) == value
    else:
        with pytest.raises(ValueError, match="^rate must be in "):
            checks.real("rate", value, low, high, low_open=lo_open, high_open=hi_open)


@FEW
@given(st.one_of(st.just(float("nan")), st.just(float("inf")), st.just(-float("inf")),
                 st.booleans(), st.text(max_size=3), st.none(), st.just(10**400)))
def test_real_refuses_nan_inf_bools_and_non_numbers(value):
    with pytest.raises(ValueError, match="^tau must be a finite number"):
        checks.real("tau", value)


@FEW
@given(hnp.arrays(np.int64, st.integers(0, 30), elements=st.integers(-3, 12)), st.integers(1, 10))
def test_symbols_accepts_exactly_the_arrays_within_the_alphabet(x, alphabet_size):
    if x.size == 0 or (x.min() >= 0 and x.max() < alphabet_size):
        assert np.array_equal(checks.symbols("ids", x, alphabet_size), x)
    else:
        with pytest.raises(ValueError, match=rf"^ids has symbols outside \[0, {alphabet_size}\)"):
            checks.symbols("ids", x, alphabet_size)


@FEW
@given(st.one_of(st.integers(), st.text(max_size=3), st.none()))
def test_rng_refuses_anything_but_a_generator(value):
    with pytest.raises(ValueError, match="^rng must be a numpy.random.Generator"):
        checks.rng("rng", value)


# --- property-based: public functions ----------------------------------------------------------------

@FEW
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda r: not 0.0 <= r <= 1.0))
def test_char_noise_refuses_any_rate_outside_the_unit_interval(rate):
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\]"):
        degrade.char_noise(np.zeros(5, dtype=int), rate, 3, np.random.default_rng(0))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.int64, st.integers(8, 60), elements=st.integers(0, 4)),
       st.integers(0, 2**62), st.integers(1, 5))
def test_block_entropies_depend_on_the_order_of_symbols_only(x, offset, L_max):
    # Any order-preserving relabelling (a shift by up to 2^62) gives the very same floats, and
    # they are the block entropies a Counter of the words gives.
    H = entropy.block_entropies(x, L_max)
    assert np.array_equal(entropy.block_entropies(x + offset, L_max), H)
    for L in range(1, L_max + 1):
        assert H[L] == pytest.approx(counter_block_entropy(x.tolist(), L), abs=1e-10)


@settings(max_examples=15, deadline=None)
@given(st.floats(1e-300, 1e3), st.integers(0, 50))
def test_markov_chain_has_a_unique_stationary_law_at_any_temperature(temperature, seed):
    m = hmm.MarkovChain.random(3, 2, temperature, seed)
    P = m.T.sum(axis=0)
    assert np.all(m.start >= 0) and m.start.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.abs(m.start @ P - m.start).max() < 1e-9  # the least-squares path's own tolerance


@FEW
@given(st.one_of(st.text(max_size=4).filter(lambda s: not _is_number(s)), st.none(),
                 st.just(float("inf"))))
def test_make_source_refuses_any_non_number_on_a_numeric_knob(knob):
    with pytest.raises(ValueError, match="^knob of family 'temperature'"):
        knobs.make_source("temperature", knob)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
