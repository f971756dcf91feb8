"""How dependence decays with distance, and the exponents that describe it, in bits.

The statistics of a sequence that predict how a learner's loss falls with data (Lin and Tegmark
2017; Cagnetta and Wyart 2024): how much one symbol says about another d symbols away, and how fast
the conditional entropy h(n) approaches the entropy rate.

- **Exact mutual information against distance** for a finite hidden Markov source,
  :func:`exact_mutual_information`: I(X_0; X_d) from the exact joint distribution of two symbols.
  Lin and Tegmark show that for Markov and hidden Markov processes it decays exponentially (for
  large d as |λ₂|^(2d), λ₂ the second-largest eigenvalue of the state chain, when it is simple and
  real: the golden mean's 4^(−d) in the tests), while context-free grammars can give power laws.
- **Estimated mutual information** from one sample, :func:`mutual_information`, with a bias
  correction, a block-bootstrap interval, and the *noise floor*: the value below which the
  estimate cannot be told from that of an independent pair with the same marginals and sample
  size (Cagnetta and Wyart's finite-sample saturation of correlations).
- **Exponent fits with intervals**: :func:`fit_power_law` (y = A·n^(−α)) and
  :func:`fit_exponential` (y = A·e^(−n/ξ)) by least squares in log space, and
  :func:`compare_decays`, which says which describes the data better (AIC in log space);
  :func:`conditional_entropy_decay` fits h(n) − h = A·n^(−γ), with h known or fitted.
- **Hilberg exponents**: :func:`hilberg_exponent` fits the sub-extensive growth of H(L) on any set
  of block lengths, optionally with a constant term; :func:`hilberg_convergence` runs it and
  :func:`middleground.measures.entropy.hilberg_fit` on the exact block entropies of Dębowski's
  Santa Fe process, whose exponent is known, to show which fit ranges recover it.

What this module does not do: estimate mutual information between long blocks (only between
single symbols), or say anything about a non-ergodic source from one sample. A single Santa Fe
sequence, for instance, restates fixed facts, so *within* it the symbols are independent: for
SantaFe(0.5, 32) and 2·10⁵ symbols the estimate averaged 0.00106 bit over 20 distances, exactly
its value on shuffled copies (0.00106 ± 0.00013, Miller–Madow's residual bias on a skewed table),
while the ensemble value is Σ_k p_k² = 0.415 bit at every d.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import gamma as gamma_fn
from scipy.special import zeta

from ..base.bits import NATS_TO_BITS
from ..sources.processes import SantaFe
from . import entropy

MI_CORRECTIONS = ("plugin", "miller-madow", "grassberger")


# --- checks ----------------------------------------------------------------------------------------

def _check_level(level) -> float:
    if not (isinstance(level, (int, float)) and 0.0 < level < 1.0):
        raise ValueError(f"level must be a number in (0, 1); got {level!r}")
    return float(level)


def _check_distances(distances, n: int | None = None) -> np.ndarray:
    d = np.atleast_1d(np.asarray(distances))
    if d.ndim != 1 or len(d) == 0 or not np.issubdtype(d.dtype, np.integer):
        raise ValueError("distances must be a non-empty 1-d array of integers >= 1")
    if d.min() < 1:
        raise ValueError(f"distances must be integers >= 1; got {int(d.min())}")
    if n is not None and d.max() >= n:
        raise ValueError(f"distances must be below the sample length {n}; got {int(d.max())}")
    return d.astype(np.int64)


def _check_positive_series(n, y, se=None, name_y: str = "y"):
    n = np.asarray(n, dtype=float)
    y = np.asarray(y, dtype=float)
    if n.ndim != 1 or y.shape != n.shape:
        raise ValueError(f"n and {name_y} must be 1-d arrays of the same length")
    if len(n) < 3:
        raise ValueError(f"a fit needs at least 3 points; got {len(n)}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(y))):
        raise ValueError(f"n and {name_y} must be finite")
    if np.any(y <= 0):
        raise ValueError(f"{name_y} must be positive for a fit in log space "
                         "(drop the points at or below the noise floor first)")
    if se is not None:
        se = np.asarray(se, dtype=float)
        if se.shape != y.shape or np.any(~np.isfinite(se)) or np.any(se <= 0):
            raise ValueError("se must be None or an array of positive standard errors, one per point")
    return n, y, se


# --- exact mutual information of a hidden Markov source ------------------------------------------

def _phi(r: np.ndarray) -> np.ndarray:
    """(1 + r)·ln(1 + r) − r, accurate for tiny r (a series below 1e-3), 1 at r = −1."""
    r = np.asarray(r, dtype=float)
    small = np.abs(r) < 1e-3
    rs = np.where(small, r, 0.0)
    series = rs**2 / 2 - rs**3 / 6 + rs**4 / 12 - rs**5 / 20 + rs**6 / 30
    rl = np.where(small, 0.5, np.maximum(r, -1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        large = np.where(rl <= -1.0, 1.0, (1 + rl) * np.log1p(rl) - rl)
    return np.where(small, series, large)


def exact_mutual_information(T, start, distances) -> np.ndarray:
    """I(X_0; X_d) in bits for each d in ``distances``, exactly, for the stationary source with
    labelled transition matrices ``T[x, s, t]`` started in its stationary distribution ``start``.

    The joint law of two symbols d apart is P(x, y) = π T⁽ˣ⁾ M^(d−1) T⁽ʸ⁾ 1 with M = Σ_x T⁽ˣ⁾
    (Crutchfield and Feldman 2003's word probabilities, summed over the d − 1 symbols between).
    Because π is stationary, M^m = Q^m + 1π for m ≥ 1 with Q = M − 1π, so the departure from
    independence, Δ(x, y) = P(x, y) − P(x)P(y) = π T⁽ˣ⁾ Q^(d−1) T⁽ʸ⁾ 1, is computed directly and
    never as a difference of nearly equal numbers. Then I = Σ P(x)P(y)·φ(Δ/(P(x)P(y))) / ln 2 with
    φ(r) = (1 + r) ln(1 + r) − r (the Σ Δ = 0 term removed), which stays accurate when I is
    10^(−30) bits: the exponential tail that Lin and Tegmark (2017) prove for Markov and hidden
    Markov processes can be charted as far as one likes. Distances are processed
    in increasing order with matrix powers of the gaps.
    """
    T = np.asarray(T, dtype=float)
    if T.ndim != 3 or T.shape[1] != T.shape[2] or T.shape[0] < 1 or T.shape[1] < 1:
        raise ValueError("T must have shape (alphabet, states, states) with both >= 1")
    if np.any(T < 0) or not np.allclose(T.sum(axis=(0, 2)), 1.0, atol=1e-9):
        raise ValueError("T[x, s, t] must be non-negative and sum to 1 over (x, t) for every s")
    pi = np.asarray(start, dtype=float)
    M = T.sum(axis=0)
    if pi.shape != (T.shape[1],) or np.any(pi < 0) or not math.isclose(pi.sum(), 1.0, abs_tol=1e-9):
        raise ValueError(f"start must be a probability vector over the {T.shape[1]} states")
    if np.abs(pi @ M - pi).max() > 1e-9:
        raise ValueError("start must be the stationary distribution of M = Σ_x T[x] "
                         "(the mutual information is that of the stationary process)")
    d = _check_distances(distances)
    a = np.einsum("s,xst->xt", pi, T)   # a[x] = π T⁽ˣ⁾, a row vector per symbol
    b = T.sum(axis=2).T                  # b[:, y] = T⁽ʸ⁾ 1, a column vector per symbol
    p = a.sum(axis=1)                    # P(x) = P(y): stationary marginals
    pp = np.outer(p, p)
    Q = M - np.outer(np.ones(len(pi)), pi)
    out = np.empty(len(d))
    order = np.argsort(d, kind="stable")
    A, power = a.copy(), 0               # A = a Q^power
    live = pp > 0
    for i in order:
        m = int(d[i]) - 1
        if m == 0:
            delta = a @ b - pp
        else:
            A = A @ np.linalg.matrix_power(Q, m - power)
            power = m
            delta = A @ b
        r = np.where(live, delta / np.where(live, pp, 1.0), 0.0)
        out[i] = float(np.where(live, pp * _phi(r), 0.0).sum() * NATS_TO_BITS)
    return np.maximum(out, 0.0)


# --- mutual information estimated from one sample -------------------------------------------------

@dataclass(frozen=True)
class MICurve:
    """Estimated I(X_0; X_d) in bits against distance, with everything a chart needs.

    ``low``/``high``: interval at ``level`` from the block-bootstrap standard error ``se``;
    ``bias``: the plug-in estimator's expected value for an independent pair,
    (m_x − 1)(m_y − 1) / (2 N ln 2); ``noise_floor``: the ``level`` quantile of the chosen
    estimator for an independent pair with the same marginals and N; ``shuffle_floor``: the same
    quantile measured on shuffled copies of the sample (NaN unless asked for); ``block``: the
    bootstrap block length used at each distance; ``undersampled``: more than 20 % of the cells of
    the table of symbols seen expect fewer than 5 pairs (Cochran's rule), where the χ² floor, the
    bootstrap and the bias corrections fail.
    """

    distances: np.ndarray
    mi: np.ndarray
    low: np.ndarray
    high: np.ndarray
    se: np.ndarray
    bias: np.ndarray
    noise_floor: np.ndarray
    shuffle_floor: np.ndarray
    n_pairs: np.ndarray
    block: np.ndarray
    undersampled: np.ndarray
    correction: str
    level: float

    @property
    def resolved(self) -> np.ndarray:
        """Distances whose estimate stands above the noise floor: the larger of the two floors, and
        only the shuffled one where the table is undersampled (False there without shuffles)."""
        shuffle = np.nan_to_num(self.shuffle_floor, nan=np.inf)
        floor = np.where(self.undersampled, shuffle,
                         np.fmax(self.noise_floor, np.nan_to_num(self.shuffle_floor, nan=-np.inf)))
        return self.mi > floor

    def rows(self) -> list[dict]:
        """One dict per distance, for a chart."""
        return [{"d": int(d), "mi": float(m), "low": float(lo), "high": float(hi), "se": float(s),
                 "bias": float(b), "noise_floor": float(f), "shuffle_floor": float(sf),
                 "undersampled": bool(u), "resolved": bool(r)}
                for d, m, lo, hi, s, b, f, sf, u, r in zip(
                    self.distances, self.mi, self.low, self.high, self.se, self.bias,
                    self.noise_floor, self.shuffle_floor, self.undersampled, self.resolved)]


class _PairTable:
    """The distinct pairs (x, y) seen at one distance and how to sum their counts into the two
    marginals, so that any count vector over the pairs (the sample's or a bootstrap replicate's)
    gives MI without a k×k table."""

    def __init__(self, codes: np.ndarray, k: int):
        if k * k <= 1 << 22:  # small code space: count directly, no sort
            seen = np.bincount(codes, minlength=k * k) > 0
            self.cells = np.flatnonzero(seen)
            self.index = (np.cumsum(seen) - 1)[codes]
        else:
            self.cells, self.index = np.unique(codes, return_inverse=True)
        # cells are sorted, hence grouped by their first symbol x
        xs = self.cells // k
        self.x_starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
        self.y_order = np.argsort(self.cells % k, kind="stable")
        ys = (self.cells % k)[self.y_order]
        self.y_starts = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])

    @property
    def n_x(self) -> int:
        return len(self.x_starts)

    @property
    def n_y(self) -> int:
        return len(self.y_starts)

    def mi(self, counts: np.ndarray, correction: str) -> np.ndarray:
        """MI in bits = H(X) + H(Y) − H(X, Y) for each row of pair counts."""
        counts = np.asarray(counts, dtype=float)
        cx = np.add.reduceat(counts, self.x_starts, axis=-1)
        cy = np.add.reduceat(counts[..., self.y_order], self.y_starts, axis=-1)
        return np.asarray(entropy.entropy_of_counts(cx, correction)
                          + entropy.entropy_of_counts(cy, correction)
                          - entropy.entropy_of_counts(counts, correction))


def mutual_information(x, distances, alphabet_size: int | None = None,
                       correction: str = "miller-madow", n_boot: int = 200, block: int | None = None,
                       n_shuffle: int = 0, level: float = 0.95, seed: int = 0) -> MICurve:
    """I(X_0; X_d) in bits estimated from the pairs (x_i, x_(i+d)) of one sample, for each d.

    **Estimator.** I = H(X) + H(Y) − H(X, Y) from the joint counts of the N = n − d pairs and
    their two marginals, each entropy with ``correction``: ``"plugin"`` (biased upward by about
    (m_x − 1)(m_y − 1)/(2 N ln 2) bits for independent symbols; Treves and Panzeri 1995),
    ``"miller-madow"`` (Miller 1955; the default: it removes that first-order term and, on a
    well-sampled table, shifts the plug-in value by a constant, so keeps its variance; the
    spelling ``"miller_madow"`` is accepted too) or ``"grassberger"`` (Grassberger 2003; made for
    undersampled tables, but its (−1)^n term adds noise of order k/(2N ln 2) on well-sampled
    ones: measured on a 3-symbol Markov chain with N = 2·10⁴, its spread at d = 6 was 1.7·10⁻⁴
    bits against 0.8·10⁻⁴ for Miller–Madow, with the same small bias).

    **Interval.** A non-overlapping block bootstrap (Carlstein 1986) supplies the standard error:
    the pairs are cut into contiguous blocks of ``block`` pairs (default max(⌈N^(1/3)⌉, 5d, ⌈N/200⌉):
    a block spans the lag-d overlap of pairs and the process's own memory, and there are at most
    about 200 blocks, which fixes the standard error to about 5 %), blocks are drawn
    with replacement ``n_boot`` times, and the estimate is recomputed from the summed block
    counts. The interval is the normal one, Î ± z·se. The bootstrap's own bias estimate is not
    used: for a bias-corrected estimator it measures the plug-in bias of the resampled table,
    which the correction has already removed, and the "basic" interval that uses it covered the
    truth in only 60–80 % of repeated samples where I is small. At least 10 blocks are required.
    On an undersampled table the bootstrap fails too (repeated blocks repeat rare pairs, which
    looks like dependence: 256 uniform symbols, 3·10⁵ pairs, gave se = 0.017 bit where the
    shuffled copies spread by 0.001), so read intervals only where ``undersampled`` is False.
    For a non-ergodic source the interval describes this one sequence only.

    **Noise floor.** For independent symbols, 2 N ln 2 · Î_plugin is asymptotically χ² with
    (m_x − 1)(m_y − 1) degrees of freedom (the G-test), so the ``level`` quantile of the estimator
    for an independent pair is χ²_q / (2 N ln 2), less the expected bias for the corrected
    estimators. Below it an estimate is indistinguishable from no dependence (Cagnetta and Wyart
    2024, fig. 1: empirical correlations "saturate due to the sampling noise"). The χ² floor
    assumes the pairs are independent draws and the table well sampled (Cochran's rule: at most
    20 % of cells expecting under 5 pairs; ``undersampled`` marks the distances where it fails,
    as with Zipf-like marginals, whose rare pairs are always scarce: a uniform 256-symbol
    sample of 3·10⁵ pairs, 4.6 per cell, gives a Miller–Madow MI of 0.010 bit against a χ²
    floor of 0.0014), and it ignores Grassberger's extra noise. ``n_shuffle`` > 0 measures the
    floor on shuffled copies of the sample instead, which keep the marginals and N exactly;
    :attr:`MICurve.resolved` then uses it (recommended for large alphabets and with
    ``"grassberger"``).
    """
    x = np.asarray(x)
    if x.ndim != 1 or len(x) < 2 or not np.issubdtype(x.dtype, np.integer):
        raise ValueError("x must be a 1-d integer array of at least 2 symbols")
    if x.min() < 0:
        raise ValueError("symbols must be non-negative integers")
    k = int(x.max()) + 1 if alphabet_size is None else alphabet_size
    if not isinstance(k, (int, np.integer)) or k < 1 or x.max() >= k:
        raise ValueError(f"alphabet_size must be an integer above every symbol (max {int(x.max())}); "
                         f"got {alphabet_size!r}")
    k = int(k)
    if correction == "miller_madow":
        correction = "miller-madow"
    if correction not in MI_CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of "
                         f"{', '.join(MI_CORRECTIONS)} (or miller_madow)")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2; got {n_boot!r}")
    if not isinstance(n_shuffle, (int, np.integer)) or n_shuffle < 0:
        raise ValueError(f"n_shuffle must be an integer >= 0; got {n_shuffle!r}")
    if block is not None and (not isinstance(block, (int, np.integer)) or block < 1):
        raise ValueError(f"block must be None or an integer >= 1; got {block!r}")
    level = _check_level(level)
    x = x.astype(np.int64)
    n = len(x)
    d = _check_distances(distances, n)
    rng = np.random.default_rng(seed)
    shuffled = [rng.permutation(x) for _ in range(n_shuffle)]
    fields = {f: np.empty(len(d)) for f in ("mi", "low", "high", "se", "bias", "noise_floor",
                                             "shuffle_floor", "n_pairs", "block", "undersampled")}
    for i, dist in enumerate(d):
        N = n - int(dist)
        table = _PairTable(x[:N] * k + x[dist:], k)
        joint = np.bincount(table.index, minlength=len(table.cells))
        mi = float(table.mi(joint, correction))
        b = int(block) if block is not None else max(math.ceil(N ** (1 / 3)), 5 * int(dist),
                                                     math.ceil(N / 200))
        n_blocks = N // b
        if n_blocks < 10:
            raise ValueError(f"distance {int(dist)} leaves {n_blocks} bootstrap blocks of {b} pairs; "
                             "need at least 10: use shorter distances, a smaller block or more data")
        # Each replicate draws n_blocks blocks with replacement: its counts are the block counts
        # weighted by how often each block was drawn.
        weights = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks), size=n_boot)
        block_of_pair = np.repeat(np.arange(n_blocks), b)
        m = len(table.cells)
        if n_blocks * m <= 20_000_000:
            per_block = np.bincount(block_of_pair * m + table.index[:n_blocks * b],
                                    minlength=n_blocks * m).reshape(n_blocks, m).astype(float)
            step = max(1, 4_000_000 // m)  # replicate tables of ~32 MB at most
            reps = np.concatenate([table.mi(weights[j:j + step] @ per_block, correction)
                                   for j in range(0, n_boot, step)])
        else:  # very many distinct pairs: weight every pair instead of tabulating blocks
            reps = np.array([float(table.mi(np.bincount(table.index[:n_blocks * b],
                                                        weights=w[block_of_pair], minlength=m),
                                            correction)) for w in weights])
        se = float(reps.std(ddof=1))
        z = stats.norm.ppf((1 + level) / 2)
        dof = max((table.n_x - 1) * (table.n_y - 1), 1)
        # Cochran's rule for the χ² approximation: at most 20 % of the cells of the table of
        # symbols seen may expect fewer than 5 pairs under independence.
        cx = np.add.reduceat(joint, table.x_starts).astype(float)
        cy = np.add.reduceat(joint[table.y_order], table.y_starts).astype(float)
        undersampled = float((np.outer(cx, cy) / N < 5).mean()) > 0.2
        bias = dof / (2 * N * math.log(2))
        floor = stats.chi2.ppf(level, dof) / (2 * N * math.log(2))
        if correction != "plugin":
            floor -= bias
        shuffle_floor = np.nan
        if n_shuffle:
            null = []
            for sh in shuffled:
                t = _PairTable(sh[:N] * k + sh[dist:], k)
                null.append(float(t.mi(np.bincount(t.index), correction)))
            shuffle_floor = float(np.quantile(null, level))
        for name, value in (("mi", mi), ("low", mi - z * se), ("high", mi + z * se), ("se", se),
                            ("bias", bias), ("noise_floor", floor), ("shuffle_floor", shuffle_floor),
                            ("n_pairs", N), ("block", b), ("undersampled", undersampled)):
            fields[name][i] = value
    return MICurve(distances=d, correction=correction, level=level,
                   n_pairs=fields.pop("n_pairs").astype(np.int64),
                   block=fields.pop("block").astype(np.int64),
                   undersampled=fields.pop("undersampled").astype(bool), **fields)


# --- exponent fits ---------------------------------------------------------------------------------

def _log_linear(u: np.ndarray, logy: np.ndarray, se_log: np.ndarray | None, level: float) -> dict:
    """Weighted least squares logy = c0 + c1·u. With se_log given, the covariance is (XᵀWX)⁻¹ and
    intervals are normal; without, residuals set the scale and intervals use Student's t (n − 2)."""
    X = np.column_stack([np.ones_like(u), u])
    w = np.ones_like(u) if se_log is None else 1.0 / se_log**2
    XtW = X.T * w
    cov = np.linalg.inv(XtW @ X)
    coef = cov @ (XtW @ logy)
    resid = logy - X @ coef
    chi2 = float((w * resid**2).sum())
    dof = len(u) - 2
    if se_log is None:
        if dof < 1:
            raise ValueError("an unweighted fit needs at least 3 points to estimate its scatter")
        cov = cov * chi2 / dof
        q = stats.t.ppf((1 + level) / 2, dof)
        # Least squares with the variance estimated: AIC = n ln(RSS/n) + 2K, K = 2 + 1
        # (Burnham and Anderson 2002, §2.2.1).
        aic = len(u) * math.log(max(chi2, 1e-300) / len(u)) + 6
    else:
        q = stats.norm.ppf((1 + level) / 2)
        aic = chi2 + 4  # known variances: −2 ln L = χ² + a constant shared by every model
    se = np.sqrt(np.diag(cov))
    return {"coef": coef, "se": se, "q": q, "chi2": chi2, "dof": dof, "aic": aic,
            "rms": float(np.sqrt((resid**2).mean()))}


@dataclass(frozen=True)
class PowerLaw:
    """y = A·n^(−α), fitted in log space; ``alpha_ci``/``A_ci`` at ``level``. ``rms_log``: root
    mean square residual of ln y; ``chi2``: the weighted sum of squared residuals (ln y)."""

    alpha: float
    alpha_se: float
    alpha_ci: tuple[float, float]
    A: float
    A_ci: tuple[float, float]
    chi2: float
    dof: int
    aic: float
    rms_log: float
    level: float
    weighted: bool

    def __call__(self, n):
        return self.A * np.power(np.asarray(n, dtype=float), -self.alpha)


@dataclass(frozen=True)
class Exponential:
    """y = A·e^(−n/ξ), fitted in log space; ``xi_ci`` is inf at the top when the data allow no
    decay at all."""

    xi: float
    xi_ci: tuple[float, float]
    rate: float
    rate_se: float
    A: float
    A_ci: tuple[float, float]
    chi2: float
    dof: int
    aic: float
    rms_log: float
    level: float
    weighted: bool

    def __call__(self, n):
        return self.A * np.exp(-np.asarray(n, dtype=float) / self.xi)


def fit_power_law(n, y, se=None, level: float = 0.95) -> PowerLaw:
    """Fit y = A·n^(−α) by least squares of ln y on ln n, weighted by 1/se(ln y)² with
    se(ln y) = se/y (the delta method) when ``se`` is given.

    With ``se`` the interval for α is α ± z·σ_α from the covariance (XᵀWX)⁻¹, which trusts the
    errors; without, the residual scatter sets σ_α and the interval uses Student's t with n − 2
    degrees of freedom (the textbook regression interval, exact for Gaussian errors in ln y).
    A growth law gives a negative α. Points must be positive: drop those under the noise floor.
    """
    level = _check_level(level)
    n, y, se = _check_positive_series(n, y, se)
    if np.any(n <= 0):
        raise ValueError("n must be positive for a power law")
    f = _log_linear(np.log(n), np.log(y), None if se is None else se / y, level)
    (c0, c1), (s0, s1), q = f["coef"], f["se"], f["q"]
    return PowerLaw(alpha=float(-c1), alpha_se=float(s1),
                    alpha_ci=(float(-c1 - q * s1), float(-c1 + q * s1)),
                    A=float(math.exp(c0)),
                    A_ci=(float(math.exp(c0 - q * s0)), float(math.exp(c0 + q * s0))),
                    chi2=f["chi2"], dof=f["dof"], aic=f["aic"], rms_log=f["rms"], level=level,
                    weighted=se is not None)


def fit_exponential(n, y, se=None, level: float = 0.95) -> Exponential:
    """Fit y = A·e^(−n/ξ) by least squares of ln y on n (weights as in :func:`fit_power_law`).

    The decay rate 1/ξ has a symmetric interval; ξ's interval is its image (inf at the top when
    the rate's interval reaches zero). A growing y gives a negative ξ.
    """
    level = _check_level(level)
    n, y, se = _check_positive_series(n, y, se)
    f = _log_linear(n, np.log(y), None if se is None else se / y, level)
    (c0, c1), (s0, s1), q = f["coef"], f["se"], f["q"]
    rate, lo, hi = -c1, -c1 - q * s1, -c1 + q * s1
    xi_ci = (1.0 / hi if hi > 0 else -np.inf, 1.0 / lo if lo > 0 else np.inf)
    return Exponential(xi=float(1.0 / rate) if rate != 0 else np.inf,
                       xi_ci=(float(xi_ci[0]), float(xi_ci[1])),
                       rate=float(rate), rate_se=float(s1), A=float(math.exp(c0)),
                       A_ci=(float(math.exp(c0 - q * s0)), float(math.exp(c0 + q * s0))),
                       chi2=f["chi2"], dof=f["dof"], aic=f["aic"], rms_log=f["rms"], level=level,
                       weighted=se is not None)


def compare_decays(n, y, se=None, level: float = 0.95) -> dict:
    """Power law or exponential: which describes y(n) better, by AIC in log space.

    Both models have two parameters, so ΔAIC = AIC_exp − AIC_power is the difference of their
    (weighted) residuals: positive favours the power law. ``weight_power`` is the Akaike weight
    1/(1 + e^(−ΔAIC/2)) (Burnham and Anderson 2002, §2.9); |ΔAIC| < 2 is reported as
    "undecided". Fit the tail only: near n = 0 every decay looks alike.
    """
    power = fit_power_law(n, y, se, level)
    expo = fit_exponential(n, y, se, level)
    delta = expo.aic - power.aic
    preferred = "undecided" if abs(delta) < 2 else ("power law" if delta > 0 else "exponential")
    return {"power": power, "exponential": expo, "delta_aic": float(delta),
            "weight_power": float(1.0 / (1.0 + math.exp(-min(max(delta, -700), 700) / 2))),
            "preferred": preferred}


def _wald(params, cov, index: int, level: float, dof: int | None) -> tuple[float, float, float]:
    se = float(np.sqrt(max(cov[index, index], 0.0)))
    q = stats.norm.ppf((1 + level) / 2) if dof is None else stats.t.ppf((1 + level) / 2, dof)
    return se, float(params[index] - q * se), float(params[index] + q * se)


def conditional_entropy_decay(H, h: float | None = None, n_min: int = 1, n_max: int | None = None,
                              se=None, level: float = 0.95) -> dict:
    """Fit h(n) − h = A·n^(−γ) to h(n) = H(n) − H(n−1), n_min ≤ n ≤ n_max.

    With the entropy rate ``h`` known, a power law in log space (:func:`fit_power_law`) on
    h(n) − h, which must be positive. Without, the three-parameter fit h(n) = h + A·n^(−γ) by
    least squares (``scipy.optimize.curve_fit``), with a Wald interval for γ from the covariance
    (Student's t with N − 3 degrees of freedom unless ``se``, the standard errors of h(n), is
    given). For the Santa Fe process h(n) − h ≈ βΓ(1−β)ζ(1/β)^(−β)·n^(β−1), so γ = 1 − β
    (differentiating the occupancy asymptote of :func:`santa_fe_asymptote`).
    Returns γ with its se and interval, A, h (fitted or given) and the range.
    """
    level = _check_level(level)
    H = np.asarray(H, dtype=float)
    if H.ndim != 1 or len(H) < 2:
        raise ValueError("H must be a 1-d array H(0), H(1), ...")
    hn = np.diff(H)                       # h(n) for n = 1..len(H)−1
    top = len(hn) if n_max is None else n_max
    if not (isinstance(n_min, (int, np.integer)) and isinstance(top, (int, np.integer))
            and 1 <= n_min < top <= len(hn)):
        raise ValueError(f"need integers 1 <= n_min < n_max <= {len(hn)}; got {n_min!r}, {n_max!r}")
    n = np.arange(n_min, top + 1, dtype=float)
    y = hn[n_min - 1:top]
    s = None if se is None else np.asarray(se, dtype=float)[n_min - 1:top]
    if h is not None:
        if np.any(y - h <= 0):
            raise ValueError("h must lie below every h(n) in the fit range (h(n) decreases to h)")
        fit = fit_power_law(n, y - h, s, level)
        return {"gamma": fit.alpha, "gamma_se": fit.alpha_se, "gamma_ci": fit.alpha_ci,
                "A": fit.A, "h": float(h), "h_se": 0.0, "h_known": True,
                "n_min": int(n_min), "n_max": int(top)}
    if len(n) < 4:
        raise ValueError("fitting h as well needs at least 4 block lengths")
    p0 = (float(y[-1]) * 0.9, max(float(y[0] - y[-1]), 1e-6), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        params, cov = curve_fit(lambda m, hh, A, g: hh + A * m ** (-g), n, y, p0=p0, sigma=s,
                                absolute_sigma=s is not None, maxfev=20_000)
    g_se, g_lo, g_hi = _wald(params, cov, 2, level, None if s is not None else len(n) - 3)
    return {"gamma": float(params[2]), "gamma_se": g_se, "gamma_ci": (g_lo, g_hi),
            "A": float(params[1]), "h": float(params[0]),
            "h_se": float(np.sqrt(max(cov[0, 0], 0.0))), "h_known": False,
            "n_min": int(n_min), "n_max": int(top)}


# --- Hilberg exponents -----------------------------------------------------------------------------

def santa_fe_asymptote(beta: float, L) -> np.ndarray:
    """Γ(1−β)·(L/ζ(1/β))^β − ½: the expected number of distinct K among L draws of the
    *untruncated* Santa Fe process, for large L.

    The leading term is Karlin's (1967) occupancy law E[D(L)] ~ Γ(1−β)·ν(1/L) with
    ν(x) = #{k : p_k ≥ x} = (xζ(1/β))^(−β) for p_k = k^(−1/β)/ζ(1/β) (Gnedin, Hansen and Pitman
    2007, §7). The constant −½ is the Euler–Maclaurin boundary term of Σ_k [1 − e^(−L p_k)]
    (the sum starts at k = 1, where the summand is 1, not at 0): our derivation, checked against
    the exact sum in the tests. It is what makes the local exponent of E[D(L)] exceed β at short L:
    d ln E[D]/d ln L = β / (1 − 1/(2 E[D])).
    """
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must be in (0, 1); got {beta!r}")
    L = np.asarray(L, dtype=float)
    return gamma_fn(1 - beta) * (L / zeta(1 / beta)) ** beta - 0.5


def hilberg_exponent(L, H, h: float | None = None, offset: bool = True, level: float = 0.95) -> dict:
    """The Hilberg exponent β of block entropies H at block lengths ``L`` (any set, e.g. spaced
    geometrically), with a Wald interval from the fit's covariance.

    Four forms, after Dębowski's statement of Hilberg's law, H(L) − hL ∝ L^β (Dębowski 2011):

    - h known, no offset: a straight line in log–log of D(L) = H(L) − hL;
    - h known, offset: D(L) = A·L^β + C (C absorbs the −½ of :func:`santa_fe_asymptote`);
    - h fitted, no offset: H = hL + A·L^β, the form of
      :func:`middleground.measures.entropy.hilberg_fit`;
    - h fitted, offset: H = hL + A·L^β + C.

    The covariance trusts the values as exact up to model error (residuals set the scale), so on
    exact block entropies the interval measures lack of fit, not sampling noise.
    """
    level = _check_level(level)
    L = np.asarray(L, dtype=float)
    H = np.asarray(H, dtype=float)
    if L.ndim != 1 or H.shape != L.shape or np.any(L < 1) or len(np.unique(L)) != len(L):
        raise ValueError("L must be distinct block lengths >= 1, with one H per L")
    k = (1 if h is not None else 2) + (1 if offset else 0)
    if len(L) < k + 2:
        raise ValueError(f"this fit needs at least {k + 2} block lengths; got {len(L)}")
    if h is not None and not offset:
        D = H - h * L
        if np.any(D <= 0):
            raise ValueError("H(L) − hL must be positive for a log–log fit; is h the entropy rate?")
        f = fit_power_law(L, D, level=level)
        return {"beta": -f.alpha, "beta_se": f.alpha_se, "beta_ci": (-f.alpha_ci[1], -f.alpha_ci[0]),
                "A": f.A, "h": float(h), "C": 0.0, "form": "h known, log-log"}
    y = H - h * L if h is not None else H
    scale = max(float(np.abs(y).max()), 1e-12)
    if h is not None:
        model = lambda l, A, b, C: A * l**b + C  # noqa: E731
        p0 = (float(y[-1] / L[-1] ** 0.5), 0.5, 0.0)
    elif offset:
        model = lambda l, hh, A, b, C: hh * l + A * l**b + C  # noqa: E731
        p0 = (float((y[-1] - y[-2]) / (L[-1] - L[-2])), 1.0, 0.5, 0.0)
    else:
        model = lambda l, hh, A, b: hh * l + A * l**b  # noqa: E731
        p0 = (float((y[-1] - y[-2]) / (L[-1] - L[-2])), 1.0, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        params, cov = curve_fit(lambda l, *p: model(l, *p) / scale, L, y / scale, p0=p0,
                                maxfev=50_000)
    ib = 1 if h is not None else 2
    se, lo, hi = _wald(params, cov, ib, level, len(L) - len(params))
    return {"beta": float(params[ib]), "beta_se": se, "beta_ci": (lo, hi),
            "A": float(params[ib - 1]), "h": float(h) if h is not None else float(params[0]),
            "C": float(params[-1]) if offset else 0.0,
            "form": ("h known" if h is not None else "h fitted") + (", offset" if offset else "")}


def hilberg_convergence(beta: float, k_maxes, L_ranges, n_points: int = 40) -> list[dict]:
    """Fitted Hilberg exponents of the exact Santa Fe block entropies, for each k_max and each
    (L_min, L_max) in ``L_ranges``: the table that shows when a fit recovers the true β.

    Each row holds ``L_star`` = 1/p_(k_max), the length at which the rarest fact is expected once
    (E[D(L)] bends over to its ceiling k_max around it); ``local``, the local exponent
    d ln E[D]/d ln L at the range's geometric middle; and β from
    :func:`middleground.measures.entropy.hilberg_fit` on every L in the range (``book``), and
    from :func:`hilberg_exponent` with h known (``h_known``, ``h_known_offset``) and with h
    fitted and an offset (``free_offset``) on ``n_points`` geometrically spaced lengths.
    Cost: the ``book`` fit needs E[D(L)] at every L in the range, (L_max − L_min)·k_max terms.
    """
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must be in (0, 1); got {beta!r}")
    if not isinstance(n_points, (int, np.integer)) or n_points < 6:
        raise ValueError(f"n_points must be an integer >= 6; got {n_points!r}")
    ranges = [tuple(r) for r in L_ranges]
    if not ranges or any(len(r) != 2 or not (1 <= r[0] and r[0] + 5 <= r[1]) for r in ranges):
        raise ValueError("L_ranges must be (L_min, L_max) pairs with 1 <= L_min and "
                         "L_max >= L_min + 5")
    rows = []
    for k_max in k_maxes:
        sf = SantaFe(beta, int(k_max))
        h = sf.entropy_rate
        L_star = 1.0 / float(sf.k_probs[-1])
        for L_min, L_max in ranges:
            dense = np.arange(L_min, L_max + 1)
            H = np.zeros(L_max + 1)  # hilberg_fit reads only L >= L_min; the rest stays unused
            H[L_min:] = dense * h + sf.expected_distinct(dense)
            book = entropy.hilberg_fit(H, L_min=L_min)
            Lg = np.unique(np.round(np.geomspace(L_min, L_max, n_points)))
            Hg = Lg * h + sf.expected_distinct(Lg)
            mid = math.sqrt(L_min * L_max)
            Dm = sf.expected_distinct([mid / 1.01, mid * 1.01])
            rows.append({
                "beta": beta, "k_max": int(k_max), "L_min": int(L_min), "L_max": int(L_max),
                "L_star": L_star, "local": float(np.log(Dm[1] / Dm[0]) / np.log(1.01**2)),
                "book": book["beta"], "book_se": book["beta_se"], "book_h": book["h"], "h": h,
                "h_known": hilberg_exponent(Lg, Hg, h=h, offset=False)["beta"],
                "h_known_offset": hilberg_exponent(Lg, Hg, h=h, offset=True)["beta"],
                "free_offset": hilberg_exponent(Lg, Hg, h=None, offset=True)["beta"],
            })
    return rows
