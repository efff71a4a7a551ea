"""The benchmark's shared task: one model, one dataset, one tokenization, and what an arm reports.

Every arm (our loop, the naive reference-style loop, HF `Trainer`) trains the same
`TextClassifier` (backbone → mean pool → linear head) from the same initial weights on the same
token ids, with the same batch size and number of optimizer steps. Only the loop differs, and with
`mode=lora` the LoRA layers' forward: ours is a run's (training/lora_forward.py), the reference
loop and HF Trainer get peft's layers as they ship.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from oversight.bench.config import BenchConfig
from oversight.bench.flops import ModelShape, sync
from oversight.bench.memory import PeakMemory
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
    model_flops: float  # of the real tokens: the useful work
    padded_flops: float  # the same formula over the padded rows: the work the loop had the machine do
    peak_mb: float
    rise_mb: float  # the peak above the memory held when the arm started: its own share
    extra: dict = field(default_factory=dict)

    def rates(self) -> dict[str, float]:
        return {"examples_per_s": self.examples / self.seconds, "tokens_per_s": self.real_tokens / self.seconds,
                "padded_tokens_per_s": self.padded_tokens / self.seconds, "model_flops_per_s": self.model_flops / self.seconds,
                "padded_flops_per_s": self.padded_flops / self.seconds,
                "padding_waste": 1.0 - self.real_tokens / max(self.padded_tokens, 1)}


class TokenCounter:
    """Tallies the real and padded tokens of every batch a loop feeds the model."""

    def __init__(self) -> None:
        self.lengths: list[np.ndarray] = []
        self.padded_lengths: list[np.ndarray] = []  # each row's width: its batch's width (a packed row holds several examples)

    def add(self, batch: dict[str, torch.Tensor]) -> None:
        """A padded batch's rows, or a packed batch's examples and its rows (each as wide as the batch)."""
        rows, width = batch["input_ids"].shape
        packed = "segment_ids" in batch
        self.lengths.append((batch["ends"] - batch["starts"] + 1 if packed else batch["attention_mask"].sum(1)).cpu().numpy())
        self.padded_lengths.append(np.full(rows, width))

    @property
    def padded(self) -> int:
        return int(sum(p.sum() for p in self.padded_lengths))

    def all_lengths(self, padded: bool = False) -> np.ndarray:
        parts = self.padded_lengths if padded else self.lengths
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


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
    from oversight.data import data_config, load_dataset_from_config
    from oversight.models import resolve_model
    from oversight.training.classifier import build_text_classifier
    from oversight.training.config import ClassifierConfig

    dataset = load_dataset_from_config(data_config(cfg.data, max_examples=cfg.max_examples))
    if cfg.pool + cfg.label_examples > len(dataset):
        raise ConfigError(f"pool {cfg.pool} + label_examples {cfg.label_examples} exceed the {len(dataset)} examples")
    resolved = resolve_model(cfg.model)
    torch.manual_seed(cfg.seed)
    tokenizer, model = build_text_classifier(ClassifierConfig(model=cfg.model, mode=cfg.mode, max_length=cfg.max_length),
                                             resolved.path, len(dataset.classes))
    start = time.perf_counter()
    tokens = tokenize(tokenizer, dataset.texts, cfg.max_length)
    tokenize_seconds = time.perf_counter() - start
    order = np.random.default_rng(cfg.seed).permutation(len(dataset))
    return Task(tokens, np.asarray(dataset.labels), np.sort(order[: cfg.pool]),
                np.sort(order[cfg.pool : cfg.pool + cfg.label_examples]), model, tokenizer, ModelShape.of(model),
                cfg.model, tokenize_seconds)


def bf16_arms(cfg: BenchConfig, device: torch.device) -> bool:
    """Whether to time the bf16-autocast arms: asked for, on a CPU that multiplies bf16 natively (on CUDA every arm of ours is bf16)."""
    from oversight.training.device import native_bf16

    return cfg.cpu_bf16 and device.type == "cpu" and native_bf16(device)


def rotated(arms: dict, rep: int) -> list[str]:
    """The arms' names, rotated by one each repetition so none always runs first."""
    names = list(arms)
    return names[rep % len(names) :] + names[: rep % len(names)]


def fresh_model(task: Task, device: torch.device, peft_layers: bool = False) -> torch.nn.Module:
    """A copy of the initial weights, so every arm starts from the same point. A LoRA model is built
    as a run builds it, with oversight's fused LoRA forward; `peft_layers` gives the copy peft's
    LoRA layers as they ship instead (the reference arms)."""
    model = copy.deepcopy(task.base_model).to(device)
    if peft_layers:
        from oversight.training import lora_forward

        lora_forward.unfuse(model)
    return model


EVAL_COUNTER = "eval_counter"  # an arm's extra TokenCounter of forward-only batches inside its timing (held-out evaluation)


def timed(name: str, device: torch.device, body, flops_multiplier: float, shape: ModelShape) -> Arm:
    """Run `body(counter) -> (examples, extra)`, timing it and reading peak memory and token counts.

    Model FLOPs are `flops_multiplier` forward passes over the counted tokens (3 for a training
    step), plus one forward pass over the tokens of `extra[EVAL_COUNTER]` if the arm evaluated.
    """
    counter = TokenCounter()
    sync(device)
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        examples, extra = body(counter)
        sync(device)
        seconds = time.perf_counter() - start
    evaluated = extra.pop(EVAL_COUNTER, TokenCounter())

    def flops(padded: bool) -> float:
        return (flops_multiplier * shape.forward_flops(counter.all_lengths(padded))
                + shape.forward_flops(evaluated.all_lengths(padded)))

    lengths = counter.all_lengths()
    extra["eval_real_tokens"] = int(evaluated.all_lengths().sum())
    return Arm(name, seconds, examples, int(lengths.sum()), counter.padded, flops(False), flops(True), memory.peak_mb, memory.rise_mb, extra)
