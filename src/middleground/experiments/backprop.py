"""The backprop chapter's experiment: the numpy GPT and the torch GPT trained side by side."""

from __future__ import annotations

import numpy as np
import torch

from ..gpt import core
from ..gpt.device import pick
from ..gpt.model import GPT, GPTConfig
from ..gpt.text import shakespeare_char
from ..mechanics import numpy_gpt


def train_numpy_and_torch(steps: int, n_layer: int, n_embd: int, block_size: int, batch_size: int,
                          learning_rate: float, seed: int) -> tuple[list[dict], dict]:
    """Train the numpy GPT and the torch GPT from identical weights on identical batches (float64).

    Both use AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices only) at a constant
    learning rate; the torch side is the training core of every other run of the book
    (:mod:`middleground.gpt.core`: its batches, its weight-decay split, its step). Returns per-step
    losses of both and the final parameter differences.
    """
    train, _, vocab = shakespeare_char()
    cfg = GPTConfig(vocab_size=len(vocab), block_size=block_size, n_layer=n_layer, n_head=2,
                    n_embd=n_embd)
    tc = core.TrainConfig(max_iters=steps, batch_size=batch_size, learning_rate=learning_rate,
                          min_lr=learning_rate, warmup_iters=0, beta2=0.95, weight_decay=0.1,
                          grad_clip=0.0, seed=seed)
    device = pick("cpu")
    torch.manual_seed(seed)
    model = GPT(cfg).double()
    params = numpy_gpt.from_torch(model)
    opt = core.adamw(model, tc, device)
    tokens = torch.as_tensor(train, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    state: dict = {}
    records = []
    for it in range(steps):
        x, y = core.random_batch(tokens, block_size, batch_size, gen)
        np_loss, grads = numpy_gpt.loss_and_grads(params, cfg, x.numpy(), y.numpy())
        numpy_gpt.adamw_step(params, grads, state, lr=learning_rate, betas=(tc.beta1, tc.beta2),
                             eps=1e-8, weight_decay=tc.weight_decay,
                             decay=lambda name: core.decays(params[name].ndim))
        loss = core.step(model, opt, x, y, learning_rate, device)
        records.append({"step": it + 1, "implementation": "numpy (by hand)", "loss": float(np_loss)})
        records.append({"step": it + 1, "implementation": "torch (autograd)", "loss": loss.item()})
    reference = numpy_gpt.to_torch_layout(params)
    state_dict = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    abs_diff = max(float(np.abs(reference[k] - v.numpy()).max()) for k, v in state_dict.items())
    scale = max(float(np.abs(v.numpy()).max()) for v in state_dict.values())
    return records, {"max_abs_param_diff": abs_diff, "max_abs_param": scale,
                     "n_params": model.num_params()}
