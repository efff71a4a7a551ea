"""Model FLOPs, the machine's dense-matmul rate, and peak memory, for `oversight bench`.

Model FLOPs count useful work only, so padding shows up as lost throughput:

    forward(sequence of T real tokens) = 2 · N · T + 4 · n_layers · T² · d_model
    training step                      = 3 × forward (backward ≈ 2 × forward)

N is the number of non-embedding parameters (embedding lookups are not matmuls); the second term
is attention's two T×T products (QKᵀ and A·V) per layer (Kaplan et al. 2020; PaLM's MFU appendix).
Pad tokens are never counted. The matmul rate is timed on the same machine in the same run with
one large fp32 `torch.matmul`, so "fraction of matmul rate" is an MFU measured against what this
machine really delivers rather than against a datasheet.
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

EMBEDDING_NAMES = ("embeddings", "wte", "wpe", "embed_tokens", "embed_in")  # BERT, GPT-2, Llama/Qwen, GPT-NeoX


@dataclass(frozen=True)
class ModelShape:
    """What the FLOP formula needs to know about a transformer."""

    nonembedding_params: int
    n_layers: int
    d_model: int

    @classmethod
    def of(cls, model: torch.nn.Module) -> ModelShape:
        """Shape of a module holding a HF transformer at `.backbone` (or being one)."""
        backbone = getattr(model, "backbone", model)
        config = backbone.config
        embedding = sum(p.numel() for name, p in backbone.named_parameters() if any(e in name for e in EMBEDDING_NAMES))
        total = sum(p.numel() for p in model.parameters())
        return cls(total - embedding, int(config.num_hidden_layers), int(config.hidden_size))

    def forward_flops(self, lengths: np.ndarray) -> float:
        """Model FLOPs of one forward pass over sequences with these real (unpadded) lengths."""
        lengths = np.asarray(lengths, dtype=np.float64)
        return float(2.0 * self.nonembedding_params * lengths.sum() + 4.0 * self.n_layers * self.d_model * (lengths ** 2).sum())


def matmul_dtype(device: torch.device) -> torch.dtype:
    """The dtype our loops multiply in: bf16 under autocast on CUDA, fp32 on CPU."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def matmul_flops_per_second(device: torch.device, size: int = 2048, seconds: float = 1.0, dtype: torch.dtype | None = None) -> float:
    """Dense matmul rate (FLOP/s) of `size`×`size` products in `dtype` (default `matmul_dtype`), best of repeated timings.

    On CPU it uses every torch thread; on CUDA it is the bf16 rate, the one our autocast loops can reach.
    """
    a = torch.randn(size, size, device=device, dtype=dtype or matmul_dtype(device))
    b = torch.randn(size, size, device=device, dtype=dtype or matmul_dtype(device))
    torch.matmul(a, b)  # warm-up: thread pool, kernel selection
    sync(device)
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds or best == 0.0:
        t = time.perf_counter()
        torch.matmul(a, b)
        sync(device)
        best = max(best, 2.0 * size**3 / (time.perf_counter() - t))
    return best


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _release_freed_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc `malloc_trim`), so the RSS a
    block starts from holds no memory an earlier block freed but the allocator kept."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the rise may be understated by reused free pages
        pass


class PeakMemory:
    """Peak memory while the block runs: `max_memory_allocated` on CUDA, sampled process RSS on CPU.

    CPU RSS includes everything the process holds (Python, torch, the loaded models), so it grows
    with whatever ran before; `rise_mb` is the block's own share: the peak minus the RSS at its
    start, taken after freed memory is returned to the OS. On CUDA the rise is over the memory
    allocated at the start. `getrusage` cannot be reset per block, hence sampling.
    """

    def __init__(self, device: torch.device, interval: float = 0.01) -> None:
        self.device, self.interval = device, interval
        self.peak_mb = self.rise_mb = 0.0
        self._stop = threading.Event()
        self._peak = self._start = 0

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
        else:
            _release_freed_memory()
            self._peak = self._start = _rss_bytes()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            self._peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, _rss_bytes())
        self.peak_mb, self.rise_mb = self._peak / 2**20, (self._peak - self._start) / 2**20
