"""The pooled hidden states a trained classifier's head reads (or every layer's, pooled the same way),
for inputs by index: what internals-based detectors (oversight/detectors/) inspect. A probe's states
are its frozen features."""

from __future__ import annotations

import numpy as np
import torch

from oversight.training import distributed as dist
from oversight.training.device import autocast, batch_tokens
from oversight.training.trainer import in_order, to_device


@torch.inference_mode()
def pooled_states(model: torch.nn.Module, source, indices: np.ndarray, batch_size: int, device: torch.device,
                  bf16: bool = False, every_layer: bool = False) -> np.ndarray:
    """[len(indices), hidden] float32 (with `every_layer`, [len(indices), layers + 1, hidden]), in
    `indices` order; each rank computes all rows (no sharding)."""
    model.eval()
    source = source.for_model(model)
    indices = np.asarray(indices)
    read = model.layer_features if every_layer else model.features

    def states():
        for batch_idx in source.eval_batches(indices, batch_size, batch_tokens(device)) if len(indices) else []:
            with autocast(device, bf16):
                yield batch_idx, read(**to_device(source.collate(batch_idx), device)).float().cpu().numpy()

    out = in_order(indices, states())
    dist.barrier()
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
