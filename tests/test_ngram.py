"""The Bayes n-gram baseline against plain-loop computations and against exact entropy rates."""

import math
from collections import Counter

import numpy as np
import pytest

from middleground.measures.ngram import BayesNgram
from middleground.sources.hmm import MarkovChain
from middleground.sources.processes import IID


def sequential_kt_log2(x, A, order, start):
    """log2 of the probability of x[start:] under order-``order`` KT, one symbol at a time:
    predict with the counts so far, then count the symbol."""
    pairs, contexts = Counter(), Counter()
    total = 0.0
    for t in range(start, len(x)):
        context = tuple(x[t - order:t])
        total += math.log2((pairs[context, x[t]] + 0.5) / (contexts[context] + A / 2))
        pairs[context, x[t]] += 1
        contexts[context] += 1
    return total


@pytest.mark.parametrize("A, n, seed", [(2, 80, 0), (3, 50, 1), (5, 40, 2)])
def test_closed_form_evidence_is_the_product_of_sequential_predictions(A, n, seed):
    x = np.random.default_rng(seed).integers(0, A, size=n)
    model = BayesNgram.fit(x, A, max_order=2)
    for k in range(3):
        # Every order scores the same symbols x[2:], each from its own k previous symbols.
        assert model.order_log_evidence[k] == pytest.approx(
            sequential_kt_log2(x.tolist(), A, k, start=2), abs=1e-9)
    assert model.order_weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_window_bits_equal_a_brute_force_mixture_with_renormalised_weights():
    A, K = 3, 2
    rng = np.random.default_rng(5)
    train = rng.integers(0, A, size=40).tolist()
    windows = rng.integers(0, A, size=(4, 6))
    model = BayesNgram.fit(np.array(train), A, max_order=K)

    pairs = [Counter() for _ in range(K + 1)]
    contexts = [Counter() for _ in range(K + 1)]
    for k in range(K + 1):
        for t in range(K, len(train)):
            pairs[k][tuple(train[t - k:t]), train[t]] += 1
            contexts[k][tuple(train[t - k:t])] += 1
    log_evidence = [sequential_kt_log2(train, A, k, start=K) for k in range(K + 1)]

    expected = np.zeros((len(windows), windows.shape[1] - 1))
    for b, window in enumerate(windows.tolist()):
        for j in range(1, len(window)):
            allowed = range(min(j, K) + 1)  # only what lies inside the window
            top = max(log_evidence[k] for k in allowed)
            raw = [2 ** (log_evidence[k] - top) for k in allowed]
            p = 0.0
            for k in allowed:
                context = tuple(window[j - k:j])
                kt = (pairs[k][context, window[j]] + 0.5) / (contexts[k][context] + A / 2)
                p += raw[k] / sum(raw) * kt
            expected[b, j - 1] = -math.log2(p)
    np.testing.assert_allclose(model.window_bits(windows), expected, rtol=0, atol=1e-12)

    # predictive() is the same mixture, and a distribution.
    for j in range(1, windows.shape[1]):
        p = model.predictive(windows[1, :j])
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert -math.log2(p[windows[1, j]]) == pytest.approx(expected[1, j - 1], abs=1e-12)


def test_consistent_on_an_order_2_markov_chain():
    chain = MarkovChain.random(4, 2, 0.5, seed=0)
    h = chain.entropy_rate
    held_out = chain.sample(16384 * 33, np.random.default_rng(100)).reshape(-1, 33)
    # The chain's own bits for each held-out symbol at positions >= 2 (state = its 2 previous
    # symbols, most recent last digit). Their expectation is exactly h, so mean(model − own) is
    # an unbiased estimate of the model's gap to h, with a far smaller standard error than
    # mean(model) − h.
    p_next = chain.T.sum(axis=2)  # P(x | state), shape (symbol, state)
    own_bits = -np.log2(p_next[held_out[:, 2:], 4 * held_out[:, :-2] + held_out[:, 1:-1]])

    gaps = []
    for n in (1_000, 10_000, 100_000):
        model = BayesNgram.fit(chain.sample(n, np.random.default_rng(n)), 4, max_order=6)
        bits = model.window_bits(held_out)[:, 1:]  # positions 2..32: context at least the order
        excess = (bits - own_bits).mean(axis=1)    # per window: windows are independent draws
        gaps.append(excess.mean())
        assert excess.mean() > 4 * excess.std() / math.sqrt(len(excess))  # resolved, not noise
    # Measured gaps 0.025, 0.0032, 0.00025 bits (standard errors 4e-4, 1.4e-4, 3e-5): about
    # (48 free parameters) / (2 n ln 2) = 0.035, 0.0035, 0.00035, the KT regret of 16 contexts × 3
    # probabilities. Each tenfold more data must cut the gap at least threefold.
    assert gaps[0] > 3 * gaps[1] > 9 * gaps[2] > 0
    assert gaps[2] < 0.002
    # Directly, mean bits − h (measured 0.0025): its standard error with 16384 × 31 held-out
    # symbols is 0.0017 bits (the spread of −log2 p), so 0.01 is about six standard errors beyond
    # the expected 0.0003; a predictor stuck at order 1 or 0 would be tenths of a bit above.
    assert abs(bits.mean() - h) < 0.01
    assert model.order_weights[2] > 0.99


@pytest.mark.parametrize("source", [IID.uniform(4), IID.zipf(4, 1.0)])
def test_posterior_favours_order_0_on_iid_data(source):
    x = source.sample(10_000, np.random.default_rng(7))
    model = BayesNgram.fit(x, 4, max_order=3)
    # Order 1 spends 12 more free parameters, about 12 · ½ log2(10^4) ≈ 80 bits of evidence.
    assert model.order_weights[0] > 0.99
    assert np.argmax(model.order_log_evidence) == 0


@pytest.mark.parametrize("kwargs, name", [
    (dict(max_order=-1), "max_order"),
    (dict(max_order=1.5), "max_order"),
    (dict(alphabet_size=1), "alphabet_size"),
    (dict(alphabet_size=4, max_order=13), "max_order"),  # 4**14 = 2**28 cells
    (dict(train=np.array([0, 1, 4, 2, 3])), "train"),
    (dict(train=np.array([0, -1, 2, 3])), "train"),
    (dict(train=np.array([0.0, 1.0, 2.0, 3.0])), "train"),
    (dict(train=np.zeros((3, 3), dtype=int)), "train"),
    (dict(train=np.array([0, 1, 2]), max_order=2), "train"),  # needs max_order + 2 = 4
])
def test_bad_fit_inputs_name_the_parameter(kwargs, name):
    args = dict(train=np.array([0, 1, 2, 3, 0, 1]), alphabet_size=4, max_order=1) | kwargs
    with pytest.raises(ValueError, match=name):
        BayesNgram.fit(**args)


@pytest.mark.parametrize("windows", [
    np.array([0, 1, 2]),                 # not 2-d
    np.array([[0, 1, 4]]),               # symbol out of range
    np.array([[0, -1, 2]]),
    np.array([[0.0, 1.0]]),              # not integers
    np.array([[0], [1]]),                # nothing to predict
])
def test_bad_windows_name_the_parameter(windows):
    model = BayesNgram.fit(np.array([0, 1, 2, 3, 0, 1]), 4, max_order=1)
    with pytest.raises(ValueError, match="windows"):
        model.window_bits(windows)
