"""Linear probes: how much of a target (an observer's exact belief) is linearly readable from
a representation (a model's residual stream), judged on held-out data beside baselines.

Shai et al. (2024) fit a linear map from a transformer's residual stream to the exact belief
state (mixed state) of the hidden Markov source it was trained on, and found the belief simplex's
fractal geometry in the activations. A probe score alone says little: a random network's features
or a table of the last few symbols can also predict beliefs well, because the belief is itself a
function of the recent symbols. So every score here is meant to stand beside:

- :func:`lookup_baseline`: the mean target for each context of the last ``k`` symbols (a k-gram
  table fitted on the same training rows), the best any function of k symbols can do on average;
- :func:`shuffled_control`: the same probe fitted to targets shuffled across training rows, which
  scores what a probe gets from the target's mean alone;
- the same probe on an untrained network's features (the caller provides them).

Scores are the mean squared error per target component (MSE) and R² = 1 − SSE/SST, both on held-out
rows. The probe is ridge regression with an intercept, its penalty chosen on a split of the
training rows (:func:`fit_probe`). What this module does not do: compute features or beliefs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LAMBDAS = (1e-6, 1e-4, 1e-2, 1.0)  # ridge penalties tried, relative to the features' mean variance


@dataclass(frozen=True)
class Probe:
    """A fitted affine map ``features @ weight + bias`` and the penalty it was fitted with."""

    weight: np.ndarray
    bias: np.ndarray
    penalty: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, dtype=float) @ self.weight + self.bias


def _check_rows(features, targets) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(features, dtype=float)
    Y = np.asarray(targets, dtype=float)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"features and targets must be 2-D (rows, dims); got shapes {X.shape} and {Y.shape}")
    if len(X) != len(Y) or len(X) < 2:
        raise ValueError(f"features and targets must have the same number of rows (>= 2); "
                         f"got {len(X)} and {len(Y)}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("features and targets must be finite")
    return X, Y


def ridge(features, targets, penalty: float) -> Probe:
    """Ridge regression with an unpenalised intercept: minimises ‖Y − XW − b‖² + λ n ‖W‖², with
    λ = ``penalty`` times the mean feature variance (so one penalty suits any feature scale)."""
    X, Y = _check_rows(features, targets)
    if not (np.isfinite(penalty) and penalty >= 0):
        raise ValueError(f"penalty must be a finite number >= 0; got {penalty!r}")
    mx, my = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - mx, Y - my
    scale = float(np.mean(Xc**2)) or 1.0
    gram = Xc.T @ Xc + penalty * scale * len(X) * np.eye(X.shape[1])
    W = np.linalg.solve(gram + 1e-12 * scale * np.eye(X.shape[1]), Xc.T @ Yc)
    return Probe(W, my - mx @ W, float(penalty))


def scores(predicted, targets, group_size: int = 1) -> dict:
    """``mse`` (mean squared error per component), its standard error ``mse_se``, ``r2``
    (1 − SSE/SST over all components) and ``group_mse``, the mean squared error of each group.

    Rows come in independent groups of ``group_size`` consecutive rows (the positions of one
    window, whose errors are correlated), so the standard error is that of the mean over groups."""
    P, Y = _check_rows(predicted, targets)
    if P.shape != Y.shape:
        raise ValueError(f"predicted and targets must have the same shape; got {P.shape} and {Y.shape}")
    if not isinstance(group_size, (int, np.integer)) or group_size < 1 or len(Y) % group_size:
        raise ValueError(f"group_size must be a positive integer dividing the {len(Y)} rows; got {group_size!r}")
    sq = ((P - Y) ** 2).reshape(-1, group_size * Y.shape[1]).mean(axis=1)
    sse = float(((P - Y) ** 2).sum())
    sst = float(((Y - Y.mean(axis=0)) ** 2).sum())
    se = float(sq.std(ddof=1) / np.sqrt(len(sq))) if len(sq) > 1 else float("nan")
    return {"mse": sse / Y.size, "mse_se": se, "r2": 1.0 - sse / sst if sst > 0 else float("nan"),
            "group_mse": sq}


def paired_difference(a: dict, b: dict) -> tuple[float, float]:
    """MSE of ``a`` minus MSE of ``b`` and the standard error of that difference, from their
    per-group errors on the *same* test rows (:func:`scores`' ``group_mse``): a paired comparison,
    whose error is smaller than the two errors combined when the same rows are hard for both."""
    ga, gb = np.asarray(a["group_mse"]), np.asarray(b["group_mse"])
    if ga.shape != gb.shape or ga.ndim != 1 or len(ga) < 2:
        raise ValueError("a and b must be scores of the same test rows, in the same groups (two at least)")
    d = ga - gb
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def fit_probe(train_features, train_targets, lambdas=LAMBDAS, seed: int = 0) -> Probe:
    """A ridge probe whose penalty is the one of ``lambdas`` with the lowest MSE on a random fifth
    of the training rows (fitted on the other four fifths), refitted on all training rows."""
    X, Y = _check_rows(train_features, train_targets)
    if len(X) < 10:
        raise ValueError(f"fit_probe needs at least 10 training rows; got {len(X)}")
    order = np.random.default_rng(seed).permutation(len(X))
    held, kept = order[: len(X) // 5], order[len(X) // 5:]
    best = min(lambdas, key=lambda lam: scores(ridge(X[kept], Y[kept], lam).predict(X[held]), Y[held])["mse"])
    return ridge(X, Y, best)


def probe_scores(train_features, train_targets, test_features, test_targets, seed: int = 0,
                 group_size: int = 1) -> dict:
    """Fit on the training rows, score on the test rows (:func:`scores`), with the chosen ``penalty``."""
    probe = fit_probe(train_features, train_targets, seed=seed)
    return {**scores(probe.predict(test_features), test_targets, group_size), "penalty": probe.penalty}


def shuffled_control(train_features, train_targets, test_features, test_targets, seed: int = 0,
                     group_size: int = 1) -> dict:
    """The probe fitted to training targets shuffled across rows, scored on the true test targets:
    what a probe learns when features carry no information about which row is which."""
    Y = np.asarray(train_targets, dtype=float)
    shuffled = Y[np.random.default_rng(seed).permutation(len(Y))]
    return probe_scores(train_features, shuffled, test_features, test_targets, seed=seed,
                        group_size=group_size)


def _context_keys(contexts: np.ndarray, positions: np.ndarray, k: int, alphabet_size: int) -> np.ndarray:
    """One integer per row for its last ``min(k, position + 1)`` symbols and that length."""
    keys = np.zeros(len(contexts), dtype=np.int64)
    for j in range(k):
        col = positions - j
        sym = np.where(col >= 0, contexts[np.arange(len(contexts)), np.maximum(col, 0)], alphabet_size)
        keys = keys * (alphabet_size + 1) + sym  # the extra symbol marks "before the window"
    return keys


def lookup_baseline(train_windows, train_positions, train_targets, test_windows, test_positions,
                    test_targets, k: int, alphabet_size: int, group_size: int = 1) -> dict:
    """The mean training target of each context of the last ``k`` symbols up to each position
    (fewer at the start of a window), scored on the test rows; a context never seen in training
    gets the overall mean. Windows are (N, T) symbol arrays; positions pick the row's last symbol."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1; got {k!r}")
    if (alphabet_size + 1) ** k >= 2**62:
        raise ValueError(f"(alphabet_size + 1) ** k must stay below 2**62 for integer keys; "
                         f"got alphabet_size={alphabet_size}, k={k}")
    Ytr, Yte = np.asarray(train_targets, float), np.asarray(test_targets, float)
    ktr = _context_keys(np.asarray(train_windows), np.asarray(train_positions), k, alphabet_size)
    kte = _context_keys(np.asarray(test_windows), np.asarray(test_positions), k, alphabet_size)
    uniq, inv = np.unique(ktr, return_inverse=True)
    sums = np.zeros((len(uniq), Ytr.shape[1]))
    np.add.at(sums, inv, Ytr)
    means = sums / np.bincount(inv, minlength=len(uniq))[:, None]
    where = np.searchsorted(uniq, kte)
    found = (where < len(uniq)) & (uniq[np.minimum(where, len(uniq) - 1)] == kte)
    pred = np.where(found[:, None], means[np.minimum(where, len(uniq) - 1)], Ytr.mean(axis=0))
    return {**scores(pred, Yte, group_size), "k": int(k), "unseen": float(1.0 - found.mean())}
