"""Continuation targets and their scoring, and the quanta task, on hand-made cases."""

import numpy as np
import pytest

from middleground.measures import capability
from middleground.sources import hmm
from middleground.sources.tasks import Quanta


def test_greedy_target_of_a_periodic_word_is_its_continuation():
    src = hmm.noisy_periodic((0, 1, 2, 3, 3), 4, 0.1)
    ctx = np.array([[0, 1, 2, 3, 3, 0, 1]])  # phase after this context: next is 2
    assert capability.greedy_target(src, ctx, 6).tolist() == [[2, 3, 3, 0, 1, 2]]
    ok = capability.continuation_correct(src, ctx, np.array([[2, 3, 0, 0, 1, 2]]))
    # the third symbol breaks the pattern (a noise event); the phase survives it
    assert ok.tolist() == [[True, True, False, True, True, True]]


def test_continuation_scoring_accepts_either_side_of_an_exact_tie():
    g = hmm.golden_mean()  # after a 0, 0 and 1 are equally likely; after a 1, a 0 is certain
    ctx = np.array([[1, 0, 1, 0]])
    assert capability.continuation_correct(g, ctx, np.array([[1, 0, 0, 1]])).all()
    assert capability.continuation_correct(g, ctx, np.array([[0, 0, 0, 0]])).all()
    bad = capability.continuation_correct(g, ctx, np.array([[1, 1, 0, 0]]))
    assert bad.tolist() == [[True, False, True, True]]  # two 1s in a row are impossible


def test_quanta_segments_follow_their_tasks_permutation():
    q = Quanta(n_tasks=5, k=6, exponent=1.5, segment=8, seed=1)
    x, tasks = q.sample(400, np.random.default_rng(0))
    seg = x.reshape(400, 8)
    assert np.array_equal(seg[:, 0], 6 + tasks)
    perms = q.permutations
    assert np.array_equal(seg[:, 2:], perms[tasks[:, None], seg[:, 1:-1]])
    # Zipf frequencies: task 0 the most common
    assert np.bincount(tasks, minlength=5).argmax() == 0


def test_reachable_beliefs_of_a_synchronising_machine_and_of_its_noisy_version():
    from middleground.sources import beliefs

    g = hmm.golden_mean()
    # unifilar and synchronising: after any word the observer knows the state or is at π
    clean = beliefs.reachable_counts(g.start, g.T, 6)
    assert clean[0] == 2 and max(clean) <= 3
    noisy = hmm.with_noise(g, 0.1)
    counts = beliefs.reachable_counts(noisy.start, noisy.T, 8)
    assert counts == sorted(counts) and counts[-1] > 50  # noise: a new belief for almost every word


def test_beliefs_after_a_context_equal_brute_force_bayes():
    """η_t ∝ Σ over hidden paths consistent with the context, enumerated by hand."""
    from itertools import product

    from middleground.sources import beliefs

    src = hmm.with_noise(hmm.even_process(), 0.2)
    ctx = np.array([[1, 1, 0, 1]])
    S = src.n_states
    post = np.zeros(S)
    for path in product(range(S), repeat=len(ctx[0]) + 1):
        p = src.start[path[0]]
        for t, x in enumerate(ctx[0]):
            p *= src.T[x, path[t], path[t + 1]]
        post[path[-1]] += p
    assert np.allclose(beliefs.after(src.start, src.T, ctx)[0], post / post.sum(), atol=1e-12)


def test_surprisal_of_the_optimal_predictor_sums_to_the_exact_sequence_probability():
    """Σ_t -log2 P(x_t | x_<t) = -log2 P(x), with P(x) enumerated over hidden paths."""
    from itertools import product

    from middleground.sources import beliefs

    src = hmm.with_noise(hmm.golden_mean(), 0.2)
    x = np.array([0, 1, 1, 0, 0, 1])
    total = 0.0
    for path in product(range(src.n_states), repeat=len(x) + 1):
        p = src.start[path[0]]
        for t, symbol in enumerate(x):
            p *= src.T[symbol, path[t], path[t + 1]]
        total += p
    assert beliefs.surprisal(src.start, src.T, x).sum() == pytest.approx(-np.log2(total), abs=1e-12)
