"""Named experiments that chapters run: each takes plain parameters and returns plain records.

Keeping them here, not in the chapters, means the tests can run the very code the book shows.
"""

from __future__ import annotations

import math

import numpy as np

from . import data, sources, text
from .device import Device
from .model import GPTConfig
from .train import TrainConfig, fit

NATS_TO_BITS = 1.0 / math.log(2.0)


def three_sources(period: int = 16, seed: int = 0, synthetic_length: int = 200_000):
    """Uniform noise, a periodic word, and Tiny Shakespeare, all over the same 65-symbol alphabet.

    Returns ``{name: (train_tokens, val_tokens, exact_h_bits_or_None)}``. Tiny Shakespeare is
    split 90/10 by position as in nanoGPT; the synthetic sources get independent draws for
    validation.
    """
    corpus = data.read_text("tinyshakespeare")
    vocab = text.CharVocab.from_text(corpus)
    k = len(vocab)
    rng = np.random.default_rng(seed)
    noise = sources.IID.uniform(k)
    periodic = sources.Periodic.random(period, k, rng)
    n_val = synthetic_length // 10
    out = {}
    for src in (noise, periodic):
        out[src.name] = (src.sample(synthetic_length, rng), src.sample(n_val, rng), src.entropy_rate)
    train, val = text.split(vocab.encode(corpus))
    out["Tiny Shakespeare"] = (train, val, None)
    return out, k


def teaser(steps: int, n_embd: int, block_size: int, batch_size: int, n_seeds: int, seed: int,
           device: Device | None = None) -> tuple[list[dict], dict]:
    """Train one tiny GPT per source and seed; return loss-curve records (bits) and run facts."""
    datasets, k = three_sources(seed=seed)
    model_cfg = GPTConfig(vocab_size=k, block_size=block_size, n_layer=2, n_head=4, n_embd=n_embd)
    records, n_params = [], None
    for name, (train, val, h) in datasets.items():
        for s in range(n_seeds):
            tc = TrainConfig(max_iters=steps, batch_size=batch_size, seed=seed + s,
                             learning_rate=3e-3, min_lr=3e-4, beta2=0.95,
                             eval_interval=max(1, steps // 10), eval_iters=8,
                             warmup_iters=max(1, min(20, steps // 10)))
            run = fit(model_cfg, tc, train, val, device)
            n_params = run.n_params
            for row in run.history:
                records.append({"source": name, "seed": seed + s, "step": row["step"],
                                "val_bits": row["val_loss"] * NATS_TO_BITS,
                                "exact_h": h})
    return records, {"n_params": n_params, "alphabet": k, "model": model_cfg}


# --- Part I ------------------------------------------------------------------------------------

def matmul_share(params, cfg: GPTConfig, idx: np.ndarray, repeats: int) -> dict:
    """Median wall time of the numpy forward, and of the same matmuls alone (same shapes, same data
    type), replayed. Their ratio is the share of the forward spent in matrix multiplication."""
    import time

    from . import numpy_gpt

    B, T = idx.shape
    C, H, V = cfg.n_embd, cfg.n_head, cfg.vocab_size
    D = C // H
    shapes = []
    for _ in range(cfg.n_layer):
        shapes += [((B * T, C), (C, 3 * C)), ((B, H, T, D), (B, H, D, T)), ((B, H, T, T), (B, H, T, D)),
                   ((B * T, C), (C, C)), ((B * T, C), (C, 4 * C)), ((B * T, 4 * C), (4 * C, C))]
    shapes.append(((B * T, C), (C, V)))
    rng = np.random.default_rng(0)
    operands = [(rng.normal(size=a), rng.normal(size=b)) for a, b in shapes]

    def median_time(fn):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    forward = median_time(lambda: numpy_gpt.forward(params, cfg, idx))
    matmuls = median_time(lambda: [a @ b for a, b in operands])
    return {"forward_s": forward, "matmul_s": matmuls, "share": matmuls / forward}


def gradient_errors(trials: int, seed: int) -> list[dict]:
    """Maximum relative error of each hand gradient against torch autograd (float64), over
    ``trials`` random inputs and shapes, including batch 1 and sequence length 1."""
    import torch
    import torch.nn.functional as F

    from . import calculus as c
    from . import numpy_gpt
    from .model import GPT

    rng = np.random.default_rng(seed)

    def rel(a, b):
        b = b.detach().numpy() if hasattr(b, "detach") else b
        return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))

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


def train_numpy_and_torch(steps: int, n_layer: int, n_embd: int, block_size: int, batch_size: int,
                          learning_rate: float, seed: int) -> tuple[list[dict], dict]:
    """Train the numpy GPT and the torch GPT from identical weights on identical batches (float64).

    Both use AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices only) at a constant
    learning rate. Returns per-step losses of both and the final parameter differences.
    """
    import torch

    from . import numpy_gpt
    from .model import GPT

    corpus = data.read_text("tinyshakespeare")
    vocab = text.CharVocab.from_text(corpus)
    train, _ = text.split(vocab.encode(corpus))
    cfg = GPTConfig(vocab_size=len(vocab), block_size=block_size, n_layer=n_layer, n_head=2,
                    n_embd=n_embd)
    torch.manual_seed(seed)
    model = GPT(cfg).double()
    params = numpy_gpt.from_torch(model)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    betas, eps, wd = (0.9, 0.95), 1e-8, 0.1
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=learning_rate, betas=betas, eps=eps)
    state: dict = {}
    rng = np.random.default_rng(seed)
    records = []
    for step in range(steps):
        starts = rng.integers(len(train) - block_size, size=batch_size)
        window = train[starts[:, None] + np.arange(block_size + 1)]
        x, y = window[:, :-1], window[:, 1:]
        np_loss, grads = numpy_gpt.loss_and_grads(params, cfg, x, y)
        numpy_gpt.adamw_step(params, grads, state, lr=learning_rate, betas=betas, eps=eps,
                             weight_decay=wd, decay=lambda name: params[name].ndim >= 2)
        _, loss = model(torch.tensor(x), torch.tensor(y))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        records.append({"step": step + 1, "implementation": "numpy (by hand)", "loss": float(np_loss)})
        records.append({"step": step + 1, "implementation": "torch (autograd)", "loss": loss.item()})
    reference = numpy_gpt.to_torch_layout(params)
    state_dict = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    abs_diff = max(float(np.abs(reference[k] - v.numpy()).max()) for k, v in state_dict.items())
    scale = max(float(np.abs(v.numpy()).max()) for v in state_dict.values())
    return records, {"max_abs_param_diff": abs_diff, "max_abs_param": scale,
                     "n_params": model.num_params(), "vocab": len(vocab)}


# --- Part II -----------------------------------------------------------------------------------

def shakespeare_run(n_layer: int, n_head: int, n_embd: int, block_size: int, batch_size: int,
                    max_iters: int, eval_interval: int, eval_iters: int, dropout: float,
                    learning_rate: float, seed: int, sample_chars: int, compile: bool = False,
                    device: Device | None = None) -> dict:
    """Train a GPT on Tiny Shakespeare with nanoGPT's schedule, sampling text at every evaluation.

    Returns the run, the samples (``{step, val_loss, text}``), the loss over the whole validation
    split, and the matmul peak measured on the same device (for MFU).
    """
    import torch

    from .device import pick
    from .flops import matmul_peak
    from .train import TrainConfig, fit, shakespeare_char, split_loss

    device = device or pick()
    train, val, vocab = shakespeare_char()
    model_cfg = GPTConfig(vocab_size=len(vocab), block_size=block_size, n_layer=n_layer,
                          n_head=n_head, n_embd=n_embd, dropout=dropout, bias=False)
    tc = TrainConfig(max_iters=max_iters, lr_decay_iters=max_iters, batch_size=batch_size,
                     learning_rate=learning_rate, min_lr=learning_rate / 10,
                     warmup_iters=min(100, max_iters // 10), eval_interval=eval_interval,
                     eval_iters=eval_iters, seed=seed, compile=compile)
    newline = vocab.encode("\n")
    samples = []

    def sample(model, row):
        # Its own generator: sampling must not disturb the training run's random streams.
        gen = torch.Generator(device=device.torch).manual_seed(seed)
        start = torch.as_tensor(newline, device=device.torch)[None]
        model.eval()
        out = model.generate(start, sample_chars, generator=gen)[0, 1:].tolist()
        model.train()
        samples.append({"step": row["step"], "val_loss": row["val_loss"], "text": vocab.decode(out)})

    run = fit(model_cfg, tc, train, val, device, on_eval=sample if sample_chars else None)
    return {"run": run, "samples": samples,
            "val_loss_whole_split": split_loss(run.model, val, block_size, device),
            "peak_flops": matmul_peak(device.torch, device.autocast_dtype or torch.float32)}


# (n_layer, n_head, n_embd): each rung multiplies the non-embedding parameter count by about 2-4.
SCALING_LADDER = [(1, 2, 16), (2, 2, 24), (2, 2, 32), (3, 3, 48), (4, 4, 64), (4, 4, 96),
                  (4, 4, 128), (6, 6, 192), (6, 8, 256), (6, 6, 384)]


def non_embedding_params(model) -> int:
    """Kaplan et al.'s N: every parameter except the token and position tables."""
    return model.num_params(include_position=False) - model.wte.weight.numel()


def scaling_family(n_sizes: int, max_iters: int, batch_size: int, block_size: int, n_seeds: int,
                   seed: int, device: Device | None = None) -> tuple[list[dict], float]:
    """Train the first ``n_sizes`` rungs of the ladder, ``n_seeds`` seeds each, on the same tokens.

    Every run sees the same number of training tokens D = max_iters * batch_size * block_size, so
    this measures L(N) at fixed D. Returns one record per run (loss over the whole validation split,
    parameter counts, 6ND, the counted FLOPs, wall time) and the measured matmul peak.
    """
    import time

    import torch

    from .device import pick
    from .flops import flops_per_token, matmul_peak
    from .train import TrainConfig, fit, shakespeare_char, split_loss

    if not 1 <= n_sizes <= len(SCALING_LADDER):
        raise ValueError(f"n_sizes must be in [1, {len(SCALING_LADDER)}]; got {n_sizes}")
    device = device or pick()
    train, val, vocab = shakespeare_char()
    tokens = max_iters * batch_size * block_size
    records = []
    for n_layer, n_head, n_embd in SCALING_LADDER[:n_sizes]:
        cfg = GPTConfig(vocab_size=len(vocab), block_size=block_size, n_layer=n_layer,
                        n_head=n_head, n_embd=n_embd, dropout=0.0, bias=False)
        for s in range(n_seeds):
            tc = TrainConfig(max_iters=max_iters, lr_decay_iters=max_iters, batch_size=batch_size,
                             learning_rate=1e-3 if n_embd >= 256 else 2e-3, min_lr=1e-4,
                             warmup_iters=min(100, max_iters // 10), eval_interval=max_iters,
                             eval_iters=4, seed=seed + s)
            t0 = time.perf_counter()
            run = fit(cfg, tc, train, val, device)
            wall = time.perf_counter() - t0
            n_no_pos = run.model.num_params(include_position=False)
            records.append({
                "size": f"{n_layer}L×{n_embd}", "n_layer": n_layer, "n_embd": n_embd,
                "seed": seed + s, "N": non_embedding_params(run.model),
                "N_total": run.model.num_params(), "D": tokens,
                "val_loss": split_loss(run.model, val, block_size, device),
                "train_loss": run.history[-1]["train_loss"], "wall_s": wall,
                "flops_6ND": 6 * non_embedding_params(run.model) * tokens,
                "flops_counted": flops_per_token(cfg, n_no_pos) * tokens,
                "train_s": sum(run.iter_seconds)})
    return records, matmul_peak(device.torch, device.autocast_dtype or torch.float32)
