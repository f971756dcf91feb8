"""Every component of a GPT, forward and backward side by side, in plain numpy.

Conventions (the calculus chapter, ``chapters/calculus.md``): activations are row vectors, so a batch of tokens is a
matrix ``X`` of shape ``(N, d)`` and a linear layer is ``Y = X W + b`` with ``W`` of shape
``(d_in, d_out)``. For a scalar loss ``L``, the gradient ``dX = ∂L/∂X`` has the shape of ``X``
(the "denominator" layout). Derivations use differentials, ``dL = tr(dY^T dY_)``..., and each
backward names the equation of that chapter it implements.

Each ``*_forward`` returns ``(output, cache)``; each ``*_backward`` takes the upstream gradient
and that cache and returns the gradients of the inputs. Backward functions are pure: they keep no
state, so calling one twice gives the same result. Shapes are checked, and a wrong shape raises an
error that names the expected one.

What this module does not do: assemble a model. :mod:`.numpy_gpt` does that.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf


def _expect(name: str, array: np.ndarray, shape: tuple) -> None:
    """Raise if ``array`` does not have ``shape``; ``None`` in ``shape`` matches any size."""
    ok = array.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, array.shape))
    if not ok:
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}; got {tuple(array.shape)}")


# --- Linear layer: Y = X W + b. Equations (lin-fwd), (lin-dx), (lin-dw), (lin-db). -------------

def linear_forward(X, W, b=None):
    _expect("W", W, (None, None))
    _expect("X", X, (None, W.shape[0]))
    if b is not None:
        _expect("b", b, (W.shape[1],))
    Y = X @ W
    return (Y + b if b is not None else Y), (X, W, b is not None)


def linear_backward(dY, cache):
    X, W, has_bias = cache
    _expect("dY", dY, (X.shape[0], W.shape[1]))
    dX = dY @ W.T        # (lin-dx)
    dW = X.T @ dY        # (lin-dw)
    db = dY.sum(axis=0) if has_bias else None  # (lin-db)
    return dX, dW, db


# --- Softmax with cross-entropy, averaged over N rows. Equations (ce-fwd), (ce-grad). ----------

def softmax(Z, axis=-1):
    Z = Z - Z.max(axis=axis, keepdims=True)  # shift for stability; softmax is shift-invariant
    E = np.exp(Z)
    return E / E.sum(axis=axis, keepdims=True)


def cross_entropy_forward(logits, targets):
    _expect("logits", logits, (None, None))
    _expect("targets", targets, (logits.shape[0],))
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), targets].mean()  # (ce-fwd)
    return loss, (np.exp(log_p), targets)


def cross_entropy_backward(dloss, cache):
    P, targets = cache
    N = P.shape[0]
    dZ = P.copy()
    dZ[np.arange(N), targets] -= 1.0  # (ce-grad): p - y, with y one-hot
    return dloss * dZ / N


# --- Layer norm over the last axis. Equations (ln-fwd), (ln-dx). ------------------------------

def layernorm_forward(X, gamma, beta, eps=1e-5):
    d = X.shape[-1]
    _expect("gamma", gamma, (d,))
    _expect("beta", beta, (d,))
    mu = X.mean(axis=-1, keepdims=True)
    var = X.var(axis=-1, keepdims=True)  # biased variance, as torch.nn.LayerNorm
    rstd = 1.0 / np.sqrt(var + eps)
    Xhat = (X - mu) * rstd
    return Xhat * gamma + beta, (Xhat, rstd, gamma)  # (ln-fwd)


def layernorm_backward(dY, cache):
    Xhat, rstd, gamma = cache
    _expect("dY", dY, Xhat.shape)
    axes = tuple(range(dY.ndim - 1))
    dgamma = (dY * Xhat).sum(axis=axes)
    dbeta = dY.sum(axis=axes)
    dXhat = dY * gamma
    # (ln-dx): dX = rstd * (dXhat - mean(dXhat) - Xhat * mean(dXhat * Xhat))
    dX = rstd * (dXhat - dXhat.mean(axis=-1, keepdims=True)
                 - Xhat * (dXhat * Xhat).mean(axis=-1, keepdims=True))
    return dX, dgamma, dbeta


# --- GELU, the exact (erf) form, as torch.nn.functional.gelu's default. (gelu-fwd), (gelu-dx). --

_INV_SQRT2 = 1.0 / np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def gelu_forward(X):
    Phi = 0.5 * (1.0 + erf(X * _INV_SQRT2))  # standard normal CDF
    return X * Phi, (X, Phi)  # (gelu-fwd)


def gelu_backward(dY, cache):
    X, Phi = cache
    _expect("dY", dY, X.shape)
    phi = _INV_SQRT_2PI * np.exp(-0.5 * X * X)  # standard normal density
    return dY * (Phi + X * phi)  # (gelu-dx)


# --- Causal multi-head scaled dot-product attention. (att-fwd), (att-dv), (att-da), (att-ds),
#     (att-dqk). Q, K, V have shape (B, H, T, D). -----------------------------------------------

def attention_forward(Q, K, V):
    _expect("Q", Q, (None, None, None, None))
    _expect("K", K, Q.shape)
    _expect("V", V, Q.shape)
    T, D = Q.shape[-2], Q.shape[-1]
    scale = 1.0 / np.sqrt(D)
    S = (Q @ K.swapaxes(-1, -2)) * scale
    future = np.triu(np.ones((T, T), dtype=bool), k=1)  # position t attends to s <= t only
    S = np.where(future, -np.inf, S)
    A = softmax(S, axis=-1)
    return A @ V, (Q, K, V, A, scale)  # (att-fwd)


def attention_backward(dY, cache):
    Q, K, V, A, scale = cache
    _expect("dY", dY, Q.shape)
    dV = A.swapaxes(-1, -2) @ dY                          # (att-dv)
    dA = dY @ V.swapaxes(-1, -2)                          # (att-da)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))  # (att-ds); masked entries have A = 0
    dQ = (dS @ K) * scale                                 # (att-dqk)
    dK = (dS.swapaxes(-1, -2) @ Q) * scale                # (att-dqk)
    return dQ, dK, dV


def split_heads(X, n_head):
    """(B, T, C) -> (B, n_head, T, C // n_head)."""
    B, T, C = X.shape
    if C % n_head:
        raise ValueError(f"width {C} must be divisible by n_head {n_head}")
    return X.reshape(B, T, n_head, C // n_head).transpose(0, 2, 1, 3)


def merge_heads(X):
    """(B, H, T, D) -> (B, T, H * D), the inverse of :func:`split_heads`."""
    B, H, T, D = X.shape
    return X.transpose(0, 2, 1, 3).reshape(B, T, H * D)


# --- Embedding lookup. (emb-fwd), (emb-dw): repeated tokens accumulate. ------------------------

def embedding_forward(idx, W):
    _expect("W", W, (None, None))
    if idx.size and (idx.min() < 0 or idx.max() >= W.shape[0]):
        raise ValueError(f"token ids must lie in [0, {W.shape[0] - 1}]")
    return W[idx], (idx, W.shape)  # (emb-fwd)


def embedding_backward(dY, cache):
    idx, shape = cache
    _expect("dY", dY, (*idx.shape, shape[1]))
    dW = np.zeros(shape, dtype=dY.dtype)
    np.add.at(dW, idx.reshape(-1), dY.reshape(-1, shape[1]))  # (emb-dw): += for every occurrence
    return dW


# --- Residual connection: Y = X + f(X). (res-dx): dX = dY + (df/dX)^T dY. -----------------------

def residual_backward(dY, dX_through_branch):
    """The gradient reaching X: the identity path plus the branch's own backward."""
    _expect("dX_through_branch", dX_through_branch, dY.shape)
    return dY + dX_through_branch  # (res-dx)
