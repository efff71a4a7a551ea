"""Our arms: `oversight.training.trainer.train` and `predict`, exactly as a run calls them.

Tokens come from the one tokenization a `Learner` keeps; batches are length-grouped with dynamic
padding; labelling runs under `torch.inference_mode()` on length-sorted batches larger than the
training batch. The only addition is a source that counts the tokens it hands out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from oversight.bench.task import EVAL_COUNTER, Arm, BenchConfig, Task, TokenCounter, fresh_model, timed
from oversight.training.batching import TokenSource
from oversight.training.config import TrainConfig
from oversight.training.trainer import predict, soft_targets, split_validation, train


class CountingSource(TokenSource):
    """A `TokenSource` that tallies the tokens of each batch it collates (host side, no sync); batches
    of held-out rows (`held_out`) go to `eval_counter`, since they cost a forward pass, not a step."""

    def __init__(self, task: Task, counter: TokenCounter, held_out: np.ndarray | None = None,
                 eval_counter: TokenCounter | None = None) -> None:
        super().__init__(task.tokens)
        self.counter, self.eval_counter = counter, eval_counter
        self.held_out = set(np.asarray(held_out if held_out is not None else [], dtype=np.int64).tolist())

    def collate(self, indices):
        batch = super().collate(indices)
        held_out = self.eval_counter is not None and all(int(i) in self.held_out for i in indices)
        (self.eval_counter if held_out else self.counter).add(batch)
        return batch


def our_train_config(cfg: BenchConfig, pool_size: int, bf16: bool = False) -> TrainConfig:
    """A run's training of a weak supervisor or ceiling (held-out slice, 2 evaluations per epoch, gold
    selection, resume checkpoints on their time budget), for `cfg.steps()` optimizer steps."""
    steps_per_epoch = (pool_size - round(pool_size * cfg.val_frac)) // cfg.batch_size
    return TrainConfig(epochs=cfg.steps() / steps_per_epoch, batch_size=cfg.batch_size, lr=cfg.lr, val_frac=cfg.val_frac,
                       eval_batch_size=cfg.eval_batch_size, cpu_bf16=bf16)


def our_training(cfg: BenchConfig, task: Task, device: torch.device, bf16: bool = False) -> Arm:
    """`train` exactly as a run's stage calls it, checkpoint file included; the timing covers its
    held-out evaluations (the HF Trainer arm scores the same slice after the same steps; the
    reference loop does not) and checkpoint writes (no other arm writes one)."""
    model = fresh_model(task, device)
    targets = soft_targets(task.labels, int(task.labels.max()) + 1)
    train_cfg = our_train_config(cfg, len(task.pool_idx), bf16)
    losses: list[float] = []

    _, held_out = split_validation(task.pool_idx, train_cfg.val_frac, cfg.seed)  # the rows train() holds out

    def body(counter: TokenCounter):
        evaluated = TokenCounter()
        with tempfile.TemporaryDirectory() as workdir:
            state = train(model, CountingSource(task, counter, held_out, evaluated), task.pool_idx, targets, train_cfg, cfg.seed,
                          device, log=lambda m: losses.append(m["train/loss"]) if "train/loss" in m else None,
                          checkpoint=Path(workdir) / "train.ckpt", desc="bench train")
        return state.step * cfg.batch_size, {"logged_losses": losses, "evaluations": len(state.history), EVAL_COUNTER: evaluated}

    return timed("ours_bf16" if bf16 else "ours", device, body, 3.0, task.shape)


def our_labelling(cfg: BenchConfig, task: Task, model: torch.nn.Module, device: torch.device, bf16: bool = False) -> Arm:
    autocasts = our_train_config(cfg, len(task.pool_idx), bf16).autocasts(device)  # as a run labels: bf16 on CUDA, on a CPU if asked

    def body(counter: TokenCounter):
        probs = predict(model, CountingSource(task, counter), task.label_idx, cfg.eval_batch_size, device, autocasts,
                        desc="bench label")
        return len(task.label_idx), {"mean_p1": float(np.mean(probs[:, -1]))}

    return timed("ours_bf16" if bf16 else "ours", device, body, 1.0, task.shape)
