"""ε-machine quantities against closed forms derived by hand and brute-force enumeration of words."""

import itertools
import math

import numpy as np
import pytest

from middleground.sources import beliefs, cmech, hmm
from middleground.sources.processes import IID, ElementaryCA, NoExactValue, Periodic, SantaFe

LOG3 = math.log2(3)
H3 = LOG3 - 2 / 3  # H(1/3) = 0.918296 bits


def words(T, start, L):
    """Every word of length L with P(w) = start T[w1] ... T[wL] 1 > 0 and its belief, by products
    of the matrices (no mixed-state code)."""
    for w in itertools.product(range(T.shape[0]), repeat=L):
        v = np.asarray(start, float)
        for x in w:
            v = v @ T[x]
        if v.sum() > 0:
            yield w, v.sum(), v / v.sum()


def brute_H(T, start, L):
    return -sum(p * math.log2(p) for _, p, _ in words(T, start, L))


def brute_state_uncertainty(T, start, L):
    """H[S_L | X^L] = Σ_w P(w) H(belief after w)."""
    return sum(p * -sum(b * math.log2(b) for b in eta if b > 0) for _, p, eta in words(T, start, L))


def golden_mean_with_a_duplicated_state():
    """A1 and A2 both emit 0 or 1 fairly; 0 swaps them, 1 goes to B; B emits 0 and goes to A1."""
    T = np.zeros((2, 3, 3))
    T[0, 0, 1] = T[1, 0, 2] = 0.5
    T[0, 1, 0] = T[1, 1, 2] = 0.5
    T[0, 2, 0] = 1.0
    return hmm.HMM(T, name="golden mean, A split in two")


# --- closed forms ----------------------------------------------------------------------------------

def test_golden_mean():
    g = hmm.golden_mean()
    s = cmech.summary(g)
    assert g.statistical_complexity == pytest.approx(H3, abs=1e-12)
    assert s["C_mu"] == pytest.approx(0.918296, abs=1e-6)
    assert s["E"] == pytest.approx(LOG3 - 4 / 3, abs=1e-9)
    assert s["crypticity"] == pytest.approx(2 / 3, abs=1e-9)  # H(1/3) - (log2 3 - 4/3)
    assert cmech.crypticity(g) == pytest.approx(2 / 3, abs=1e-9)
    assert s["markov_order"] == 1 and s["n_causal_states"] == 2
    # One symbol synchronises: after a 1 the state is B, after a 0 it is A (both lead there on 0).
    # So H[S | X^0] = C_mu, then 0: S = C_mu, sync time 1, mean sync time 1.
    assert s["sync_information"] == pytest.approx(H3, abs=1e-12)
    assert s["sync_time"] == 1 and s["mean_sync_time"] == pytest.approx(1.0)
    # Order 1: E + hL - H(L) is E at L = 0 and 0 from L = 1 on, so T = E.
    assert s["transient_information"] == pytest.approx(LOG3 - 4 / 3, abs=1e-9)


def test_even_process():
    e = hmm.even_process()
    s = cmech.summary(e)
    assert s["C_mu"] == pytest.approx(H3, abs=1e-12)
    assert s["E"] == pytest.approx(H3, abs=1e-9) and s["crypticity"] == pytest.approx(0, abs=1e-9)
    assert s["markov_order"] is None  # 1^L never synchronises: infinite Markov order
    # Only the words 1^L leave the state uncertain. P(1^2m) = 2^-m with belief (2/3, 1/3), and
    # P(1^(2m+1)) = (2/3) 2^-m with belief (1/2, 1/2); so H[S_L | X^L] alternates as below,
    # S = 2 H(1/3) + 4/3 = 2 log2 3, and the mean sync time is Σ_L P(1^L) = 2 + 4/3.
    sync = cmech.synchronisation(e)
    for L in range(8):
        m = L // 2
        expected = 2.0**-m * H3 if L % 2 == 0 else (2 / 3) * 2.0**-m
        assert sync.uncertainty[L] == pytest.approx(expected, abs=1e-12)
        assert sync.uncertainty[L] == pytest.approx(brute_state_uncertainty(e.T, e.start, L),
                                                    abs=1e-12)
    assert sync.information == pytest.approx(2 * LOG3, abs=1e-10)
    assert sync.mean_time == pytest.approx(10 / 3, abs=1e-10) and sync.converged
    # h(L) - h is g1 = log2 3 - 4/3 (weight 2^-m) after 2m symbols and g2 = 3/2 - (3/4) log2 3
    # (weight (2/3) 2^-m) after 2m+1, so T = Σ_L L [h(L) - h] = 6 g1 + (16/3) g2 = 2 log2 3.
    assert s["transient_information"] == pytest.approx(2 * LOG3, abs=1e-9)


@pytest.mark.parametrize("pattern, k", [((0, 0, 1), 2), ((0, 1, 2, 3, 1), 4), ((1,), 2)])
def test_period_p_stores_log_p(pattern, k):
    p = len(pattern)
    for source in (hmm.noisy_periodic(pattern, k, 0.0), Periodic(pattern, k)):
        s = cmech.summary(source)
        assert source.statistical_complexity == pytest.approx(math.log2(p), abs=1e-12)
        assert s["C_mu"] == pytest.approx(math.log2(p), abs=1e-12)
        assert s["E"] == pytest.approx(math.log2(p), abs=1e-8)
        assert s["n_causal_states"] == p and s["h"] == 0.0


def test_period_3_synchronisation_and_transient_information_by_hand():
    # 001 from a uniform phase: H(1) = H(1/3), H(L >= 2) = log2 3 = E, h = 0. So
    # T = (E - 0) + (E - H(1/3)) = log2 3 + 2/3. The state: log2 3 bits at L = 0; after one
    # symbol, a 1 (prob 1/3) fixes the phase and a 0 leaves two phases (1 bit): 2/3 bit; two
    # symbols fix it. So S = log2 3 + 2/3, sync time 2 = Markov order, mean sync time 1 + 2/3.
    s = cmech.summary(Periodic((0, 0, 1), 2))
    assert s["transient_information"] == pytest.approx(LOG3 + 2 / 3, abs=1e-12)
    assert s["sync_information"] == pytest.approx(LOG3 + 2 / 3, abs=1e-12)
    assert s["sync_time"] == 2 and s["markov_order"] == 2
    assert s["mean_sync_time"] == pytest.approx(5 / 3, abs=1e-12)


def test_noisy_periodic_keeps_its_phases_until_the_noise_is_total():
    assert hmm.noisy_periodic((0, 0, 1), 2, 0.2).statistical_complexity == pytest.approx(LOG3)
    assert hmm.noisy_periodic((0, 0, 1), 2, 1.0).statistical_complexity == pytest.approx(0.0)


def test_a_non_minimal_presentation_minimises_to_the_golden_mean():
    d = golden_mean_with_a_duplicated_state()
    assert d.unifilar and d.n_states == 3
    T_min, pi_min, partition = cmech.minimize(d.T, d.start)
    assert T_min.shape == (2, 2, 2) and partition[0] == partition[1] != partition[2]
    g = hmm.golden_mean()
    order = np.argsort(-pi_min)  # A (2/3) first, as in golden_mean()
    assert np.allclose(T_min[:, order][:, :, order], g.T) and np.allclose(pi_min[order], g.start)
    assert d.statistical_complexity == pytest.approx(H3, abs=1e-12)
    assert cmech.summary(d)["transient_information"] == pytest.approx(LOG3 - 4 / 3, abs=1e-9)


def test_iid_has_one_causal_state():
    for source in (IID((0.5, 0.3, 0.2)), IID.uniform(4)):
        s = cmech.summary(source)
        assert source.statistical_complexity == 0.0 and s["C_mu"] == 0.0
        assert s["markov_order"] == 0 and s["sync_time"] == 0 and s["sync_information"] == 0.0
        assert s["transient_information"] == 0.0 and s["n_causal_states"] == 1
    # A 3-state presentation of iid noise (Mess3 with x = 1/3, α = 1 is unifilar) merges to one.
    assert hmm.mess3(1 / 3, 1.0).statistical_complexity == pytest.approx(0.0, abs=1e-12)


def test_order_2_markov_chain_stores_its_context():
    m = hmm.MarkovChain.random(3, 2, 1.0, seed=5)
    s = cmech.summary(m)
    assert s["n_causal_states"] == 9
    assert s["C_mu"] == pytest.approx(float(-(m.start * np.log2(m.start)).sum()), abs=1e-12)
    assert s["markov_order"] == 2
    # Markov order by its definition, with brute-force block entropies: h(3) = h < h(2).
    H = [brute_H(m.T, m.start, L) for L in range(4)]
    assert H[3] - H[2] == pytest.approx(m.entropy_rate, abs=1e-12) and H[2] - H[1] > m.entropy_rate
    # T and S are finite sums here: brute force over all words.
    E, h = m.excess_entropy, m.entropy_rate
    assert s["transient_information"] == pytest.approx(sum(E + h * L - H[L] for L in range(3)))
    assert s["sync_information"] == pytest.approx(
        sum(brute_state_uncertainty(m.T, m.start, L) for L in range(3)), abs=1e-12)


@pytest.mark.parametrize("source", [hmm.golden_mean(), hmm.even_process(),
                                    golden_mean_with_a_duplicated_state(),
                                    hmm.noisy_periodic((0, 1, 1), 2, 0.3)], ids=lambda s: s.name)
def test_markov_order_is_the_first_length_with_h_at_its_limit(source):
    H = [brute_H(source.T, source.start, L) for L in range(8)]
    R = next((L for L in range(7) if abs(H[L + 1] - H[L] - source.entropy_rate) < 1e-12), None)
    assert cmech.markov_order(source, L_max=6) == R


# --- Mess3 and mixed states ------------------------------------------------------------------------

def test_mess3_matrices_stationary_distribution_and_non_unifilarity():
    x, a = 0.05, 0.85
    b, y = (1 - a) / 2, 1 - 2 * x
    m = hmm.mess3(x, a)
    expected = np.array([[[a * y, b * x, b * x], [a * x, b * y, b * x], [a * x, b * x, b * y]],
                         [[b * y, a * x, b * x], [b * x, a * y, b * x], [b * x, a * x, b * y]],
                         [[b * y, b * x, a * x], [b * x, b * y, a * x], [b * x, b * x, a * y]]])
    assert np.allclose(m.T, expected, atol=1e-15)
    assert np.allclose(m.start, 1 / 3) and not m.unifilar
    with pytest.raises(ValueError, match="not unifilar"):
        m.statistical_complexity
    with pytest.raises(ValueError, match="not unifilar: C_mu needs the epsilon-machine"):
        cmech.synchronisation(m)
    s = cmech.summary(m)
    assert s["C_mu"] is None and s["h_bounds"][0] <= s["h_bounds"][1]
    # α = 1: the symbol names the new state, so the symbols form an order-1 Markov chain.
    assert hmm.mess3(0.1, 1.0).unifilar
    assert hmm.mess3(0.1, 1.0).statistical_complexity == pytest.approx(LOG3, abs=1e-12)


@pytest.mark.parametrize("kwargs, match", [(dict(x=0.0), r"x must be in \(0, 1/2\]"),
                                           (dict(x=0.6), r"x must be in \(0, 1/2\]"),
                                           (dict(alpha=1.2), r"alpha must be in \[0, 1\]")])
def test_mess3_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hmm.mess3(**kwargs)


def test_mess3_block_entropies_and_beliefs_against_enumeration():
    m = hmm.mess3()
    H = m.block_entropies(6)
    for L in range(1, 7):
        assert H[L] == pytest.approx(brute_H(m.T, m.start, L), abs=1e-10)
    for L in (1, 3, 5):
        ws, ps, etas = zip(*words(m.T, m.start, L))
        assert np.allclose(beliefs.after(m.start, m.T, np.array(ws)), np.array(etas), atol=1e-12)


@pytest.mark.parametrize("decimals", [12, 2, 1])
def test_mixed_state_distribution_against_enumeration(decimals):
    m = hmm.mess3()
    for L in (0, 1, 2, 4, 5):
        grouped: dict = {}
        for _, p, eta in words(m.T, m.start, L):
            key = tuple(np.round(eta, decimals))
            grouped[key] = grouped.get(key, 0.0) + p
        etas, probs = cmech.mixed_state_distribution(m.T, m.start, L, decimals)
        got = {tuple(np.round(e, decimals)): p for e, p in zip(etas, probs)}
        assert got.keys() == grouped.keys()
        assert all(got[k] == pytest.approx(grouped[k], abs=1e-12) for k in got)
        assert cmech.belief_entropy(m.T, m.start, L, decimals) == pytest.approx(
            -sum(p * math.log2(p) for p in grouped.values()), abs=1e-10)


def test_belief_entropy_of_a_synchronising_machine_tends_to_c_mu():
    e = hmm.even_process()
    # After L symbols the beliefs are A, B (synchronised) and one unsynchronised belief of
    # probability < 2^-(L/2): the entropy of the belief set approaches C_mu = H(1/3).
    assert cmech.belief_entropy(e.T, e.start, 40, 12) == pytest.approx(H3, abs=1e-4)
    assert cmech.belief_entropy(e.T, e.start, 0, 12) == 0.0  # one belief: π itself


# --- other sources and bad input -------------------------------------------------------------------

def test_santa_fe_and_cellular_automata():
    assert SantaFe(0.5, 20).statistical_complexity == 20.0  # the facts: C_mu = k_max = E
    with pytest.raises(NoExactValue, match="statistical complexity"):
        ElementaryCA(110).statistical_complexity
    with pytest.raises(NoExactValue, match="finite-state presentation"):
        cmech.summary(SantaFe(0.5, 4))


@pytest.mark.parametrize("call, match", [
    (lambda: cmech.minimize(np.ones((2, 2, 2)), [0.5, 0.5]), "must be non-negative and sum to 1"),
    (lambda: cmech.minimize(hmm.golden_mean().T, [0.5, 0.6]), "start must be a probability"),
    (lambda: cmech.minimize(hmm.golden_mean().T, [0.5, 0.5]), "start must be the stationary"),
    (lambda: cmech.minimize(np.ones((2, 3)), [1.0]), "T must have shape"),
    (lambda: cmech.mixed_state_distribution(hmm.mess3().T, np.ones(3) / 3, -1), "L must be"),
    (lambda: cmech.belief_entropy(hmm.mess3().T, np.ones(3) / 3, 2, 13), "decimals must be"),
    (lambda: cmech.synchronisation(hmm.golden_mean(), tol=0.0), r"tol must be a number in \(0, 1\)"),
    (lambda: cmech.markov_order(hmm.golden_mean(), L_max=-1), "L_max must be"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_noisy_sources_expose_the_complexity_of_their_exact_equivalent():
    import math

    from middleground.sources.noisy import Noisy
    from middleground.sources.processes import IID, Periodic

    assert Noisy(IID.uniform(3), 0.2).statistical_complexity == 0.0
    assert Noisy(Periodic((0, 1, 2), 3), 0.1).statistical_complexity == pytest.approx(math.log2(3))
    with pytest.raises(ValueError, match="not unifilar"):
        Noisy(hmm.golden_mean(), 0.1).statistical_complexity
