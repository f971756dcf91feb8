"""One helper that decides where and in what precision torch runs.

CUDA first, then Apple's MPS, then the CPU. On CUDA, matmuls run under bf16 autocast (when the GPU
supports it); elsewhere everything stays in fp32, because CPU autocast to bf16 is usually slower
than fp32 on the small models of this book.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from ..base import profiles


@dataclass(frozen=True)
class Device:
    type: str  # "cuda" | "mps" | "cpu"
    name: str  # human-readable, for the provenance box
    autocast_dtype: torch.dtype | None

    @property
    def torch(self) -> torch.device:
        return torch.device(self.type)

    def autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.type, dtype=self.autocast_dtype)


def default_profile() -> str:
    """The profile a run with none given uses: ``$MIDDLEGROUND_PROFILE``, else ``gpu`` with CUDA
    and ``full`` without."""
    return profiles.default_profile(cuda=torch.cuda.is_available())


def pick(requested: str | None = None) -> Device:
    """The best available device, or ``requested`` ("cuda", "mps", "cpu") if it is available."""
    choices = ("cuda", "mps", "cpu")
    if requested is not None and requested not in choices:
        raise ValueError(f"device must be one of {', '.join(choices)} or None; got {requested!r}")
    has = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if requested is not None and not has[requested]:
        raise ValueError(f"device {requested!r} was requested but is not available here")
    kind = requested or next(c for c in choices if has[c])
    if kind == "cuda":
        bf16 = torch.cuda.is_bf16_supported()
        return Device("cuda", torch.cuda.get_device_name(0), torch.bfloat16 if bf16 else None)
    if kind == "mps":
        return Device("mps", "Apple MPS", None)
    import platform

    return Device("cpu", f"CPU ({platform.processor() or platform.machine()}, "
                         f"{torch.get_num_threads()} threads)", None)
