"""Many small GPTs trained as one batched computation.

A sweep trains the same architecture many times: seeds × knob settings. Run one after another,
tiny models spend most of their time in the fixed cost of launching small operations (the scaling
chapter measures their low MFU). Here M models of one architecture are stacked: every weight gains a
leading model axis, every matmul becomes one batched matmul over that axis, and attention runs
over (model × batch) sequences at once. Each member still has its own initial weights (the
:class:`~middleground.gpt.model.GPT` initialisation with its own seed), its own data stream and
batch generator (seeded by its own seed, as the single-model trainer seeds its own), its own
evaluation batches, its own gradient clipping and its own AdamW moments. So member m computes what
a separate GPT trained alone would, whatever its companions and its position in the group: the
tests check this to 1e-10 in float64.

The loss that is differentiated is the *sum* of the members' mean losses, so each member's
gradient is the gradient of its own loss. AdamW is element-wise, so one optimiser over the
stacked tensors equals M optimisers; clipping is not, so it is done per member by hand.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .core import EVAL_SEED, TrainConfig, accumulate, adamw, as_tokens, evaluate, fixed_batches, lr_at, random_batch
from .device import Device, pick
from .model import GPT, GPTConfig

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
        # member m's token t is row m * V + t of the stacked tables: one embedding lookup, whose
        # backward is the dense kernel nn.Embedding uses (advanced indexing's is several times slower)
        V = self.cfg.vocab_size
        offsets = (torch.arange(M, device=idx.device) * V)[:, None, None]
        x = F.embedding(idx + offsets, self.wte.reshape(M * V, C)) + self.wpe[:, None, :T, :]
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


@dataclass
class EnsembleRun:
    model: EnsembleGPT
    history: list[dict]  # {"step", "val_loss": [M]}
    seconds: float
    iter_seconds: list[float]  # wall time of each optimisation step (evaluations excluded)


def fit_ensemble(cfg: GPTConfig, tc: TrainConfig, train_streams, val_streams, seeds: list[int],
                 device: Device | None = None, stride: int | None = None,
                 on_eval=None, on_start=None) -> EnsembleRun:
    """Train len(seeds) models at once; member m trains on ``train_streams[m]`` from seed ``seeds[m]``.

    Evaluations happen at step 0, at multiples of ``tc.eval_interval`` and at the end, on ``tc.eval_iters`` fixed batches of each member's validation stream
    (the batches the single-model trainer would use). Member m's weights and training batches come
    from ``seeds[m]`` alone, exactly as :func:`middleground.gpt.train.fit` with ``seed=seeds[m]``
    draws them, so a member's run does not depend on the others. ``on_eval(model, step)`` may
    return extra per-member measurements (a dict of lists of length M), stored in the history row
    under ``"extra"``. ``tc.compile``: the training steps run through ``torch.compile`` (worth it
    on a GPU, or for long runs: compiling takes seconds to a minute; evaluations stay eager).
    ``on_start(cfg, windows_per_step, steps, members)`` is called once as training starts (as
    :func:`middleground.gpt.train.fit`'s).
    """
    device = device or pick()
    M = len(seeds)
    if not (len(train_streams) == len(val_streams) == M):
        raise ValueError("need one train and one validation stream per seed")
    train_t = [as_tokens(s, cfg.vocab_size, cfg.block_size, f"train stream {m}")
               for m, s in enumerate(train_streams)]
    val_t = [as_tokens(s, cfg.vocab_size, cfg.block_size, f"validation stream {m}")
             for m, s in enumerate(val_streams)]
    step_windows = tc.batch_size * tc.gradient_accumulation_steps  # as the single-model trainer
    val_xy = [fixed_batches(v, cfg.block_size, step_windows, tc.eval_iters, EVAL_SEED["val"], stride)
              for v in val_t]
    val_xy = (torch.stack([x for x, _ in val_xy]), torch.stack([y for _, y in val_xy]))
    if on_start is not None:
        on_start(cfg, tc.batch_size * tc.gradient_accumulation_steps, tc.max_iters, M)
    model = EnsembleGPT.fresh(cfg, seeds).to(device.torch)
    opt = adamw(model, tc, device, batch_dims=1)
    # compiled for training steps only (tc.compile): evaluations run the eager model in float32
    step_model = torch.compile(model) if tc.compile else model
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    steps = set(range(0, tc.max_iters + 1, tc.eval_interval)) | {tc.max_iters}

    def clip(m):
        if tc.grad_clip > 0:
            clip_per_member(m, tc.grad_clip)

    def record(step_no):
        row = {"step": step_no, "val_loss": evaluate(model, val_xy, device).tolist()}
        if on_eval is not None:
            row["extra"] = on_eval(model, step_no)
        history.append(row)

    history: list[dict] = []
    record(0)
    start = time.perf_counter()
    iter_seconds = []
    n_micro, size = tc.gradient_accumulation_steps, tc.batch_size
    for it in range(tc.max_iters):
        t0 = time.perf_counter()
        batches = [random_batch(t, cfg.block_size, size * n_micro, g, stride) for t, g in zip(train_t, gens)]
        x, y = torch.stack([b[0] for b in batches]), torch.stack([b[1] for b in batches])
        micro = [(x[:, i * size:(i + 1) * size], y[:, i * size:(i + 1) * size]) for i in range(n_micro)]
        loss = accumulate(step_model, opt, micro, lr_at(it, tc), device, clip)
        if device.type == "cuda":
            loss.sum().item()  # waits for the GPU, so the step's time is its own
        iter_seconds.append(time.perf_counter() - t0)
        if it + 1 in steps:
            record(it + 1)
    seconds = time.perf_counter() - start
    if not all(math.isfinite(v) for v in history[-1]["val_loss"]):
        raise FloatingPointError("an ensemble member's loss became non-finite; lower the learning rate")
    return EnsembleRun(model, history, seconds, iter_seconds)
