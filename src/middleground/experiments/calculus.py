"""The calculus chapter's experiment: every hand-derived gradient against torch autograd (float64)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..gpt.model import GPT, GPTConfig
from ..mechanics import calculus as c
from ..mechanics import numpy_gpt


def gradient_errors(trials: int, seed: int) -> list[dict]:
    """Maximum relative error of each hand gradient against torch autograd (float64), over
    ``trials`` random inputs and shapes, including batch 1 and sequence length 1."""
    rng = np.random.default_rng(seed)

    def rel(a, b):
        b = b.detach().numpy() if hasattr(b, "detach") else b
        # Gradients that are exactly zero in theory (attention over one position: dQ = dK = 0) come
        # back from autograd as rounding noise near 1e-16: below 1e-6, compare absolutely.
        return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-6))

    def tt(x):
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    worst: dict[str, float] = {}

    def keep(name, err):
        worst[name] = max(worst.get(name, 0.0), err)

    for trial in range(trials):
        B, T = [(1, 1), (1, 6), (4, 1), (3, 7)][trial % 4]
        N, d = B * T, int(rng.integers(2, 9))
        X, W, b, dY = rng.normal(size=(N, d)), rng.normal(size=(d, 5)), rng.normal(size=5), rng.normal(size=(N, 5))
        _, cache = c.linear_forward(X, W, b)
        grads = c.linear_backward(dY, cache)
        tX, tW, tb = tt(X), tt(W), tt(b)
        (tX @ tW + tb).backward(torch.tensor(dY))
        keep("linear", max(rel(g, r.grad) for g, r in zip(grads, (tX, tW, tb))))

        Z, y = 3 * rng.normal(size=(N, 7)), rng.integers(7, size=N)
        _, cache = c.cross_entropy_forward(Z, y)
        tZ = tt(Z)
        F.cross_entropy(tZ, torch.tensor(y)).backward()
        keep("softmax + cross-entropy", rel(c.cross_entropy_backward(1.0, cache), tZ.grad))

        X3, g, be, dY3 = rng.normal(size=(B, T, d)), rng.normal(size=d), rng.normal(size=d), rng.normal(size=(B, T, d))
        _, cache = c.layernorm_forward(X3, g, be)
        grads = c.layernorm_backward(dY3, cache)
        tX, tg, tb = tt(X3), tt(g), tt(be)
        F.layer_norm(tX, (d,), tg, tb, eps=1e-5).backward(torch.tensor(dY3))
        keep("layer norm", max(rel(gr, r.grad) for gr, r in zip(grads, (tX, tg, tb))))

        _, cache = c.gelu_forward(X)
        tX = tt(X)
        F.gelu(tX).backward(torch.tensor(dY[:, :1].repeat(d, axis=1)))
        keep("GELU (exact, erf)", rel(c.gelu_backward(dY[:, :1].repeat(d, axis=1), cache), tX.grad))

        H = int(rng.integers(1, 4))
        Q, K, V, dA = (rng.normal(size=(B, H, T, 4)) for _ in range(4))
        _, cache = c.attention_forward(Q, K, V)
        grads = c.attention_backward(dA, cache)
        tQ, tK, tV = tt(Q), tt(K), tt(V)
        F.scaled_dot_product_attention(tQ, tK, tV, is_causal=True).backward(torch.tensor(dA))
        keep("causal multi-head attention", max(rel(gr, r.grad) for gr, r in zip(grads, (tQ, tK, tV))))

        E = rng.normal(size=(5, d))
        idx = rng.integers(5, size=(B, T))
        idx.flat[0] = idx.flat[-1]  # a repeated token
        dE = rng.normal(size=(B, T, d))
        _, cache = c.embedding_forward(idx, E)
        tE = tt(E)
        F.embedding(torch.tensor(idx), tE).backward(torch.tensor(dE))
        keep("embedding (repeated tokens)", rel(c.embedding_backward(dE, cache), tE.grad))

        Wr = rng.normal(size=(d, d))
        _, cache = c.linear_forward(X, Wr)
        dXr = c.residual_backward(dY[:, :1].repeat(d, axis=1), c.linear_backward(dY[:, :1].repeat(d, axis=1), cache)[0])
        tX = tt(X)
        (tX + tX @ torch.tensor(Wr)).backward(torch.tensor(dY[:, :1].repeat(d, axis=1)))
        keep("residual connection", rel(dXr, tX.grad))

        cfg = GPTConfig(vocab_size=7, block_size=8, n_layer=2, n_head=2, n_embd=8)
        torch.manual_seed(seed + trial)
        model = GPT(cfg).double()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.2 * torch.randn_like(p))
        params = numpy_gpt.from_torch(model)
        ids, tgt = rng.integers(7, size=(B, T)), rng.integers(7, size=(B, T))
        _, loss = model(torch.tensor(ids), torch.tensor(tgt))
        loss.backward()
        hand = numpy_gpt.to_torch_layout(numpy_gpt.loss_and_grads(params, cfg, ids, tgt)[1])
        keep("whole GPT (every parameter)", max(rel(hand[n], p.grad) for n, p in model.named_parameters()))
    return [{"component": k, "max_rel_error": v} for k, v in worst.items()]
