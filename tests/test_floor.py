"""The finite-context floor and the batched optimal filter, against brute force and closed forms."""

import itertools
import math

import numpy as np
import pytest

from middleground.base.bits import entropy_bits
from middleground.sources import beliefs, hmm
from middleground.sources.floor import (Floor, finite_context_floor, paired_floor_bits,
                                        sample_windows)
from middleground.sources.processes import IID

LOG3 = math.log2(3)
NOISY_PERIOD_8 = (0, 1, 2, 3, 0, 2, 1, 3)


def word_probability(source: hmm.HMM, word) -> float:
    """P(word) by the forward algorithm, π T[w1] ... T[wL] 1: no mixed states involved."""
    v = source.start
    for x in word:
        v = v @ source.T[x]
    return float(v.sum())


def brute_force_floor(source: hmm.HMM, T: int) -> float:
    """(1/T) Σ_i E[−log2 P(x_i | x_<i)] over all words of length T + 1, straight from the
    definition (no block-entropy identity)."""
    total = 0.0
    for word in itertools.product(range(source.alphabet_size), repeat=T + 1):
        p_word = word_probability(source, word)
        if p_word == 0:
            continue
        bits = sum(-math.log2(word_probability(source, word[:i + 1]) / word_probability(source, word[:i]))
                   for i in range(1, T + 1))
        total += p_word * bits
    return total / T


@pytest.mark.parametrize("source", [hmm.golden_mean(), hmm.even_process(),
                                    hmm.noisy_periodic((0, 2, 1), 3, 0.2),
                                    hmm.with_noise(hmm.golden_mean(), 0.2)],
                         ids=lambda s: s.name)
def test_floor_equals_brute_force_enumeration(source):
    for T in range(1, 6):
        floor = finite_context_floor(source, T)
        assert floor.method == "exact" and floor.se == 0.0 and floor.T == T
        assert floor.value == pytest.approx(brute_force_floor(source, T), abs=1e-10)


@pytest.mark.parametrize("source", [hmm.noisy_periodic(NOISY_PERIOD_8, 4, 0.3),
                                    hmm.with_noise(hmm.golden_mean(), 0.1)],
                         ids=lambda s: s.name)
def test_monte_carlo_agrees_with_exact(source):
    exact = finite_context_floor(source, 8)
    mc = finite_context_floor(source, 8, n_windows=20_000, seed=3, max_beliefs=1)  # forces MC
    assert exact.method == "exact"
    assert mc.method == "Monte Carlo (20000 windows)" and 0 < mc.se < 0.01
    assert abs(mc.value - exact.value) < 4 * mc.se


def test_order_two_markov_floor_has_its_closed_form():
    k = 4
    m = hmm.MarkovChain.random(k, 2, 0.5, seed=0)
    h = m.entropy_rate
    # States are 2-blocks (s = 4·older + newer), so π is the distribution of 2-blocks: H(2) = H(π)
    # and H(1) is the entropy of the newer symbol. From there H(T+1) = H(2) + (T − 1) h.
    H2 = float(entropy_bits(m.start))
    H1 = float(entropy_bits(np.bincount(np.arange(k * k) % k, weights=m.start)))
    for T in (1, 2, 5, 32):
        closed_form = (H2 - H1 + (T - 1) * h) / T
        floor = finite_context_floor(m, T)
        assert floor.method == "exact"
        assert floor.value == pytest.approx(closed_form, abs=1e-9)
        assert floor.value > h


def test_order_one_markov_floor_is_the_entropy_rate():
    # Golden mean is order-1 Markov: every predicted position already sees all that matters.
    g = hmm.golden_mean()
    for T in (1, 7, 30):
        assert finite_context_floor(g, T).value == pytest.approx(2 / 3, abs=1e-12)


def test_floor_decreases_to_h_with_the_excess_entropy_tail():
    e = hmm.even_process()
    h, E = 2 / 3, LOG3 - 2 / 3
    H1 = float(entropy_bits([1 / 3, 2 / 3]))  # P(1) = 2/3
    floors = [finite_context_floor(e, T).value for T in range(1, 61)]
    assert all(f >= h for f in floors)
    assert all(b <= a + 1e-12 for a, b in zip(floors, floors[1:]))
    assert floors[0] - floors[-1] > 0.1  # it really moves
    # T (floor(T) − h) = Σ_{L=2..T+1} [h(L) − h] → E − H(1) + h, geometrically for the even process.
    assert 60 * (floors[-1] - h) == pytest.approx(E - H1 + h, abs=1e-6)


@pytest.mark.parametrize("source", [hmm.with_noise(hmm.golden_mean(), 0.2),
                                    hmm.noisy_periodic(NOISY_PERIOD_8, 4, 0.3),
                                    hmm.MarkovChain.random(3, 2, 0.7, seed=1)],
                         ids=lambda s: s.name)
def test_window_surprisal_equals_surprisal_row_by_row(source):
    windows = sample_windows(source, 50, 20, np.random.default_rng(0))
    # A start other than π too: the batch must filter every row from the given belief.
    for start in (source.start, np.eye(source.n_states)[0]):
        batched = beliefs.window_surprisal(start, source.T, windows)
        assert batched.shape == windows.shape
        for row, bits in zip(windows, batched):
            np.testing.assert_allclose(bits, beliefs.surprisal(start, source.T, row), rtol=0,
                                       atol=1e-12)


def test_window_surprisal_charges_inf_for_an_impossible_symbol():
    g = hmm.golden_mean()
    bits = beliefs.window_surprisal(g.start, g.T, np.array([[0, 1, 0], [1, 1, 0]]))
    assert np.all(np.isfinite(bits[0])) and bits[1, 1] == np.inf


def test_paired_floor_bits_average_to_the_floor_and_skip_position_zero():
    source = hmm.with_noise(hmm.golden_mean(), 0.1)
    windows = sample_windows(source, 5, 9, np.random.default_rng(1))
    full = beliefs.window_surprisal(source.start, source.T, windows)
    np.testing.assert_allclose(paired_floor_bits(source, windows), full[:, 1:].mean(axis=1))


def test_sampled_windows_have_the_stationary_word_probabilities():
    # The even process is not Markov of any order: the start state must be drawn from π.
    e = hmm.even_process()
    n = 40_000
    windows = sample_windows(e, n, 3, np.random.default_rng(5))
    codes = windows @ np.array([4, 2, 1])
    freq = np.bincount(codes, minlength=8) / n
    for code, word in enumerate(itertools.product(range(2), repeat=3)):
        p = word_probability(e, word)
        assert abs(freq[code] - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1e-12
    assert freq[0b010] == 0  # an odd block of 1s between 0s never occurs


@pytest.mark.parametrize("call, name", [
    (lambda: finite_context_floor(hmm.golden_mean(), 0), "T"),
    (lambda: finite_context_floor(hmm.golden_mean(), 2.0), "T"),
    (lambda: finite_context_floor(hmm.golden_mean(), True), "T"),
    (lambda: finite_context_floor(hmm.golden_mean(), 4, n_windows=1), "n_windows"),
    (lambda: finite_context_floor(hmm.golden_mean(), 4, max_beliefs=0), "max_beliefs"),
    (lambda: finite_context_floor(IID((0.5, 0.5)), 4), "source"),
    (lambda: paired_floor_bits(IID((0.5, 0.5)), np.zeros((2, 3), dtype=int)), "source"),
    (lambda: paired_floor_bits(hmm.golden_mean(), np.zeros((2, 1), dtype=int)), "windows"),
    (lambda: paired_floor_bits(hmm.golden_mean(), np.zeros(5, dtype=int)), "windows"),
    (lambda: beliefs.window_surprisal(np.ones(2) / 2, hmm.golden_mean().T,
                                      np.array([[0, 2]])), "windows"),
    (lambda: beliefs.window_surprisal(np.ones(2) / 2, hmm.golden_mean().T,
                                      np.zeros((2, 2))), "windows"),
])
def test_bad_inputs_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call()


def test_floor_is_a_frozen_record():
    floor = finite_context_floor(hmm.golden_mean(), 3)
    assert isinstance(floor, Floor)
    with pytest.raises(AttributeError):
        floor.value = 0.0


def test_memory_bits_match_exact_conditional_entropies_and_the_floor():
    import numpy as np

    from middleground.sources import hmm
    from middleground.sources.floor import memory_bits, paired_floor_bits, sample_windows

    src = hmm.mess3(0.1, 0.85)
    w = sample_windows(src, 20_000, 6, np.random.default_rng(0))
    H = src.block_entropies(6)
    h = np.diff(H)  # h(1..6)
    for k in (0, 1, 2):
        # Positions 1..5 with memories min(i, k): the expected bits are the mean of h(min(i, k) + 1).
        expected = np.mean([h[min(i, k)] for i in range(1, 6)])
        got = memory_bits(src, w, k)
        assert abs(got.mean() - expected) < 4 * got.std(ddof=1) / np.sqrt(len(got))
    np.testing.assert_allclose(memory_bits(src, w, 5), paired_floor_bits(src, w))
    # A longer memory never costs more on average.
    assert memory_bits(src, w, 0).mean() > memory_bits(src, w, 1).mean() > memory_bits(src, w, 3).mean()
