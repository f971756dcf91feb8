"""Every hand-derived gradient against torch autograd in float64, and against finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from middleground.mechanics import calculus as c
from middleground.mechanics import numpy_gpt as ng
from middleground.gpt.model import GPT, GPTConfig

TOL = 1e-8  # maximum relative error, float64
SHAPES = [(1, 1), (1, 5), (3, 1), (2, 7)]  # (batch, sequence) including batch 1 and length 1


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    # A gradient that is exactly zero in theory (attention over one position has dQ = dK = 0)
    # comes back from autograd as rounding noise near 1e-16: below 1e-6 compare absolutely.
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-6))


def t(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("B,T", SHAPES)
def test_linear(rng, B, T):
    X, W, b, dY = rng.normal(size=(B * T, 5)), rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(B * T, 4))
    Y, cache = c.linear_forward(X, W, b)
    dX, dW, db = c.linear_backward(dY, cache)
    tX, tW, tb = t(X), t(W), t(b)
    tY = tX @ tW + tb
    tY.backward(torch.tensor(dY))
    assert rel_err(Y, tY.detach()) < TOL
    for mine, ref in ((dX, tX), (dW, tW), (db, tb)):
        assert rel_err(mine, ref.grad) < TOL


@pytest.mark.parametrize("B,T", SHAPES)
def test_softmax_cross_entropy_gradient_is_p_minus_y(rng, B, T):
    N, V = B * T, 6
    Z, y = rng.normal(size=(N, V)) * 3, rng.integers(V, size=N)
    y[0] = y[-1]  # a repeated target
    loss, cache = c.cross_entropy_forward(Z, y)
    dZ = c.cross_entropy_backward(1.0, cache)
    tZ = t(Z)
    tl = F.cross_entropy(tZ, torch.tensor(y))
    tl.backward()
    assert abs(loss - tl.item()) < 1e-12
    assert rel_err(dZ, tZ.grad) < TOL
    assert np.allclose(dZ, (c.softmax(Z) - np.eye(V)[y]) / N, atol=1e-15)


@pytest.mark.parametrize("B,T", SHAPES)
def test_layernorm(rng, B, T):
    X, g, b, dY = rng.normal(size=(B, T, 8)) * 2 + 1, rng.normal(size=8), rng.normal(size=8), rng.normal(size=(B, T, 8))
    Y, cache = c.layernorm_forward(X, g, b)
    dX, dg, db = c.layernorm_backward(dY, cache)
    tX, tg, tb = t(X), t(g), t(b)
    tY = F.layer_norm(tX, (8,), tg, tb, eps=1e-5)
    tY.backward(torch.tensor(dY))
    assert rel_err(Y, tY.detach()) < TOL
    for mine, ref in ((dX, tX), (dg, tg), (db, tb)):
        assert rel_err(mine, ref.grad) < TOL


@pytest.mark.parametrize("B,T", SHAPES)
def test_gelu_exact_form(rng, B, T):
    X, dY = rng.normal(size=(B * T, 6)) * 3, rng.normal(size=(B * T, 6))
    Y, cache = c.gelu_forward(X)
    dX = c.gelu_backward(dY, cache)
    tX = t(X)
    tY = F.gelu(tX)  # approximate="none": the erf form
    tY.backward(torch.tensor(dY))
    assert rel_err(Y, tY.detach()) < TOL
    assert rel_err(dX, tX.grad) < TOL


@pytest.mark.parametrize("B,T", SHAPES)
@pytest.mark.parametrize("H", [1, 3])
def test_causal_attention(rng, B, T, H):
    Q, K, V, dY = (rng.normal(size=(B, H, T, 4)) for _ in range(4))
    Y, cache = c.attention_forward(Q, K, V)
    dQ, dK, dV = c.attention_backward(dY, cache)
    tQ, tK, tV = t(Q), t(K), t(V)
    tY = F.scaled_dot_product_attention(tQ, tK, tV, is_causal=True)
    tY.backward(torch.tensor(dY))
    assert rel_err(Y, tY.detach()) < TOL
    for mine, ref in ((dQ, tQ), (dK, tK), (dV, tV)):
        assert rel_err(mine, ref.grad) < TOL


def test_attention_mask_edges(rng):
    """The first position sees only itself; the last key is seen only by the last query."""
    Q, K, V, dY = (rng.normal(size=(1, 2, 5, 3)) for _ in range(4))
    Y, cache = c.attention_forward(Q, K, V)
    assert np.allclose(Y[..., 0, :], V[..., 0, :])
    dQ, dK, dV = c.attention_backward(dY, cache)
    assert np.allclose(dQ[..., 0, :], 0.0)  # a single visible key: softmax is constant 1
    assert np.allclose(dV[..., -1, :], cache[3][..., -1, -1, None] * dY[..., -1, :])


@pytest.mark.parametrize("B,T", SHAPES)
def test_embedding_with_repeated_tokens(rng, B, T):
    W = rng.normal(size=(5, 3))
    idx = rng.integers(5, size=(B, T))
    idx.flat[0] = idx.flat[-1] = 2  # repeated token
    dY = rng.normal(size=(B, T, 3))
    Y, cache = c.embedding_forward(idx, W)
    dW = c.embedding_backward(dY, cache)
    tW = t(W)
    tY = F.embedding(torch.tensor(idx), tW)
    tY.backward(torch.tensor(dY))
    assert rel_err(Y, tY.detach()) < TOL
    assert rel_err(dW, tW.grad) < TOL


def test_residual(rng):
    X, W, dY = rng.normal(size=(4, 3)), rng.normal(size=(3, 3)), rng.normal(size=(4, 3))
    _, cache = c.linear_forward(X, W)
    dX_branch, _, _ = c.linear_backward(dY, cache)
    dX = c.residual_backward(dY, dX_branch)
    tX = t(X)
    (tX + tX @ torch.tensor(W)).backward(torch.tensor(dY))
    assert rel_err(dX, tX.grad) < TOL


def test_layernorm_against_finite_differences(rng):
    """Independent of torch: central differences on every input of a layer norm."""
    X, g, b = rng.normal(size=(2, 3, 5)), rng.normal(size=5), rng.normal(size=5)
    W = rng.normal(size=(2, 3, 5))  # L = sum(W * LN(X)), so dL/dY = W

    def loss(X_, g_, b_):
        return float((W * c.layernorm_forward(X_, g_, b_)[0]).sum())

    _, cache = c.layernorm_forward(X, g, b)
    dX, dg, db = c.layernorm_backward(W, cache)
    h = 1e-6
    for array, grad in ((X, dX), (g, dg), (b, db)):
        numeric = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            old = array[i]
            array[i] = old + h
            up = loss(X, g, b)
            array[i] = old - h
            down = loss(X, g, b)
            array[i] = old
            numeric[i] = (up - down) / (2 * h)
        assert rel_err(grad, numeric) < 1e-7  # central differences are accurate to O(h^2)


def _torch_and_numpy_gpt(cfg, seed=0):
    torch.manual_seed(seed)
    model = GPT(cfg).double()
    with torch.no_grad():  # move away from the near-zero init so every term matters
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model, ng.from_torch(model)


@pytest.mark.parametrize("B,T", SHAPES)
def test_whole_gpt_gradients(B, T):
    cfg = GPTConfig(vocab_size=7, block_size=8, n_layer=2, n_head=2, n_embd=8)
    model, params = _torch_and_numpy_gpt(cfg)
    gen = torch.Generator().manual_seed(B * 10 + T)
    idx, tgt = torch.randint(7, (B, T), generator=gen), torch.randint(7, (B, T), generator=gen)
    idx[0, 0] = idx[-1, -1] = 3  # repeated tokens
    logits, loss = model(idx, tgt)
    loss.backward()
    np_logits, np_loss, cache = ng.forward(params, cfg, idx.numpy(), tgt.numpy())
    assert rel_err(np_logits, logits.detach()) < TOL and abs(np_loss - loss.item()) < 1e-12
    grads = ng.to_torch_layout(ng.backward(cache))
    for name, p in model.named_parameters():
        assert rel_err(grads[name], p.grad) < TOL, name


def test_backward_twice_gives_the_same_gradients():
    cfg = GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=2, n_embd=4)
    _, params = _torch_and_numpy_gpt(cfg)
    idx = np.array([[1, 2, 3, 1]])
    _, _, cache = ng.forward(params, cfg, idx, idx)
    first, second = ng.backward(cache), ng.backward(cache)
    _, again = ng.loss_and_grads(params, cfg, idx, idx)
    for name in first:
        assert np.array_equal(first[name], second[name]) and np.array_equal(first[name], again[name])


def test_adamw_matches_torch():
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt = torch.optim.AdamW(tparams.values(), lr=0.05, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    state = {}
    for _ in range(5):
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        for k, p in tparams.items():
            p.grad = torch.tensor(grads[k])
        opt.step()
        ng.adamw_step(params, grads, state, lr=0.05, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
        for k in params:
            assert rel_err(params[k], tparams[k].detach()) < 1e-12


@pytest.mark.parametrize("call,expected", [
    (lambda: c.linear_forward(np.zeros((2, 3)), np.zeros((4, 5))), r"X must have shape \(\*, 4\); got \(2, 3\)"),
    (lambda: c.cross_entropy_forward(np.zeros((2, 3)), np.zeros(3, dtype=int)), r"targets must have shape \(2\)"),
    (lambda: c.layernorm_forward(np.zeros((2, 3)), np.zeros(4), np.zeros(3)), r"gamma must have shape \(3\)"),
    (lambda: c.attention_forward(np.zeros((1, 1, 2, 3)), np.zeros((1, 1, 2, 4)), np.zeros((1, 1, 2, 3))),
     r"K must have shape \(1, 1, 2, 3\)"),
    (lambda: c.embedding_backward(np.zeros((2, 3)), (np.zeros((2, 2), dtype=int), (5, 3))),
     r"dY must have shape \(2, 2, 3\)"),
])
def test_invalid_shapes_name_the_expected_shape(call, expected):
    with pytest.raises(ValueError, match=expected):
        call()
