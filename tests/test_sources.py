import math

import numpy as np
import pytest

from middleground.sources.processes import IID, Periodic, minimal_period


def _plugin_block_entropy(x: np.ndarray, L: int) -> float:
    blocks = np.lib.stride_tricks.sliding_window_view(x, L)
    _, counts = np.unique(blocks, axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def test_uniform_iid_exact_values():
    s = IID.uniform(65)
    assert s.entropy_rate == pytest.approx(math.log2(65), abs=1e-12)
    assert s.excess_entropy == 0.0


def test_iid_entropy_of_a_skewed_distribution():
    s = IID((0.5, 0.25, 0.25))
    assert s.entropy_rate == pytest.approx(1.5, abs=1e-12)


def test_iid_sample_frequencies_match_probs():
    s = IID((0.7, 0.2, 0.1))
    x = s.sample(200_000, np.random.default_rng(1))
    freq = np.bincount(x, minlength=3) / len(x)
    # 5 standard errors of a binomial proportion at n = 2e5
    assert np.allclose(freq, s.probs, atol=5 * math.sqrt(0.25 / 200_000))


def test_iid_rejects_bad_distribution():
    with pytest.raises(ValueError, match="probability vector"):
        IID((0.5, 0.6))


def test_minimal_period():
    assert minimal_period((0, 1, 0, 1)) == 2
    assert minimal_period((3, 3, 3)) == 1
    assert minimal_period((0, 1, 2)) == 3


def test_periodic_exact_values_and_block_entropy_saturates_at_log_p():
    rng = np.random.default_rng(0)
    s = Periodic.random(8, 20, rng)
    assert s.entropy_rate == 0.0 and s.excess_entropy == pytest.approx(3.0)
    # A sample of whole periods (plus L - 1) holds every length-L word of the cycle equally often,
    # so the plug-in H(L) equals log2(p) = E exactly for every L >= 1 (h = 0).
    for L in (1, 2, 5):
        assert _plugin_block_entropy(s.sample(8 * 500 + L - 1, rng), L) == pytest.approx(3.0, abs=1e-9)


def test_periodic_uses_the_minimal_period():
    assert Periodic((0, 1, 0, 1), 2).excess_entropy == pytest.approx(1.0)


def test_periodic_sample_is_the_word_repeated_from_a_random_phase():
    s = Periodic((4, 2, 7), 8)
    x = s.sample(10, np.random.default_rng(3))
    assert all(x[i] == x[i + 3] for i in range(7))
    assert set(x) == {2, 4, 7}


def test_bad_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        IID.uniform(4).sample(0, np.random.default_rng())
    with pytest.raises(ValueError, match=r"symbols must lie in \[0, 1\]"):
        Periodic((0, 2), 2)
    with pytest.raises(ValueError, match="period must be in"):
        Periodic.random(10, 5, np.random.default_rng())
