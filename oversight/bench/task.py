"""The benchmark's shared task: one model, one dataset, one tokenization, and what an arm reports.

Every arm (our loop, the naive reference-style loop, HF `Trainer`) trains the same
`TextClassifier` (backbone → mean pool → linear head) from the same initial weights on the same
token ids, with the same batch size and number of optimizer steps. Only the loop differs.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from oversight.bench.config import BenchConfig
from oversight.bench.flops import ModelShape, PeakMemory, sync
from oversight.errors import ConfigError
from oversight.training.batching import Tokenized, tokenize


@dataclass
class Arm:
    """One timed run of one method."""

    name: str
    seconds: float
    examples: int
    real_tokens: int
    padded_tokens: int
    model_flops: float
    peak_mb: float
    extra: dict = field(default_factory=dict)

    def rates(self) -> dict[str, float]:
        return {"examples_per_s": self.examples / self.seconds, "tokens_per_s": self.real_tokens / self.seconds,
                "model_flops_per_s": self.model_flops / self.seconds,
                "padding_waste": 1.0 - self.real_tokens / max(self.padded_tokens, 1)}


class TokenCounter:
    """Tallies the real and padded tokens of every batch a loop feeds the model."""

    def __init__(self) -> None:
        self.lengths: list[np.ndarray] = []
        self.padded = 0

    def add(self, attention_mask: torch.Tensor) -> None:
        self.lengths.append(attention_mask.sum(1).cpu().numpy())
        self.padded += attention_mask.numel()

    def all_lengths(self) -> np.ndarray:
        return np.concatenate(self.lengths) if self.lengths else np.zeros(0, dtype=np.int64)


@dataclass
class Task:
    tokens: Tokenized
    labels: np.ndarray
    pool_idx: np.ndarray
    label_idx: np.ndarray
    base_model: torch.nn.Module
    tokenizer: object
    shape: ModelShape
    model_name: str
    tokenize_seconds: float


def load_task(cfg: BenchConfig) -> Task:
    """Dataset, one tokenization (timed, for the report) and an initialised classifier."""
    from oversight.data import DataConfig, load_dataset_from_config
    from oversight.models import resolve_model
    from oversight.training.classifier import build_text_classifier
    from oversight.training.config import ClassifierConfig

    dataset = load_dataset_from_config(DataConfig(name=cfg.data, max_examples=cfg.max_examples))
    if cfg.pool + cfg.label_examples > len(dataset):
        raise ConfigError(f"pool {cfg.pool} + label_examples {cfg.label_examples} exceed the {len(dataset)} examples")
    resolved = resolve_model(cfg.model)
    torch.manual_seed(cfg.seed)
    tokenizer, model = build_text_classifier(ClassifierConfig(model=cfg.model, mode="full", max_length=cfg.max_length),
                                             resolved.path, len(dataset.classes))
    start = time.perf_counter()
    tokens = tokenize(tokenizer, dataset.texts, cfg.max_length)
    tokenize_seconds = time.perf_counter() - start
    order = np.random.default_rng(cfg.seed).permutation(len(dataset))
    return Task(tokens, np.asarray(dataset.labels), np.sort(order[: cfg.pool]),
                np.sort(order[cfg.pool : cfg.pool + cfg.label_examples]), model, tokenizer, ModelShape.of(model),
                cfg.model, tokenize_seconds)


def fresh_model(task: Task, device: torch.device) -> torch.nn.Module:
    """A copy of the initial weights, so every arm starts from the same point."""
    return copy.deepcopy(task.base_model).to(device)


def timed(name: str, device: torch.device, body, flops_multiplier: float, shape: ModelShape) -> Arm:
    """Run `body(counter) -> examples`, timing it and reading peak memory and token counts."""
    counter = TokenCounter()
    sync(device)
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        examples, extra = body(counter)
        sync(device)
        seconds = time.perf_counter() - start
    lengths = counter.all_lengths()
    return Arm(name, seconds, examples, int(lengths.sum()), counter.padded,
               flops_multiplier * shape.forward_flops(lengths), memory.peak_mb, extra)
