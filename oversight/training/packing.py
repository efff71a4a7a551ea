"""Sequence packing: the examples of a batch share rows, each attending only to itself.

Padding a batch to its longest example spends compute on pad positions: 17% of a W2S run's
length-grouped training batches on multiemo (540 rows, batch 32, MiniLM's tokenizer) and 70% of a
plain loop's. Packing, as in Krell et al. 2021 ("Efficient sequence packing without
cross-contamination"), places a batch's examples first-fit decreasing into rows as wide as its
longest example and gives the model a block-diagonal attention mask (causal inside a block for a
decoder) and positions that restart at each example, so each example is computed as if it were
alone in its row, up to float summation order. Pooling reads each example from its own block.

A model packs only where that holds. `packing_offset` runs a short packed batch and the same
examples padded through the built model and keeps packing only if their pooled states agree; it
also finds where the model's positions start (0 for BERT or Llama, pad id + 1 for RoBERTa-style
position ids). A model whose forward takes no position ids or 4D mask, or that attends with
anything but SDPA or eager attention (which gets the mask as additive floats), trains and predicts
on padded batches as before.
"""

from __future__ import annotations

import numpy as np
import torch

from oversight.training.batching import Tokenized, collate_tokens

PACKED_KEYS = ("segment_ids", "starts", "ends")  # what a packed batch adds to input_ids and position_ids


def first_fit_rows(lengths: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Rows as wide as the longest example, filled first-fit in decreasing length.
    Returns (width, row of each example, its first column)."""
    width = int(lengths.max())
    row_of = np.empty(len(lengths), dtype=np.int64)
    col_of = np.empty(len(lengths), dtype=np.int64)
    filled: list[int] = []
    for i in np.argsort(-lengths, kind="stable"):
        n = int(lengths[i])
        row = next((r for r, used in enumerate(filled) if used + n <= width), len(filled))
        if row == len(filled):
            filled.append(0)
        row_of[i], col_of[i] = row, filled[row]
        filled[row] += n
    return width, row_of, col_of


def collate_packed(tokens: Tokenized, indices: np.ndarray, position_offset: int = 0) -> dict[str, torch.Tensor]:
    """The examples at `indices` packed into rows: input_ids and position_ids [rows, width];
    segment_ids [rows, width], each position's example (its place in `indices`; pads hold len(indices));
    starts and ends, each example's first and last position in the flattened rows."""
    rows = [tokens.ids[i] for i in indices]
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    width, row_of, col_of = first_fit_rows(lengths)
    n_rows = int(row_of.max()) + 1
    starts = row_of * width + col_of
    within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # each token's position in its example
    flat = np.repeat(starts, lengths) + within
    input_ids = np.full(n_rows * width, tokens.pad_id, dtype=np.int64)
    input_ids[flat] = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows])
    positions = np.full(n_rows * width, position_offset, dtype=np.int64)
    positions[flat] = within + position_offset
    segments = np.full(n_rows * width, len(rows), dtype=np.int64)
    segments[flat] = np.repeat(np.arange(len(rows)), lengths)
    shape = (n_rows, width)
    return {"input_ids": torch.from_numpy(input_ids.reshape(shape)), "position_ids": torch.from_numpy(positions.reshape(shape)),
            "segment_ids": torch.from_numpy(segments.reshape(shape)), "starts": torch.from_numpy(starts),
            "ends": torch.from_numpy(starts + lengths - 1)}


def block_mask(segment_ids: torch.Tensor, causal: bool) -> torch.Tensor:
    """[rows, 1, width, width] boolean, True where a position may attend: its own example's positions
    (those before it, for a decoder). Pad positions attend to each other, so no row is empty."""
    allowed = segment_ids[:, :, None] == segment_ids[:, None, :]
    if causal:
        width = segment_ids.shape[1]
        allowed &= torch.ones(width, width, dtype=torch.bool, device=segment_ids.device).tril()
    return allowed[:, None]


def pool_packed(hidden: torch.Tensor, segment_ids: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor, how: str) -> torch.Tensor:
    """[rows, width, H] states of packed examples → [examples, H]: the mean over each example's
    positions, its first (`cls`) or its last (`last`) position."""
    flat = hidden.reshape(-1, hidden.shape[-1])
    if how == "cls":
        return flat[starts]
    if how == "last":
        return flat[ends]
    n = starts.shape[0]
    sums = torch.zeros(n + 1, flat.shape[1], dtype=flat.dtype, device=flat.device).index_add_(0, segment_ids.reshape(-1), flat)
    return sums[:n] / (ends - starts + 1).unsqueeze(1).to(flat.dtype)


@torch.no_grad()
def packing_offset(model: torch.nn.Module, pad_id: int) -> int | None:
    """Where positions start for `model` (a `TextClassifier`) if it pools packed batches as it pools
    padded ones, else None. Checked on three short examples of arbitrary token ids, in eval mode."""
    config = model.backbone.config
    if getattr(config, "_attn_implementation", None) not in ("sdpa", "eager"):  # flash and flex kernels take no 4D mask
        return None
    vocab = int(getattr(config, "vocab_size", 0) or 0)
    if vocab < 8:
        return None
    generator = torch.Generator().manual_seed(0)
    ids = [torch.randint(vocab // 4, vocab // 2, (n,), generator=generator).tolist() for n in (6, 4, 2)]
    tokens, indices = Tokenized(ids=ids, pad_id=pad_id), np.arange(3)
    was_training = model.training
    model.eval()
    try:
        padded = model.features(**collate_tokens(tokens, indices))
        candidates = [0] + ([int(config.pad_token_id) + 1] if getattr(config, "pad_token_id", None) is not None else [])
        for offset in candidates:
            try:
                packed = model.features(**collate_packed(tokens, indices, offset))
            except (TypeError, ValueError, RuntimeError, IndexError):  # no position_ids, no 4D mask, positions out of range
                return None
            if torch.allclose(packed.float(), padded.float(), rtol=1e-3, atol=1e-4):
                return offset
        return None
    finally:
        model.train(was_training)
