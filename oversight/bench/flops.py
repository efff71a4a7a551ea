"""Model FLOPs and the machine's dense-matmul rate, for `oversight bench`.

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
