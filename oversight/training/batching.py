"""Batches for the hot loops: tokenize once, group by length, pad per batch (or pack it).

Padding every batch to a fixed length wastes compute on pad tokens. We sort examples by length
inside shuffled "mega-batches" (50 batches) so each batch holds similar lengths, pad only to the
batch's own maximum, then shuffle the batch order. Inference sorts the whole set by length. A
model that packs (packing.py) gets each batch's examples packed into shared rows instead.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import numpy as np
import torch

MEGA_BATCH = 50


@dataclass
class Tokenized:
    """Token ids per example (no padding) and the id used to pad."""

    ids: list[list[int]]
    pad_id: int

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.ids), dtype=np.int64, count=len(self.ids))


def tokenize(tokenizer, texts: list[str], max_length: int) -> Tokenized:
    """Tokenize every text once, truncated to `max_length`, without padding."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)
    return Tokenized(ids=encoded["input_ids"], pad_id=pad_token_id(tokenizer))


def pad_token_id(tokenizer) -> int:
    """The id batches are padded with: the tokenizer's pad token, else (decoder tokenizers often
    lack one; the attention mask hides it anyway) its end-of-sequence token, else 0."""
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    return int(tokenizer.eos_token_id) if tokenizer.eos_token_id is not None else 0


def length_grouped_order(lengths: np.ndarray, batch_size: int, generator: torch.Generator) -> list[np.ndarray]:
    """Shuffled batches of indices in which lengths are similar (sorted within mega-batches)."""
    perm = torch.randperm(len(lengths), generator=generator).numpy()
    mega = batch_size * MEGA_BATCH
    batches: list[np.ndarray] = []
    for start in range(0, len(perm), mega):
        chunk = perm[start : start + mega]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    order = torch.randperm(len(batches), generator=generator).numpy()
    return [batches[i] for i in order]


def sorted_order(lengths: np.ndarray, batch_size: int, max_tokens: int = 0) -> list[np.ndarray]:
    """Inference batches: the whole set sorted by length, longest first (fails fast on memory).

    A batch holds at most `batch_size` examples and at most `batch_size` × (mean length) padded
    tokens: the long tail goes into smaller batches instead of padding ~255 shorter rows to the
    longest one (2,000 multiemo texts at 256: padding 32% → 12%; peak memory bounded). A batch also
    ends before a row less than half its width, so no row is padded to more than twice its length:
    a small set (a 60-row held-out slice) would otherwise fit one budget and be padded whole to its
    longest row. `max_tokens` (0 = none) caps the budget: a CPU runs fastest on batches that stay in
    its caches (`device.batch_tokens`).
    """
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    budget = batch_size * max(1, int(np.ceil(lengths.mean()))) if len(lengths) else 0
    budget = min(budget, max_tokens) if max_tokens else budget
    batches, start = [], 0
    while start < len(order):
        width = max(1, int(sorted_lengths[start]))  # sorted: the first row is the batch's longest
        wide = int(np.searchsorted(-sorted_lengths, -(width / 2), side="right")) - start  # rows at least half as long
        size = max(1, min(batch_size, budget // width, wide))
        batches.append(order[start : start + size])
        start += size
    return batches


def collate_tokens(tokens: Tokenized, indices: np.ndarray) -> dict[str, torch.Tensor]:
    """Right-pad the selected examples to the longest among them (filled in one vectorised write:
    a copy per row was 4% of a MiniLM-L3 training step in `oversight bench`'s profile)."""
    rows = [tokens.ids[i] for i in indices]
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    mask = np.arange(int(lengths.max())) < lengths[:, None]
    input_ids = np.full(mask.shape, tokens.pad_id, dtype=np.int64)
    input_ids[mask] = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=int(lengths.sum()))  # row-major: each row's tokens in order
    return {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask.astype(np.int64))}


def padding_waste(tokens: Tokenized, batches: list[np.ndarray]) -> float:
    """Fraction of the padded tensor that is padding, for a given batching."""
    lengths = tokens.lengths
    padded = sum(int(lengths[b].max()) * len(b) for b in batches if len(b))
    real = sum(int(lengths[b].sum()) for b in batches)  # only the batched examples, not the whole set
    return 1.0 - real / max(padded, 1)


class BatchSource:
    """What the trainer iterates: batches of example indices and their model inputs."""

    def __len__(self) -> int: ...

    def train_batches(self, indices: np.ndarray, batch_size: int, generator: torch.Generator) -> list[np.ndarray]: ...

    def eval_batches(self, indices: np.ndarray, batch_size: int, max_tokens: int = 0) -> list[np.ndarray]: ...

    def collate(self, indices: np.ndarray) -> dict[str, torch.Tensor]: ...

    def for_model(self, model) -> BatchSource:
        """This source as `model` takes its batches (token sources pack for a model that packs)."""
        return self


class TokenSource(BatchSource):
    """Token batches: padded, or packed (`pack_offset`: where the model's positions start; see packing.py)."""

    def __init__(self, tokens: Tokenized, pack_offset: int | None = None) -> None:
        self.tokens, self.pack_offset = tokens, pack_offset
        self._lengths = tokens.lengths

    def for_model(self, model) -> TokenSource:
        """This source batching as `model` takes its tokens: packed if it packs, else padded."""
        offset = getattr(model, "pack_offset", None)
        if offset == self.pack_offset:
            return self
        other = copy.copy(self)
        other.pack_offset = offset
        return other

    def __len__(self) -> int:
        return len(self.tokens.ids)

    def train_batches(self, indices, batch_size, generator):
        local = length_grouped_order(self._lengths[indices], batch_size, generator)
        return [indices[b] for b in local]

    def eval_batches(self, indices, batch_size, max_tokens=0):
        return [indices[b] for b in sorted_order(self._lengths[indices], batch_size, max_tokens)]

    def collate(self, indices):
        if self.pack_offset is None:
            return collate_tokens(self.tokens, indices)
        from oversight.training.packing import collate_packed

        return collate_packed(self.tokens, indices, self.pack_offset)


class FeatureSource(BatchSource):
    """Precomputed backbone features: batches are row slices of one matrix."""

    def __init__(self, features: np.ndarray) -> None:
        self.features = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))

    def __len__(self) -> int:
        return self.features.shape[0]

    def train_batches(self, indices, batch_size, generator):
        perm = indices[torch.randperm(len(indices), generator=generator).numpy()]
        return [perm[i : i + batch_size] for i in range(0, len(perm), batch_size)]

    def eval_batches(self, indices, batch_size, max_tokens=0):  # rows of one width: no token budget
        return [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]

    def collate(self, indices):
        return {"features": self.features[torch.from_numpy(np.asarray(indices))]}
