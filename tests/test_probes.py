"""Linear probes and their baselines (measures.probes), the residual stream they read
(GPT.residual_stream) and the theory chapter's belief targets (experiments.theory)."""

import numpy as np
import pytest
import torch

from middleground.experiments import theory
from middleground.gpt.model import GPT, GPTConfig
from middleground.measures import probes
from middleground.sources import beliefs, hmm


def test_ridge_recovers_an_exact_affine_map():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6))
    W = rng.normal(size=(6, 3))
    Y = X @ W + np.array([0.5, -1.0, 2.0])
    p = probes.ridge(X, Y, 0.0)
    np.testing.assert_allclose(p.weight, W, atol=1e-8)
    np.testing.assert_allclose(p.bias, [0.5, -1.0, 2.0], atol=1e-8)
    s = probes.scores(p.predict(X), Y)
    assert s["mse"] < 1e-15 and s["r2"] == pytest.approx(1.0)


def test_scores_match_hand_computation_and_grouped_standard_error():
    Y = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    P = Y + np.array([[0.1, 0.0], [0.0, 0.0], [0.0, 0.3], [0.0, 0.0]])
    s = probes.scores(P, Y, group_size=2)
    assert s["mse"] == pytest.approx((0.01 + 0.09) / 8)
    # Per-group means of squared errors: 0.01/4 and 0.09/4; their SE over two groups.
    g = np.array([0.01 / 4, 0.09 / 4])
    assert s["mse_se"] == pytest.approx(g.std(ddof=1) / np.sqrt(2))
    assert s["r2"] == pytest.approx(1 - 0.10 / 2.0)
    with pytest.raises(ValueError, match="group_size"):
        probes.scores(P, Y, group_size=3)


def test_shuffled_control_scores_about_the_variance():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 4))
    Y = X[:, :2] @ np.array([[1.0, 0.0], [0.0, 1.0]])
    real = probes.probe_scores(X[:1500], Y[:1500], X[1500:], Y[1500:])
    ctrl = probes.shuffled_control(X[:1500], Y[:1500], X[1500:], Y[1500:])
    assert real["mse"] < 1e-6
    assert ctrl["r2"] < 0.05 and ctrl["mse"] > 0.8  # each component has variance 1


def test_lookup_baseline_is_exact_when_the_target_is_a_function_of_the_last_k_symbols():
    rng = np.random.default_rng(2)
    W = rng.integers(0, 3, size=(400, 5))
    pos = np.tile(np.arange(5), 400)
    ctx = np.repeat(W, 5, axis=0)
    last2 = np.array([ctx[i, max(p - 1, 0):p + 1].sum() + 10 * min(p, 1) for i, p in enumerate(pos)], float)
    Y = np.stack([last2, -last2], axis=1)
    r = probes.lookup_baseline(ctx[:1000], pos[:1000], Y[:1000], ctx[1000:], pos[1000:], Y[1000:], 2, 3, group_size=5)
    assert r["unseen"] == 0.0 and r["mse"] < 1e-20
    r1 = probes.lookup_baseline(ctx[:1000], pos[:1000], Y[:1000], ctx[1000:], pos[1000:], Y[1000:], 1, 3)
    assert r1["mse"] > 0.1  # one symbol is not enough
    with pytest.raises(ValueError, match="k must be"):
        probes.lookup_baseline(ctx, pos, Y, ctx, pos, Y, 0, 3)


def test_residual_stream_ends_where_the_logits_begin():
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=5, block_size=8, n_layer=3, n_head=2, n_embd=16)
    model = GPT(cfg).eval()
    idx = torch.randint(0, 5, (4, 8))
    R = model.residual_stream(idx)
    assert R.shape == (4, 4, 8, 16)
    logits, _ = model(idx)
    torch.testing.assert_close(model.lm_head(model.ln_f(R[-1])), logits)
    torch.testing.assert_close(R[0], model.wte(idx) + model.wpe(torch.arange(8)))


def test_belief_windows_match_the_filter_from_the_stationary_start():
    src = hmm.mess3(0.05, 0.85)
    windows, eta = theory.belief_windows(src, 50, 3)
    assert windows.shape == (50, theory.BLOCK + 1) and eta.shape == (50, theory.BLOCK, 3)
    for i in (0, 4, theory.BLOCK - 1):
        np.testing.assert_allclose(eta[:, i], beliefs.after(src.start, src.T, windows[:, :i + 1]), atol=1e-12)
    np.testing.assert_allclose(eta.sum(axis=-1), 1.0, atol=1e-12)


def test_simplex_points_put_the_vertices_at_the_corners():
    x, y, c = theory.simplex_points(np.eye(3))
    np.testing.assert_allclose(x, [0, 1, 0.5], atol=1e-12)
    np.testing.assert_allclose(y, [0, 0, np.sqrt(3) / 2], atol=1e-12)
    assert c == ["#ff0000", "#00ff00", "#0000ff"]


def test_ladder_points_average_the_top_width_over_seeds():
    rows = [{"family": "noise", "knob": 0.1, "width": w, "seed": s, "h": 1.0, "E": 0.5, "region": "middle",
             "excess_floor": ex}
            for w, s, ex in ((8, 0, 9.0), (32, 0, 0.10), (32, 1, 0.30), (32, 2, 0.20))]
    (p,) = theory.ladder_points(rows, 32)
    assert p["excess"] == pytest.approx(0.2)
    assert p["excess_se"] == pytest.approx(0.1 / np.sqrt(3))
    assert p["family"] == "noise knob" and p["h"] == 1.0 and p["E"] == 0.5


def test_learning_curves_give_one_row_per_source_and_size():
    from middleground.sources.rhm import RandomHierarchy

    torch.set_num_threads(1)
    g = RandomHierarchy(4, 2, 2, 3, seed=0)
    chain = hmm.MarkovChain.random(4, 1, 1.0, 0)
    rows = theory.learning_curves([g, chain], [4, 16], 4, 8, 0, g.sentence_length - 1, n_val=64)
    assert [(r["source"], r["P"]) for r in rows] == [(g.name, 4), (g.name, 16), (chain.name, 4), (chain.name, 16)]
    for r in rows:
        assert r["tokens"] == r["P"] * g.sentence_length
        assert r["epochs"] == pytest.approx(4 * 32 / r["P"])
        assert r["window_bits"].shape == (64,) and r["test_windows"].shape == (64, g.sentence_length)
        assert r["test_bits"] == pytest.approx(r["window_bits"].mean())
        assert 0 <= r["best_step"] <= r["last_step"] == 4


def test_paired_difference_uses_the_same_rows():
    Y = np.zeros((6, 1))
    a = probes.scores(np.array([[1.0], [1.0], [2.0], [2.0], [3.0], [3.0]]), Y, group_size=2)
    b = probes.scores(np.array([[0.0], [0.0], [1.0], [1.0], [2.0], [2.0]]), Y, group_size=2)
    d, se = probes.paired_difference(a, b)
    assert d == pytest.approx(a["mse"] - b["mse"])
    np.testing.assert_allclose(a["group_mse"] - b["group_mse"], [1.0, 3.0, 5.0])
    assert se == pytest.approx(np.std([1.0, 3.0, 5.0], ddof=1) / np.sqrt(3))
    with pytest.raises(ValueError, match="same test rows"):
        probes.paired_difference(a, probes.scores(np.zeros((4, 1)), np.zeros((4, 1)), group_size=2))
