"""The Random Hierarchy Model: exact statistics against brute-force enumeration of all sentences."""

import math

import numpy as np
import pytest

from middleground.base.bits import entropy_bits
from middleground.sources.processes import NoExactValue
from middleground.sources.rhm import RandomHierarchy, predicted_scaling

TINY = [(2, 2, 2, 3, 1), (3, 2, 3, 2, 4), (3, 3, 2, 2, 0), (4, 2, 2, 3, 7)]  # v, m, s, L, seed


def counts_entropy(rows: np.ndarray) -> float:
    """Entropy (bits) of the rows of an equiprobable list of sentences, grouped by value."""
    _, counts = np.unique(rows, axis=0, return_counts=True)
    return float(entropy_bits(counts / counts.sum()))


def brute_joint(S: np.ndarray, i: int, j: int, v: int) -> np.ndarray:
    P = np.zeros((v, v))
    np.add.at(P, (S[:, i], S[:, j]), 1.0 / len(S))
    return P


@pytest.mark.parametrize("v,m,s,L,seed", TINY + [(8, 2, 2, 5, 0), (16, 4, 2, 4, 3)])
def test_rules_are_unambiguous_and_reproducible(v, m, s, L, seed):
    src = RandomHierarchy(v, m, s, L, seed)
    assert src.rules.shape == (L, v, m, s)
    assert src.rules.min() >= 0 and src.rules.max() < v
    for level in src.rules:  # v*m distinct right-hand sides: no s-tuple has two parents
        assert len(np.unique(level.reshape(v * m, s), axis=0)) == v * m
    assert np.array_equal(src.rules, RandomHierarchy(v, m, s, L, seed).rules)
    assert src == RandomHierarchy(v, m, s, L, seed)


def test_different_seeds_give_different_grammars():
    assert not np.array_equal(RandomHierarchy(8, 2, 2, 3, 0).rules, RandomHierarchy(8, 2, 2, 3, 1).rules)


@pytest.mark.parametrize("kwargs,word", [
    (dict(v=1, m=1, s=2, L=2), "v"), (dict(v=4, m=0, s=2, L=2), "m"),
    (dict(v=4, m=2, s=1, L=2), "s"), (dict(v=4, m=2, s=2, L=0), "L"),
    (dict(v=4, m=2, s=2, L=2, seed=-1), "seed"), (dict(v=4.0, m=2, s=2, L=2), "v"),
    (dict(v=True, m=2, s=2, L=2), "v"), (dict(v=4, m=5, s=2, L=2), "m must be <="),
    (dict(v=3, m=10, s=3, L=2), "m must be <="), (dict(v=2, m=1, s=2, L=21), "exceeds"),
])
def test_rejects_bad_parameters(kwargs, word):
    with pytest.raises(ValueError, match=word):
        RandomHierarchy(**kwargs)


@pytest.mark.parametrize("v,m,s,L,seed", TINY)
def test_sentence_entropy_formula_against_enumeration(v, m, s, L, seed):
    src = RandomHierarchy(v, m, s, L, seed)
    S = src.all_sentences()
    N = s ** L
    assert S.shape == (v * m ** ((N - 1) // (s - 1)), N) == (src.n_sentences, src.sentence_length)
    # injective: every (root, rule choices) gives a different sentence, so all are equiprobable
    assert len(np.unique(S, axis=0)) == len(S)
    closed = math.log2(v) + math.log2(m) * (N - 1) / (s - 1)
    assert src.sentence_entropy == pytest.approx(closed, abs=1e-12)
    assert src.sentence_entropy == pytest.approx(math.log2(len(S)), abs=1e-12)
    assert src.window_entropy(0, N) == pytest.approx(closed, abs=1e-12)
    assert src.entropy_rate == pytest.approx(closed / N, abs=1e-12)


@pytest.mark.parametrize("v,m,s,L,seed", TINY)
def test_every_window_entropy_matches_enumeration(v, m, s, L, seed):
    src = RandomHierarchy(v, m, s, L, seed)
    S = src.all_sentences()
    N = src.sentence_length
    for a in range(N):
        for b in range(a + 1, N + 1):
            assert src.window_entropy(a, b) == pytest.approx(counts_entropy(S[:, a:b]), abs=1e-10)


@pytest.mark.parametrize("v,m,s,L,seed", TINY)
def test_conditional_entropies_match_enumeration(v, m, s, L, seed):
    src = RandomHierarchy(v, m, s, L, seed)
    S = src.all_sentences()
    N = src.sentence_length
    H = lambda a, b: counts_entropy(S[:, a:b]) if b > a else 0.0  # noqa: E731
    prefix = [H(0, n) - H(0, n - 1) for n in range(1, N + 1)]
    assert np.allclose(src.prefix_conditional_entropies(), prefix, atol=1e-10)
    last = [H(N - n, N) - H(N - n, N - 1) for n in range(1, N + 1)]
    assert np.allclose(src.last_token_entropies(), last, atol=1e-10)
    assert np.all(np.diff(src.last_token_entropies()) <= 1e-12)  # more context never hurts
    ngram = [np.mean([H(max(0, i - n), i + 1) - H(max(0, i - n), i) for i in range(N)])
             for n in range(N)]
    assert np.allclose(src.ngram_entropies(), ngram, atol=1e-10)
    cut = [H(0, r) + H(r, N) - H(0, N) for r in range(N)]
    assert np.allclose(src.cut_information(), cut, atol=1e-10)


@pytest.mark.parametrize("v,m,s,L,seed", TINY)
def test_pair_statistics_match_enumeration(v, m, s, L, seed):
    src = RandomHierarchy(v, m, s, L, seed)
    S = src.all_sentences()
    N = src.sentence_length
    mi = np.zeros((N, N))
    for i in range(N):
        mi[i, i] = entropy_bits(np.bincount(S[:, i], minlength=v) / len(S))
        for j in range(N):
            if i != j:
                P = brute_joint(S, i, j, v)
                assert np.allclose(src.pair_joint(i, j), P, atol=1e-12)
                mi[i, j] = entropy_bits(P.sum(0)) + entropy_bits(P.sum(1)) - entropy_bits(P.ravel())
    assert np.allclose(src.mi_matrix(), mi, atol=1e-10)
    assert np.allclose(src.mi_by_distance(), [np.diagonal(mi, d).mean() for d in range(1, N)])
    assert np.allclose(src.mi_last_token(), [mi[N - 1 - d, N - 1] for d in range(1, N)])
    marg = np.array([np.bincount(S[:, i], minlength=v) / len(S) for i in range(N)])
    assert np.allclose(src.leaf_marginals(), marg, atol=1e-12)
    for d in range(1, N):
        pooled = np.mean([brute_joint(S, i, i + d, v) for i in range(N - d)], axis=0)
        assert np.allclose(src.pooled_pair_joint(d), pooled, atol=1e-12)
        covs = [brute_joint(S, i, i + d, v) - np.outer(marg[i], marg[i + d]) for i in range(N - d)]
        assert src.covariance_by_distance("op")[d - 1] == pytest.approx(
            np.mean([np.linalg.norm(C, 2) for C in covs]), abs=1e-12)
        assert src.covariance_by_distance("fro")[d - 1] == pytest.approx(
            np.mean([np.linalg.norm(C) for C in covs]), abs=1e-12)


def test_lca_level():
    src = RandomHierarchy(4, 2, 2, 3, 0)
    assert [src.lca_level(0, j) for j in range(1, 8)] == [1, 2, 2, 3, 3, 3, 3]
    assert src.lca_level(5, 4) == 1 and src.lca_level(3, 4) == 3
    with pytest.raises(ValueError, match="differ"):
        src.lca_level(2, 2)
    with pytest.raises(ValueError, match="position"):
        src.pair_joint(0, 8)


def test_sampled_sentences_are_uniform_over_the_grammar():
    src = RandomHierarchy(2, 2, 2, 2, 5)  # 2 * 2^3 = 16 sentences, each of probability 1/16
    support = {tuple(row) for row in src.all_sentences()}
    X = src.sample_sentences(32_000, np.random.default_rng(11))
    assert X.dtype == np.int64 and X.shape == (32_000, 4)
    rows, counts = np.unique(X, axis=0, return_counts=True)
    assert {tuple(r) for r in rows} == support
    expected = len(X) / len(support)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 44.3  # the 0.9999 quantile of chi-square with 15 degrees of freedom


def test_sampled_token_and_pair_frequencies_match_exact_laws():
    src = RandomHierarchy(6, 2, 2, 3, 2)
    X = src.sample_sentences(40_000, np.random.default_rng(3))
    n = len(X)
    marg = src.leaf_marginals()
    for i in range(src.sentence_length):
        freq = np.bincount(X[:, i], minlength=6) / n
        assert np.all(np.abs(freq - marg[i]) <= 5 * np.sqrt(marg[i] * (1 - marg[i]) / n) + 1e-12)
    P = src.pair_joint(1, 6)
    freq = brute_joint(X, 1, 6, 6)
    assert np.all(np.abs(freq - P) <= 5 * np.sqrt(P * (1 - P) / n) + 1e-12)


def test_sample_is_sentences_concatenated_from_a_boundary():
    src = RandomHierarchy(5, 2, 2, 3, 1)
    x = src.sample(20, np.random.default_rng(8))
    sentences = src.sample_sentences(3, np.random.default_rng(8))
    assert x.shape == (20,) and x.dtype == np.int64
    assert np.array_equal(x, sentences.reshape(-1)[:20])
    with pytest.raises(ValueError, match="positive integer"):
        src.sample(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Generator"):
        src.sample(5, 0)
    with pytest.raises(ValueError, match="n_sentences"):
        src.sample_sentences(0, np.random.default_rng(0))


def test_all_tuples_used_gives_iid_uniform_tokens():
    src = RandomHierarchy(3, 3, 2, 3, 0)  # m = v^(s-1): every pair is a rule, so tokens are iid
    N = src.sentence_length
    assert src.sentence_entropy == pytest.approx(N * math.log2(3))
    assert np.allclose(src.prefix_conditional_entropies(), math.log2(3))
    assert np.allclose(src.mi_matrix() - np.diag(np.diag(src.mi_matrix())), 0.0, atol=1e-12)
    assert predicted_scaling(3, 3, 2, 3).gamma == 0.0


def test_single_rule_makes_the_sentence_a_function_of_the_root():
    src = RandomHierarchy(5, 1, 2, 3, 2)
    assert src.sentence_entropy == pytest.approx(math.log2(5))
    assert src.n_sentences == 5


def test_chain_rule_and_limits_on_a_larger_grammar():
    src = RandomHierarchy(8, 2, 2, 5, 0)  # 32 tokens, 8 * 2^31 sentences: no enumeration
    h = src.prefix_conditional_entropies()
    assert h.sum() == pytest.approx(src.sentence_entropy, abs=1e-9)
    ngram = src.ngram_entropies()
    assert ngram[-1] == pytest.approx(src.entropy_rate, abs=1e-9)
    assert np.all(np.diff(ngram) <= 1e-12)
    assert src.cut_information()[0] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="max_states"):
        src.window_entropy(1, 31, max_states=100)


def test_truth_and_excess_entropy():
    src = RandomHierarchy(8, 2, 2, 4, 0)
    t = src.truth()
    assert t.kind == "exact" and t.E is None
    assert t.h == pytest.approx(18 / 16)
    assert src.alphabet_size == 8
    with pytest.raises(NoExactValue):
        src.excess_entropy


@pytest.mark.parametrize("call,word", [
    (lambda s: s.window_entropy(3, 3), "a < b"), (lambda s: s.window_entropy(-1, 3), "bound a"),
    (lambda s: s.window_entropy(0, 9), "bound b"), (lambda s: s.ngram_entropies(8), "n_max"),
    (lambda s: s.pooled_pair_joint(0), "distance"), (lambda s: s.covariance_by_distance("l1"), "norm"),
    (lambda s: s.covariance_last_token("max"), "norm"), (lambda s: s.all_sentences(max_count=10), "max_count"),
])
def test_methods_reject_bad_arguments(call, word):
    with pytest.raises(ValueError, match=word):
        call(RandomHierarchy(4, 2, 2, 3, 0))


def test_predicted_scaling_values():
    p = predicted_scaling(8, 2, 2, 5)
    assert (p.f, p.beta, p.gamma, p.alpha) == pytest.approx((0.25, 1.0, 2.0, 1.0))
    assert p.thresholds == pytest.approx([8 * 2 ** (2 * l - 1) / 0.75 for l in range(1, 6)])
    q = predicted_scaling(12, 3, 2, 4)
    assert q.alpha == pytest.approx(math.log(4) / (2 * math.log(3)))
    with pytest.raises(ValueError, match="m must be <="):
        predicted_scaling(4, 5, 2, 3)
    with pytest.raises(ValueError, match="L"):
        predicted_scaling(4, 2, 2, 0)
