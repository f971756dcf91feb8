"""The GPT of :mod:`middleground.gpt.model`, forward and backward by hand in numpy, and AdamW.

The architecture is the same, weight for weight: token and position embeddings, pre-norm blocks
(causal multi-head attention, then an exact-GELU MLP four times as wide), a final layer norm, and
output weights *tied* to the token embedding. Parameters live in a dict keyed by the torch
``state_dict`` names, with linear weights stored as ``(d_in, d_out)`` (the transpose of torch's),
so that ``Y = X W + b`` as in the calculus chapter (``chapters/calculus.md``).

:func:`loss_and_grads` runs the forward pass, keeps what the backward needs, and returns the loss
and a fresh gradient dict: nothing accumulates between calls. :func:`adamw_step` is
``torch.optim.AdamW`` written out from its equations (decoupled weight decay, Loshchilov and Hutter
2019). :func:`forward_flops` counts the floating-point operations of one forward pass, op by op.
"""

from __future__ import annotations

import numpy as np

from . import calculus as c
from .config import GPTConfig


def _block_names(i: int) -> dict[str, str]:
    p = f"blocks.{i}."
    return {k: p + v for k, v in {
        "ln1_g": "ln_1.weight", "ln1_b": "ln_1.bias", "qkv_w": "attn.qkv.weight",
        "qkv_b": "attn.qkv.bias", "proj_w": "attn.proj.weight", "proj_b": "attn.proj.bias",
        "ln2_g": "ln_2.weight", "ln2_b": "ln_2.bias", "fc_w": "mlp.fc.weight", "fc_b": "mlp.fc.bias",
        "mlp_w": "mlp.proj.weight", "mlp_b": "mlp.proj.bias"}.items()}


def from_torch(model) -> dict[str, np.ndarray]:
    """Copy a :class:`middleground.gpt.model.GPT`'s weights into numpy (float64), linear weights transposed."""
    params = {}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            continue  # tied to wte.weight
        array = tensor.detach().cpu().double().numpy()
        params[name] = array.T.copy() if name.endswith(".weight") and array.ndim == 2 and \
            not name.startswith(("wte", "wpe")) else array.copy()
    return params


def to_torch_layout(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inverse of :func:`from_torch`'s transposes: arrays in torch's ``state_dict`` layout."""
    return {k: (v.T if v.ndim == 2 and not k.startswith(("wte", "wpe")) else v)
            for k, v in params.items()}


def forward(params, cfg: GPTConfig, idx: np.ndarray, targets: np.ndarray | None = None):
    """Logits ``(B, T, V)``, the mean cross-entropy (or ``None``), and the cache for backward."""
    if idx.ndim != 2:
        raise ValueError(f"idx must have shape (B, T); got {idx.shape}")
    B, T = idx.shape
    if T > cfg.block_size:
        raise ValueError(f"sequence length {T} exceeds block_size {cfg.block_size}")
    C, H = cfg.n_embd, cfg.n_head
    tok, tok_cache = c.embedding_forward(idx, params["wte.weight"])
    x = tok + params["wpe.weight"][:T]
    caches = []
    for i in range(cfg.n_layer):
        n = _block_names(i)
        h, ln1 = c.layernorm_forward(x, params[n["ln1_g"]], params[n["ln1_b"]])
        qkv, qkv_cache = c.linear_forward(h.reshape(B * T, C), params[n["qkv_w"]], params[n["qkv_b"]])
        q, k, v = (c.split_heads(part.reshape(B, T, C), H) for part in np.split(qkv, 3, axis=1))
        y, att = c.attention_forward(q, k, v)
        a, proj = c.linear_forward(c.merge_heads(y).reshape(B * T, C), params[n["proj_w"]],
                                   params[n["proj_b"]])
        x = x + a.reshape(B, T, C)
        h2, ln2 = c.layernorm_forward(x, params[n["ln2_g"]], params[n["ln2_b"]])
        f, fc = c.linear_forward(h2.reshape(B * T, C), params[n["fc_w"]], params[n["fc_b"]])
        g, gelu = c.gelu_forward(f)
        m, mlp = c.linear_forward(g, params[n["mlp_w"]], params[n["mlp_b"]])
        x = x + m.reshape(B, T, C)
        caches.append((ln1, qkv_cache, att, proj, ln2, fc, gelu, mlp))
    hf, lnf = c.layernorm_forward(x, params["ln_f.weight"], params["ln_f.bias"])
    logits, head = c.linear_forward(hf.reshape(B * T, C), params["wte.weight"].T)  # tied weights
    loss, ce = (None, None)
    if targets is not None:
        if targets.shape != idx.shape:
            raise ValueError(f"targets must have shape {idx.shape} like idx; got {targets.shape}")
        loss, ce = c.cross_entropy_forward(logits, targets.reshape(-1))
    cache = (cfg, B, T, tok_cache, caches, lnf, head, ce)
    return logits.reshape(B, T, -1), loss, cache


def backward(cache) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for every parameter, in a new dict."""
    cfg, B, T, tok_cache, caches, lnf, head, ce = cache
    if ce is None:
        raise ValueError("backward needs a forward pass that was given targets")
    C, H = cfg.n_embd, cfg.n_head
    grads = {}
    dlogits = c.cross_entropy_backward(1.0, ce)
    dhf, dW_head, _ = c.linear_backward(dlogits, head)
    dx, grads["ln_f.weight"], grads["ln_f.bias"] = c.layernorm_backward(dhf.reshape(B, T, C), lnf)
    for i in reversed(range(cfg.n_layer)):
        n = _block_names(i)
        ln1, qkv_cache, att, proj, ln2, fc, gelu, mlp = caches[i]
        # MLP branch of x = x + mlp(ln_2(x)), then the residual sum (res-dx)
        dg, grads[n["mlp_w"]], grads[n["mlp_b"]] = c.linear_backward(dx.reshape(B * T, C), mlp)
        df = c.gelu_backward(dg, gelu)
        dh2, grads[n["fc_w"]], grads[n["fc_b"]] = c.linear_backward(df, fc)
        dln2, grads[n["ln2_g"]], grads[n["ln2_b"]] = c.layernorm_backward(dh2.reshape(B, T, C), ln2)
        dx = c.residual_backward(dx, dln2)
        # attention branch of x = x + attn(ln_1(x))
        dy, grads[n["proj_w"]], grads[n["proj_b"]] = c.linear_backward(dx.reshape(B * T, C), proj)
        dq, dk, dv = c.attention_backward(c.split_heads(dy.reshape(B, T, C), H), att)
        dqkv = np.concatenate([c.merge_heads(t).reshape(B * T, C) for t in (dq, dk, dv)], axis=1)
        dh, grads[n["qkv_w"]], grads[n["qkv_b"]] = c.linear_backward(dqkv, qkv_cache)
        dln1, grads[n["ln1_g"]], grads[n["ln1_b"]] = c.layernorm_backward(dh.reshape(B, T, C), ln1)
        dx = c.residual_backward(dx, dln1)
    grads["wpe.weight"] = np.zeros((cfg.block_size, C))
    grads["wpe.weight"][:T] = dx.sum(axis=0)
    # the token embedding is used twice: as the lookup table and (transposed) as the output layer
    grads["wte.weight"] = c.embedding_backward(dx, tok_cache) + dW_head.T
    return grads


def loss_and_grads(params, cfg: GPTConfig, idx: np.ndarray, targets: np.ndarray):
    _, loss, cache = forward(params, cfg, idx, targets)
    return loss, backward(cache)


def adamw_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
               decay=lambda name: True):
    """One ``torch.optim.AdamW`` step, in place on ``params``; ``state`` holds t, m and v.

    (adamw-decay)  θ ← θ − η λ θ                 (decoupled weight decay, applied first)
    (adamw-m)      m ← β₁ m + (1 − β₁) g
    (adamw-v)      v ← β₂ v + (1 − β₂) g²
    (adamw-step)   θ ← θ − η m̂ / (√v̂ + ε),   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
    """
    b1, b2 = betas
    state["t"] = state.get("t", 0) + 1
    t = state["t"]
    for name, p in params.items():
        g = grads[name]
        if g.shape != p.shape:
            raise ValueError(f"gradient of {name} must have shape {p.shape}; got {g.shape}")
        m = state.setdefault(("m", name), np.zeros_like(p))
        v = state.setdefault(("v", name), np.zeros_like(p))
        if decay(name):
            p *= 1.0 - lr * weight_decay
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * g * g
        m_hat = m / (1.0 - b1 ** t)
        v_hat = v / (1.0 - b2 ** t)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)


def forward_flops(cfg: GPTConfig, T: int) -> dict[str, float]:
    """Floating-point operations of one forward pass over a sequence of ``T`` tokens, per token.

    A multiply-add counts as 2. Attention is counted as computed here: full ``T × T`` score
    matrices with the future masked, so QKᵀ and AV each cost ``2 T C`` per token. Element-wise
    work (layer norms, softmax, GELU, residual adds) is counted too, with the operation counts
    written next to each term; it is small next to the matmuls but not zero.
    """
    C, V, L = cfg.n_embd, cfg.vocab_size, cfg.n_layer
    per_token = {
        "qkv projection": L * 2 * C * 3 * C,
        "attention scores QK^T": L * 2 * T * C,
        "attention mix AV": L * 2 * T * C,
        "attention output projection": L * 2 * C * C,
        "MLP (two matmuls)": L * 2 * (2 * C * 4 * C),
        "output layer (logits)": 2 * C * V,
        # element-wise: biases (3C + C + 4C + C per layer), residual adds (2C per layer),
        # layer norms (~8 ops per element: mean, centre, square, mean, rsqrt, scale, gain, shift),
        # softmax over T scores per head (~5 ops per score: max, subtract, exp, sum, divide),
        # scaling of scores (1 op per score), GELU (~8 ops per element), position add (C)
        "element-wise (norms, softmax, GELU, biases, residuals)":
            L * (9 * C + 2 * C + 2 * 8 * C + 6 * T * cfg.n_head + 8 * 4 * C) + 8 * C + C + 5 * V,
    }
    per_token["total"] = sum(per_token.values())
    return per_token
