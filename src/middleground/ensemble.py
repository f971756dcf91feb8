"""Many small GPTs trained as one batched computation.

A sweep trains the same architecture many times: seeds × knob settings. Run one after another,
tiny models spend most of their time in the fixed cost of launching small operations (the scaling
chapter measures their low MFU). Here M models of one architecture are stacked: every weight gains a
leading model axis, every matmul becomes one batched matmul over that axis, and attention runs
over (model × batch) sequences at once. Each member still has its own initial weights (the
:class:`~middleground.model.GPT` initialisation with its own seed), its own data stream, its own
gradient clipping and its own AdamW moments, so member m computes exactly what a separate GPT
trained on the same batches would (tests check losses and gradients in float64).

The loss that is differentiated is the *sum* of the members' mean losses, so each member's
gradient is the gradient of its own loss. AdamW is element-wise, so one optimiser over the
stacked tensors equals M optimisers; clipping is not, so it is done per member by hand.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .device import Device, pick
from .model import GPT, GPTConfig
from .train import TrainConfig, lr_at

# Names of the stacked parameters, in the layout of GPT.state_dict() per block.
_BLOCK = ("ln_1.weight", "ln_1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
          "attn.proj.bias", "ln_2.weight", "ln_2.bias", "mlp.fc.weight", "mlp.fc.bias",
          "mlp.proj.weight", "mlp.proj.bias")
_SAFE = {name.replace(".", "_"): name for name in _BLOCK}  # ParameterDict keys cannot hold dots


class EnsembleGPT(nn.Module):
    """M GPTs of one configuration with stacked weights: parameters have shape (M, ...)."""

    def __init__(self, cfg: GPTConfig, members: list[GPT]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        if cfg.dropout != 0.0:
            raise ValueError("ensembles train without dropout (the sweeps' tiny models do not use it)")
        self.cfg = cfg
        self.M = len(members)
        states = [m.state_dict() for m in members]

        def stack(key):
            return nn.Parameter(torch.stack([s[key].detach().clone() for s in states]))

        self.wte = stack("wte.weight")
        self.wpe = stack("wpe.weight")
        self.blocks = nn.ModuleList()
        for i in range(cfg.n_layer):
            block = nn.ParameterDict()
            for name in _BLOCK:
                key = f"blocks.{i}.{name}"
                if key in states[0]:
                    # nn.Linear stores (out, in); keep (M, in, out) so forward is x @ W.
                    p = stack(key)
                    block[name.replace(".", "_")] = nn.Parameter(
                        p.transpose(1, 2).contiguous()) if p.dim() == 3 else p
            self.blocks.append(block)
        self.ln_f_weight = stack("ln_f.weight")
        self.ln_f_bias = stack("ln_f.bias") if "ln_f.bias" in states[0] else None

    @classmethod
    def fresh(cls, cfg: GPTConfig, seeds: list[int]) -> "EnsembleGPT":
        """Members initialised exactly as ``GPT(cfg)`` after ``torch.manual_seed(seed)``."""
        members = []
        for s in seeds:
            torch.manual_seed(s)
            members.append(GPT(cfg))
        return cls(cfg, members)

    def member(self, m: int) -> GPT:
        """Member ``m`` as an ordinary GPT (a copy of its current weights)."""
        gpt = GPT(self.cfg)
        state = {"wte.weight": self.wte[m], "wpe.weight": self.wpe[m], "ln_f.weight": self.ln_f_weight[m],
                 "lm_head.weight": self.wte[m]}
        if self.ln_f_bias is not None:
            state["ln_f.bias"] = self.ln_f_bias[m]
        for i, block in enumerate(self.blocks):
            for key, p in block.items():
                value = p[m].transpose(0, 1) if p.dim() == 3 else p[m]
                state[f"blocks.{i}.{_SAFE[key]}"] = value
        gpt.load_state_dict({k: v.detach().clone() for k, v in state.items()})
        return gpt

    def _norm(self, x, weight, bias):
        y = F.layer_norm(x, (x.shape[-1],), eps=1e-5)
        y = y * weight[:, None, None, :]
        return y + bias[:, None, None, :] if bias is not None else y

    @staticmethod
    def _linear(x, block, name):
        M, B, T, C = x.shape
        y = torch.bmm(x.reshape(M, B * T, C), block[f"{name}_weight"])
        bias = block[f"{name}_bias"] if f"{name}_bias" in block else None
        if bias is not None:
            y = y + bias[:, None, :]
        return y.view(M, B, T, -1)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """``idx``: (M, B, T) token ids, one batch per member. Returns logits (M, B, T, V) and the
        per-member mean losses (M,)."""
        M, B, T = idx.shape
        if M != self.M:
            raise ValueError(f"expected a batch for each of {self.M} members; got {M}")
        if T > self.cfg.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size {self.cfg.block_size}")
        C, H = self.cfg.n_embd, self.cfg.n_head
        members = torch.arange(M, device=idx.device)[:, None, None]
        x = self.wte[members, idx] + self.wpe[:, None, :T, :]
        for block in self.blocks:
            h = self._norm(x, block["ln_1_weight"], block.get("ln_1_bias"))
            q, k, v = self._linear(h, block, "attn_qkv").split(C, dim=-1)
            q, k, v = (t.reshape(M * B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).reshape(M, B, T, C)
            x = x + self._linear(y, block, "attn_proj")
            h = self._norm(x, block["ln_2_weight"], block.get("ln_2_bias"))
            x = x + self._linear(F.gelu(self._linear(h, block, "mlp_fc")), block, "mlp_proj")
        x = self._norm(x, self.ln_f_weight, self.ln_f_bias)
        logits = torch.bmm(x.reshape(M, B * T, C), self.wte.transpose(1, 2)).view(M, B, T, -1)
        if targets is None:
            return logits, None
        flat = logits.reshape(M * B * T, -1)
        flat = flat if flat.dtype == torch.float64 else flat.float()
        losses = F.cross_entropy(flat, targets.reshape(-1), reduction="none").view(M, B * T).mean(1)
        return logits, losses


def clip_per_member(model: EnsembleGPT, max_norm: float) -> torch.Tensor:
    """Scale each member's gradient so its global norm is at most ``max_norm``; return the norms."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    sq = torch.stack([g.pow(2).reshape(g.shape[0], -1).sum(1) for g in grads]).sum(0)
    norms = sq.sqrt()
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
    return norms


def make_optimizer(model: EnsembleGPT, tc: TrainConfig) -> torch.optim.AdamW:
    # The same split as the single-model trainer: per-member matrices (dim >= 3 here, or the
    # embedding tables) decay; gains and biases do not.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 3 else no_decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": tc.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=tc.learning_rate, betas=(tc.beta1, tc.beta2), foreach=True)


def member_batches(streams: list[torch.Tensor], block_size: int, batch_size: int,
                   gen: torch.Generator, stride: int | None = None):
    """One batch per member from its own stream: (M, B, T) inputs and targets.

    ``stride``: windows start only at multiples of it (for streams made of independent segments
    of ``stride`` tokens, so that no window straddles two segments)."""
    xs, ys = [], []
    for s in streams:
        if stride is None:
            starts = torch.randint(len(s) - block_size, (batch_size,), generator=gen)
        else:
            starts = stride * torch.randint((len(s) - block_size - 1) // stride + 1, (batch_size,),
                                            generator=gen)
        chunk = s[starts[:, None] + torch.arange(block_size + 1)]
        xs.append(chunk[:, :-1])
        ys.append(chunk[:, 1:])
    return torch.stack(xs), torch.stack(ys)


@torch.no_grad()
def evaluate_members(model: EnsembleGPT, xy, device: Device) -> np.ndarray:
    """Per-member mean loss on fixed evaluation batches ``(M, N, T)``."""
    x, y = xy
    with device.autocast():
        _, losses = model(x.to(device.torch), y.to(device.torch))
    return losses.float().cpu().numpy()


@dataclass
class EnsembleRun:
    model: EnsembleGPT
    history: list[dict]  # {"step", "val_loss": [M]}
    seconds: float
    tokens_per_member: int


def fit_ensemble(cfg: GPTConfig, tc: TrainConfig, train_streams, val_streams, seeds: list[int],
                 device: Device | None = None, eval_steps=None, stride: int | None = None,
                 on_eval=None) -> EnsembleRun:
    """Train len(seeds) models at once; member m trains on ``train_streams[m]``.

    Evaluations happen at step 0, at multiples of ``tc.eval_interval`` and at the end (or at the
    explicit ``eval_steps``), on ``tc.eval_iters`` fixed batches of each member's validation stream.
    Batches are drawn from one generator seeded with ``seeds[0]``: the ensemble as a whole is
    reproducible from its seeds. ``on_eval(model, step)`` may return extra per-member measurements
    (a dict of lists of length M), stored in the history row under ``"extra"``.
    """
    device = device or pick()
    M = len(seeds)
    if not (len(train_streams) == len(val_streams) == M):
        raise ValueError("need one train and one validation stream per seed")
    train_t = [torch.as_tensor(np.asarray(s), dtype=torch.long) for s in train_streams]
    val_t = [torch.as_tensor(np.asarray(s), dtype=torch.long) for s in val_streams]
    for s in train_t + val_t:
        if len(s) < cfg.block_size + 1:
            raise ValueError(f"every stream needs at least block_size + 1 = {cfg.block_size + 1} tokens")
        if int(s.min()) < 0 or int(s.max()) >= cfg.vocab_size:
            raise ValueError(f"tokens must lie in [0, vocab_size={cfg.vocab_size})")
    eval_gen = torch.Generator().manual_seed(2)
    val_xy = member_batches(val_t, cfg.block_size, tc.batch_size * tc.eval_iters, eval_gen, stride)
    model = EnsembleGPT.fresh(cfg, seeds).to(device.torch)
    opt = make_optimizer(model, tc)
    gen = torch.Generator().manual_seed(seeds[0])
    steps = set(eval_steps) if eval_steps is not None else {
        s for s in range(0, tc.max_iters + 1, tc.eval_interval)} | {tc.max_iters}
    def record(step):
        row = {"step": step, "val_loss": evaluate_members(model, val_xy, device).tolist()}
        if on_eval is not None:
            row["extra"] = on_eval(model, step)
        history.append(row)

    history: list[dict] = []
    if 0 in steps:
        record(0)
    start = time.perf_counter()
    for it in range(tc.max_iters):
        for group in opt.param_groups:
            group["lr"] = lr_at(it, tc)
        x, y = member_batches(train_t, cfg.block_size, tc.batch_size, gen, stride)
        with device.autocast():
            _, losses = model(x.to(device.torch), y.to(device.torch))
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        if tc.grad_clip > 0:
            clip_per_member(model, tc.grad_clip)
        opt.step()
        if it + 1 in steps:
            record(it + 1)
    seconds = time.perf_counter() - start
    if not all(math.isfinite(v) for v in history[-1]["val_loss"]):
        raise FloatingPointError("an ensemble member's loss became non-finite; lower the learning rate")
    return EnsembleRun(model, history, seconds, tc.max_iters * tc.batch_size * cfg.block_size)
