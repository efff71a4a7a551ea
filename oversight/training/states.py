"""The pooled hidden states a trained classifier's head reads (or every layer's, pooled the same way),
for inputs by index: what internals-based detectors (oversight/detectors/) inspect. A probe's states
are its frozen features."""

from __future__ import annotations

import numpy as np
import torch

from oversight.training import distributed as dist
from oversight.training.device import autocast, batch_tokens
from oversight.training.trainer import to_device


@torch.inference_mode()
def pooled_states(model: torch.nn.Module, source, indices: np.ndarray, batch_size: int, device: torch.device,
                  bf16: bool = False, every_layer: bool = False) -> np.ndarray:
    """[len(indices), hidden] float32 (with `every_layer`, [len(indices), layers + 1, hidden]), in
    `indices` order; each rank computes all rows (no sharding)."""
    model.eval()
    indices = np.asarray(indices)
    position = {int(i): p for p, i in enumerate(indices)}
    out: np.ndarray | None = None
    for batch_idx in source.eval_batches(indices, batch_size, batch_tokens(device)) if len(indices) else []:
        with autocast(device, bf16):
            read = model.layer_features if every_layer else model.features
            states = read(**to_device(source.collate(batch_idx), device)).float().cpu().numpy()
        if out is None:
            out = np.zeros((len(indices), *states.shape[1:]), dtype=np.float32)
        out[[position[int(i)] for i in batch_idx]] = states
    dist.barrier()
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
