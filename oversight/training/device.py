"""Where training runs and with which numerics: CUDA with bf16 autocast and TF32 when present, CPU fp32
unless a run asks for bf16 there too (`cpu_bf16`: matmuls 2.3x faster on a CPU with AVX512-BF16 or AMX).

Nothing here queries hardware at import time; callers ask when they build a run.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch

from oversight.errors import ConfigError


def pick_device(requested: str = "auto") -> torch.device:
    """The device to run on; asking for a CUDA device this machine lacks is a ConfigError."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device={requested}: this torch sees no CUDA device (torch {torch.__version__}); use device=cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device={requested}: only {torch.cuda.device_count()} CUDA device(s) are visible")
    return device


def configure_matmul(device: torch.device, tf32: bool) -> None:
    """TF32 matmuls trade ~3 mantissa digits for up to 8x speed on Ampere+; no effect on CPU."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on `device` (CUDA or CPU) when `bf16`, else fp32 as the weights are.

    Callers decide per device (`TrainConfig.autocasts`): CPU runs stay fp32-exact unless asked.
    """
    if bf16 and device.type in ("cuda", "cpu"):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def native_bf16(device: torch.device) -> bool:
    """Whether `device` multiplies bf16 in hardware (else bf16 autocast is emulated, and slower than fp32).

    On an x86 CPU that is the AVX512-BF16 or AMX-BF16 instructions (oneDNN also runs bf16 on plain
    AVX-512, by converting: slower than fp32); elsewhere torch's own check stands in.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type != "cpu":
        return False
    try:
        flags = set(next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split())
    except (OSError, StopIteration):
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def batch_tokens(device: torch.device) -> int:
    """Padded tokens per inference batch at most (0 = no cap beyond the batch size).

    A CPU predicts fastest on batches that stay in its caches: on the 2-core VM, MiniLM-L6 labelled
    multiemo (23 tokens a row) at 190 rows/s in batches of 32-64 rows and 137 rows/s in batches of 256.
    """
    return 2048 if device.type == "cpu" else 0


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a generator for data order so it is independent of init."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
