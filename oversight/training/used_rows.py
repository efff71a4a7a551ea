"""Fine-tune only the embedding rows a stage's tokens use: AdamW's exact update, without the rest.

Full fine-tuning updates every weight, and the input embedding is most of a small model
(MiniLM-L3: 11.7M of its 17.4M weights; SmolLM2-135M: 28M of 135M), while a stage's texts use a
few thousand of its 30k-50k rows. A row that no token of the stage uses gets a zero gradient at
every step, so AdamW's moments for it stay zero and its only change is decoupled weight decay,
p ← p·(1 − lr_t·λ). So during `train` the embedding is swapped for a table of the rows the
stage's rows (trained and held out) and the pad token use, indexed through a lookup from token
id, and afterwards each unused row is multiplied by ∏ₜ(1 − lr_t·λ) over the steps the kept
weights took. The weights come out the same up to float rounding (tests/test_used_rows.py), while
no step allocates, zeroes, clips or updates the full table's gradient and moments, and model
selection copies the small table. Only a plain `nn.Embedding` that is trained, not tied to another
weight, not sharded (FSDP) and without max_norm, scale_grad_by_freq or sparse gradients is swapped;
anything else trains its full table as before. The table is 2-D, so `build_optimizer` decays it.
A resume checkpoint holds the small table: it resumes in the same `parallel` mode (a checkpoint
from the other mode does not fit and training restarts, with one line saying so).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from oversight.training.batching import BatchSource, TokenSource


class UsedRows(nn.Module):
    """The used rows of an embedding as its trainable table; forward(token ids) as the full one's."""

    def __init__(self, full: nn.Embedding, rows: torch.Tensor) -> None:
        super().__init__()
        self.full, self.rows = [full], rows  # a list: the full table is not a submodule (not trained, not saved)
        lut = torch.full((full.num_embeddings,), -1, dtype=torch.long, device=full.weight.device)  # a stray id fails, never reads another row
        lut[rows] = torch.arange(len(rows), device=lut.device)
        self.register_buffer("lut", lut, persistent=False)
        self.weight = nn.Parameter(full.weight.detach()[rows].clone())
        self.padding_idx = int(lut[full.padding_idx]) if full.padding_idx is not None else None
        self.num_embeddings, self.embedding_dim = full.num_embeddings, full.embedding_dim

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(self.lut[input_ids], self.weight, self.padding_idx)

    @torch.no_grad()
    def written_back(self, decay: float) -> nn.Embedding:
        """The full table with the trained rows written in and every other row decayed by `decay`."""
        full = self.full[0]
        full.weight.mul_(decay)  # in place over the whole table (no gather of the unused rows), then the used rows overwritten
        full.weight[self.rows] = self.weight.detach().to(full.weight.dtype)
        return full


def swap_in(model: nn.Module, source: BatchSource, indices: np.ndarray) -> UsedRows | None:
    """Put a `UsedRows` table in place of `model`'s input embedding for training on `indices`; None
    (nothing swapped) where the exact update cannot be kept this way or the source has no tokens."""
    backbone = getattr(model, "backbone", None)
    if not isinstance(source, TokenSource) or not hasattr(backbone, "get_input_embeddings"):
        return None
    full = backbone.get_input_embeddings()
    if (type(full) is not nn.Embedding or not full.weight.requires_grad or full.max_norm is not None or full.scale_grad_by_freq
            or full.sparse or _tied(model, full.weight)):
        return None
    ids = [source.tokens.ids[i] for i in np.asarray(indices)]
    used = np.unique(np.fromiter((t for row in ids for t in row), dtype=np.int64))
    extra = [source.tokens.pad_id] + ([full.padding_idx] if full.padding_idx is not None else [])
    rows = torch.from_numpy(np.union1d(used, np.asarray(extra, dtype=np.int64)))
    if len(rows) >= full.num_embeddings:
        return None
    table = UsedRows(full, rows.to(full.weight.device))
    full.weight.requires_grad_(False)
    backbone.set_input_embeddings(table)
    return table


def swap_out(model: nn.Module, table: UsedRows, decay: float | None) -> None:
    """Put the full embedding back, with the trained rows and every unused row's weight decay
    (`decay` None: as it was before training, for a stage that failed)."""
    full = table.written_back(decay) if decay is not None else table.full[0]
    full.weight.requires_grad_(True)
    model.backbone.set_input_embeddings(full)


def decay_over(lr_at: Callable[[int], float], weight_decay: float, steps: int) -> float:
    """∏ₜ(1 − lr_t·λ) over optimizer steps 0..steps-1: what AdamW does to a weight with no gradient."""
    factors = 1.0 - np.fromiter((lr_at(t) for t in range(steps)), dtype=np.float64, count=steps) * weight_decay
    return float(np.prod(factors))


def _tied(model: nn.Module, weight: torch.Tensor) -> bool:
    return sum(p is weight for _, p in model.named_parameters(remove_duplicate=False)) > 1
