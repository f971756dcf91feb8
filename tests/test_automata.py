"""Elementary cellular automata: symmetries and the 88 classes by brute force, the packed evolution
against a plain one, the exact finite-time spatial process, and the spatial estimator against exact
block entropies (of that process and of the golden-mean process)."""

import itertools
import math

import numpy as np
import pytest

from middleground.measures import spatial
from middleground.sources import automata as A
from middleground.sources import hmm

# Surjective elementary rules (minimal representatives): they map the uniform Bernoulli measure to
# itself (Hedlund 1969), so their rows stay independent fair bits.
SURJECTIVE = (15, 30, 45, 51, 60, 90, 105, 106, 150, 154, 170, 204)


def plain_evolve(rule, rows, steps):
    """The textbook step: look up each cell's (left, self, right) in the rule's bits."""
    table = np.array([(rule >> i) & 1 for i in range(8)], dtype=np.uint8)
    rows = np.asarray(rows, dtype=np.uint8)
    for _ in range(steps):
        rows = table[4 * np.roll(rows, 1, axis=1) + 2 * rows + np.roll(rows, -1, axis=1)]
    return rows


# --- symmetries and classes ------------------------------------------------------------------

def test_there_are_88_classes_that_partition_the_256_rules():
    reps = A.inequivalent_rules()
    assert len(reps) == 88
    classes = {A.equivalence_class(r) for r in range(256)}
    assert len(classes) == 88
    assert sorted(itertools.chain.from_iterable(classes)) == list(range(256))
    assert sorted(c[0] for c in classes) == reps
    assert sorted(len(c) for c in classes).count(1) == 8  # 8 rules equal their mirror and conjugate


def test_known_classes():
    assert A.equivalence_class(30) == (30, 86, 135, 149)
    assert A.equivalence_class(45) == (45, 75, 89, 101)
    assert A.equivalence_class(110) == (110, 124, 137, 193)
    assert A.equivalence_class(255) == (0, 255)
    assert A.representative(255) == 0 and A.representative(149) == 30
    assert A.equivalence_class(204) == (204,)
    assert A.reflect(30) == 86 and A.conjugate(30) == 135 and A.reflect(110) == 124


def test_classes_are_closed_under_the_symmetries():
    for r in range(256):
        cls = A.equivalence_class(r)
        for m in cls:
            assert A.reflect(m) in cls and A.conjugate(m) in cls
            assert A.equivalence_class(m) == cls
        assert A.reflect(A.reflect(r)) == r and A.conjugate(A.conjugate(r)) == r


def test_the_symmetries_are_what_the_automaton_does():
    """Mirror the row and run the mirrored rule, or swap 0/1 and run the conjugate: the same
    history, mirrored or swapped, for every rule."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, size=(2, 64), dtype=np.uint8)
    for r in range(256):
        y = A.evolve(r, x, 5)
        assert np.array_equal(A.evolve(A.reflect(r), x[:, ::-1], 5), y[:, ::-1])
        assert np.array_equal(A.evolve(A.conjugate(r), 1 - x, 5), 1 - y)


def test_wolfram_classes_cover_the_88_representatives():
    assert sorted(A.WOLFRAM_CLASS) == A.inequivalent_rules()
    counts = {c: sum(v == c for v in A.WOLFRAM_CLASS.values()) for c in (1, 2, 3, 4)}
    assert counts == {1: 8, 2: 65, 3: 11, 4: 4}
    assert (A.wolfram_class(0), A.wolfram_class(30), A.wolfram_class(90)) == (1, 3, 3)
    assert (A.wolfram_class(110), A.wolfram_class(54), A.wolfram_class(204)) == (4, 4, 2)
    assert A.wolfram_class(137) == 4 and A.wolfram_class(255) == 1  # through the representative


@pytest.mark.parametrize("bad", [-1, 256, 3.0, "30", True, None])
def test_bad_rules_are_refused(bad):
    with pytest.raises(ValueError, match="rule"):
        A.equivalence_class(bad)


# --- evolution -------------------------------------------------------------------------------

def test_packed_evolution_matches_the_plain_one_for_every_rule():
    x = np.random.default_rng(0).integers(0, 2, size=(3, 192), dtype=np.uint8)
    for r in range(256):
        assert np.array_equal(A.evolve(r, x, 7), plain_evolve(r, x, 7)), r


def test_spatial_configurations_shape_and_seed():
    a = A.spatial_configurations(110, 128, 10, 4, np.random.default_rng(1))
    b = A.spatial_configurations(110, 128, 10, 4, np.random.default_rng(1))
    assert a.shape == (4, 128) and a.dtype == np.uint8 and np.array_equal(a, b)
    start = np.random.default_rng(1).integers(0, 2, size=(4, 128), dtype=np.uint8)
    assert np.array_equal(a, plain_evolve(110, start, 10))


def test_evolution_refuses_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="multiple of 64"):
        A.spatial_configurations(30, 100, 5, 2, rng)
    with pytest.raises(ValueError, match="steps"):
        A.evolve(30, np.zeros((1, 64), dtype=np.uint8), -1)
    with pytest.raises(ValueError, match="only 0 and 1"):
        A.evolve(30, np.full((1, 64), 2), 1)
    with pytest.raises(ValueError, match="n_samples"):
        A.spatial_configurations(30, 64, 5, 0, rng)


# --- the exact spatial process ---------------------------------------------------------------

def test_local_map_is_the_rule_iterated():
    rng = np.random.default_rng(5)
    for r in (18, 30, 54, 110):
        f = A.local_map(r, 3)
        x = rng.integers(0, 2, size=(1, 64), dtype=np.uint8)
        y = plain_evolve(r, x, 3)[0]
        for i in range(3, 61):
            code = int("".join(map(str, x[0, i - 3:i + 4])), 2)
            assert f[code] == y[i]


def test_exact_block_entropies_against_enumeration():
    """H(L) of the 2-step process by enumerating all 2^(L+4) initial windows."""
    for r in (18, 110, 128):
        H = A.spatial_hmm(r, 2).block_entropies(5)
        f = A.local_map(r, 2)
        for L in (1, 3, 5):
            counts = np.zeros(2**L)
            for w in range(2 ** (L + 4)):
                bits = [(w >> (L + 3 - j)) & 1 for j in range(L + 4)]
                word = [f[int("".join(map(str, bits[i:i + 5])), 2)] for i in range(L)]
                counts[int("".join(map(str, word)), 2)] += 1
            p = counts[counts > 0] / counts.sum()
            assert H[L] == pytest.approx(float(-(p * np.log2(p)).sum()), abs=1e-10)


def test_rule_128_after_one_step_has_the_closed_form_density():
    """y_i = x_{i-1} x_i x_{i+1}: P(y = 1) = 1/8 and P(11) = 1/16 exactly."""
    H = A.spatial_hmm(128, 1).block_entropies(2)
    h2 = lambda p: -p * math.log2(p) - (1 - p) * math.log2(1 - p)
    assert H[1] == pytest.approx(h2(1 / 8), abs=1e-12)
    p = np.array([1 / 16, 1 / 8 - 1 / 16, 1 / 8 - 1 / 16, 1 - 1 / 8 - 1 / 8 + 1 / 16])
    assert H[2] == pytest.approx(float(-(p * np.log2(p)).sum()), abs=1e-12)


def test_exactly_the_surjective_rules_keep_rows_fair_coin_flips():
    """Among the 88 representatives, the rows after one step are independent fair bits (H(L) = L
    for L ≤ 8) exactly for the 12 surjective rules; and they stay so after three steps."""
    fair = [r for r in A.inequivalent_rules()
            if np.allclose(A.spatial_hmm(r, 1).block_entropies(8), np.arange(9), atol=1e-9)]
    assert tuple(fair) == SURJECTIVE
    for r in (30, 90, 106):
        assert np.allclose(A.spatial_hmm(r, 3).block_entropies(8), np.arange(9), atol=1e-9)


def test_exact_source_refuses_too_many_steps():
    with pytest.raises(ValueError, match="steps"):
        A.spatial_hmm(30, A.MAX_EXACT_STEPS + 1)


# --- the estimator ---------------------------------------------------------------------------

def test_rule_0_is_exactly_at_the_origin():
    rows = A.spatial_configurations(0, 256, 3, 4, np.random.default_rng(0))
    est = spatial.spatial_entropies(rows, 6)
    assert est["h"] == 0.0 and est["E"] == 0.0 and est["h_se"] == 0.0 and est["E_se"] == 0.0
    assert np.all(est["H"] == 0.0)


@pytest.mark.parametrize("rule", [204, 51, 170, 90, 30])
def test_rows_that_are_fair_coin_flips_sit_at_h_1_E_0(rule):
    """Identity, complement and shift leave the initial fair bits; rules 90 and 30 are surjective.
    On 16 rows of 1024 cells with 2(L + 2t) ≤ width, h and E come out within 4 SE of 1 and 0."""
    rows = A.spatial_configurations(rule, 1024, 200, 16, np.random.default_rng(rule))
    est = spatial.spatial_entropies(rows, 8)
    assert abs(est["h"] - 1.0) < 4 * est["h_se"] and est["h_se"] < 0.005
    assert abs(est["E"]) < 4 * est["E_se"] and est["E_se"] < 0.02


@pytest.mark.parametrize("rule, steps", [(110, 2), (18, 3), (54, 2), (128, 1)])
def test_estimates_agree_with_the_exact_finite_time_process(rule, steps):
    """Simulated rows against h(L), E(L) of the exact hidden-Markov process, L = 8."""
    L = 8
    H = A.spatial_hmm(rule, steps).block_entropies(L)
    h_exact, E_exact = H[L] - H[L - 1], H[L] - L * (H[L] - H[L - 1])
    rows = A.spatial_configurations(rule, 1024, steps, 16, np.random.default_rng(rule))
    est = spatial.spatial_entropies(rows, L)
    assert abs(est["h"] - h_exact) < 4 * est["h_se"]
    assert abs(est["E"] - E_exact) < 4 * est["E_se"]
    assert np.all(np.abs(est["H"] - H) <= 4 * est["H_se"] + 1e-12)


def test_standard_errors_match_the_spread_over_seeds():
    """30 independent estimates for rule 110 after 2 steps: the spread of the estimates is what the
    jackknife says (within a factor 1.6 either way), and their mean is the exact value."""
    L = 6
    H = A.spatial_hmm(110, 2).block_entropies(L)
    h_exact = H[L] - H[L - 1]
    E_exact = H[L] - L * h_exact
    ests = [spatial.spatial_entropies(
        A.spatial_configurations(110, 512, 2, 8, np.random.default_rng(100 + s)), L)
        for s in range(30)]
    for key, exact in (("h", h_exact), ("E", E_exact)):
        values = np.array([e[key] for e in ests])
        se = np.mean([e[key + "_se"] for e in ests])
        sd = values.std(ddof=1)
        assert 1 / 1.6 < sd / se < 1.6
        assert abs(values.mean() - exact) < 4 * sd / math.sqrt(len(values))


def test_golden_mean_sample_within_its_standard_error():
    """Golden mean (order-1 Markov): h(L) = 2/3 and E(L) = log2 3 − 4/3 for every L ≥ 2."""
    g = hmm.golden_mean()
    rng = np.random.default_rng(7)
    rows = np.stack([g.sample(2048, rng) for _ in range(16)])
    est = spatial.spatial_entropies(rows, 8, circular=False)
    assert est["words"] == 16 * (2048 - 8 + 1)
    assert abs(est["h"] - 2 / 3) < 4 * est["h_se"]
    assert abs(est["E"] - (math.log2(3) - 4 / 3)) < 4 * est["E_se"]
    # Read around the ring, a row's end meets its start: "1 ... 1" makes the forbidden word 11,
    # which is why samples of a line are read with circular=False.
    pairs = {c: list(spatial.word_counts_by_row(rows, 2, circular=c))[1][:, 3] for c in (True, False)}
    assert np.all(pairs[False] == 0)
    assert np.array_equal(pairs[True], (rows[:, 0] == 1) & (rows[:, -1] == 1))


def test_circular_and_linear_windows_count_what_they_should():
    rows = np.array([[0, 1, 1, 0], [1, 1, 1, 1]])
    counts = list(spatial.word_counts_by_row(rows, 2, circular=True))
    assert counts[1].tolist() == [[1, 1, 1, 1], [0, 0, 0, 4]]  # row 0: 01, 11, 10 and 00 (wrapped)
    counts = list(spatial.word_counts_by_row(rows, 2, circular=False))
    assert counts[1].tolist() == [[0, 1, 1, 1], [0, 0, 0, 3]]


def test_estimator_refuses_bad_input():
    rows = np.zeros((4, 64), dtype=np.uint8)
    with pytest.raises(ValueError, match="2 rows"):
        spatial.spatial_entropies(rows[:1], 4)
    with pytest.raises(ValueError, match="L_max"):
        spatial.spatial_entropies(rows, 9)  # 2^9 > 256 words
    with pytest.raises(ValueError, match="correction"):
        spatial.spatial_entropies(rows, 4, correction="nsb")
    with pytest.raises(ValueError, match="0 and 1"):
        spatial.spatial_entropies(rows + 2, 4)
    with pytest.raises(ValueError, match="width / 2"):
        spatial.eca_point(30, 256, 64, 4, 8, 0)


# --- the map ---------------------------------------------------------------------------------

def test_eca_map_has_one_point_per_class():
    recs = spatial.eca_map(width=256, steps=30, n_samples=4, L_max=6, seed=1)
    assert [r["rule"] for r in recs] == A.inequivalent_rules()
    assert sorted(itertools.chain.from_iterable(r["members"] for r in recs)) == list(range(256))
    by_rule = {r["rule"]: r for r in recs}
    assert by_rule[0]["h"] == 0.0 and by_rule[0]["E"] == 0.0 and by_rule[0]["members"] == (0, 255)
    assert by_rule[110]["wolfram_class"] == 4 and by_rule[110]["members"] == (110, 124, 137, 193)
    assert all(r["class_name"] == A.CLASS_NAMES[r["wolfram_class"]] for r in recs)
    # Rule 8's class dies out in two steps: (0, 0) exactly, like rule 0.
    assert by_rule[8]["h"] == 0.0 and by_rule[8]["E"] == 0.0
    # Same seed, same point, whichever rules are run.
    again = spatial.eca_point(110, 256, 30, 4, 6, 1)
    assert again["h"] == by_rule[110]["h"] and again["E"] == by_rule[110]["E"]
