"""Degradations of real text keep what they claim to keep, and nothing more."""

import math
from collections import Counter

import numpy as np
import pytest

from middleground.sources import degrade

TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n") * 20


def test_char_noise_keeps_length_is_seeded_and_hits_the_rate():
    ids = np.random.default_rng(0).integers(0, 10, size=20_000)
    a = degrade.char_noise(ids, 0.3, 10, np.random.default_rng(1))
    b = degrade.char_noise(ids, 0.3, 10, np.random.default_rng(1))
    assert len(a) == len(ids) and np.array_equal(a, b)
    # replaced with prob 0.3, and a replacement equals the original with prob 1/10
    changed = np.mean(a != ids)
    expected = 0.3 * 0.9
    assert changed == pytest.approx(expected, abs=5 * math.sqrt(expected * (1 - expected) / len(ids)))
    assert np.array_equal(degrade.char_noise(ids, 0.0, 10, np.random.default_rng(2)), ids)


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), "0.5"])
def test_char_noise_rejects_invalid_rates(rate):
    with pytest.raises(ValueError, match="noise rate"):
        degrade.char_noise(np.zeros(5, dtype=int), rate, 3, np.random.default_rng(0))


def test_word_shuffle_keeps_words_and_characters_and_whitespace_positions():
    out = degrade.word_shuffle(TEXT, np.random.default_rng(0))
    assert Counter(out.split()) == Counter(TEXT.split())
    assert Counter(out) == Counter(TEXT)
    assert [i for i, c in enumerate(out) if c.isspace()] != [] and out != TEXT
    assert degrade.word_shuffle(TEXT, np.random.default_rng(0)) == out


def test_char_shuffle_keeps_the_multiset_of_characters():
    ids = np.frombuffer(TEXT.encode(), dtype=np.uint8).astype(np.int64)
    out = degrade.char_shuffle(ids, np.random.default_rng(0))
    assert Counter(out.tolist()) == Counter(ids.tolist()) and not np.array_equal(out, ids)
    assert np.array_equal(out, degrade.char_shuffle(ids, np.random.default_rng(0)))


@pytest.mark.parametrize("order", [0, 1, 2])
def test_ngram_surrogate_reproduces_its_fitted_frequencies(order):
    rng = np.random.default_rng(0)
    ids = np.frombuffer(TEXT.encode(), dtype=np.uint8).astype(np.int64)
    ids = np.unique(ids, return_inverse=True)[1]
    k = int(ids.max()) + 1
    model = degrade.NgramSurrogate.fit(ids, order, k)
    n = 200_000
    x = model.sample(n, rng)
    L = order + 1

    def grams(a):
        codes = np.zeros(len(a) - L + 1, dtype=np.int64)
        for j in range(L):
            codes = codes * k + a[j:len(a) - L + 1 + j]
        c = Counter(codes.tolist())
        total = sum(c.values())
        return {g: v / total for g, v in c.items()}

    fitted, sampled = grams(ids), grams(x)
    assert set(sampled) <= set(fitted)  # never an unseen (order+1)-gram
    for g, p in fitted.items():
        # a binomial proportion's sd, inflated by 4 for the chain's correlations; 5 sd allowed
        sd = 4 * math.sqrt(p * (1 - p) / n)
        assert abs(sampled.get(g, 0.0) - p) < 5 * sd + 1e-4, (g, p, sampled.get(g))


def test_ngram_surrogate_rejects_bad_order():
    with pytest.raises(ValueError, match="order must be"):
        degrade.NgramSurrogate.fit(np.arange(10), -1, 10)


def test_ngram_surrogate_entropy_rate_is_the_plugin_conditional_entropy():
    import numpy as np

    from middleground.measures import entropy
    from middleground.sources.degrade import NgramSurrogate

    rng = np.random.default_rng(3)
    ids = rng.integers(0, 5, size=30_000)
    ids[1::3] = (ids[::3][: len(ids[1::3])] + 1) % 5  # some structure
    for order in (1, 2):
        m = NgramSurrogate.fit(ids, order, 5)
        H = entropy.block_entropies(ids, order + 1)
        assert abs(m.entropy_rate - (H[order + 1] - H[order])) < 1e-3
