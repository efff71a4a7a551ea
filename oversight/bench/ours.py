"""Our arms: `oversight.training.trainer.train` and `predict`, exactly as a run calls them.

Tokens come from the one tokenization a `Learner` keeps; batches are length-grouped with dynamic
padding; labelling runs under `torch.inference_mode()` on length-sorted batches larger than the
training batch. The only addition is a source that counts the tokens it hands out.
"""

from __future__ import annotations

import numpy as np
import torch

from oversight.bench.task import Arm, BenchConfig, Task, TokenCounter, fresh_model, timed
from oversight.training.batching import TokenSource
from oversight.training.config import TrainConfig
from oversight.training.trainer import predict, soft_targets, train


class CountingSource(TokenSource):
    """A `TokenSource` that tallies the tokens of each batch it collates (host side, no sync)."""

    def __init__(self, task: Task, counter: TokenCounter) -> None:
        super().__init__(task.tokens)
        self.counter = counter

    def collate(self, indices):
        batch = super().collate(indices)
        self.counter.add(batch["attention_mask"])
        return batch


def our_train_config(cfg: BenchConfig, pool_size: int) -> TrainConfig:
    """`cfg.train_steps` optimizer steps drawn from one length-grouped epoch over the pool."""
    steps_per_epoch = pool_size // cfg.batch_size
    return TrainConfig(epochs=cfg.train_steps / steps_per_epoch, batch_size=cfg.batch_size, lr=cfg.lr, val_frac=0.0, select="none",
                       evals_per_epoch=1, log_every=20, eval_batch_size=cfg.eval_batch_size)


def our_training(cfg: BenchConfig, task: Task, device: torch.device) -> Arm:
    model = fresh_model(task, device)
    targets = soft_targets(task.labels, int(task.labels.max()) + 1)
    train_cfg = our_train_config(cfg, len(task.pool_idx))
    losses: list[float] = []

    def body(counter: TokenCounter):
        train(model, CountingSource(task, counter), task.pool_idx, targets, train_cfg, cfg.seed, device,
              log=lambda m: losses.append(m["train/loss"]) if "train/loss" in m else None)
        return cfg.train_steps * cfg.batch_size, {"logged_losses": losses}

    return timed("ours", device, body, 3.0, task.shape)


def our_labelling(cfg: BenchConfig, task: Task, model: torch.nn.Module, device: torch.device) -> Arm:
    def body(counter: TokenCounter):
        probs = predict(model, CountingSource(task, counter), task.label_idx, cfg.eval_batch_size, device, desc="bench label")
        return len(task.label_idx), {"mean_p1": float(np.mean(probs[:, -1]))}

    return timed("ours", device, body, 1.0, task.shape)
