"""The naive baseline, written the way openai/weak-to-strong's `train_model` loop is written.

Faithful to that loop: the pool is shuffled once and cut into fixed batches in that order; each
batch is padded to its longest example with `pad_sequence` (or to `max_length`, with
`naive_pad=max_length`); fp32; the model runs over the full padded batch; `.item()` reads the
loss and accuracy back every step; evaluation runs under `no_grad` in dataset order at the
training batch size. Not made slow on purpose: plain `torch.optim.AdamW` with its defaults, the
model's default (SDPA) attention, the same model and token ids as our loop, no extra copies.
Two deliberate differences from the reference keep the arms computing the same function: an
attention mask is passed (the reference relies on pad id 0 and last-token pooling) and dropout
stays on (the reference trains in eval mode; our loop and HF Trainer train in train mode).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from oversight.bench.task import Arm, BenchConfig, Task, TokenCounter, fresh_model, timed
from oversight.training.batching import Tokenized
from oversight.training.losses import soft_cross_entropy


@contextlib.contextmanager
def strict_fp32(device: torch.device) -> Iterator[None]:
    """The reference trains in plain fp32: no TF32 on CUDA while a naive arm runs (no-op on CPU)."""
    if device.type != "cuda":
        yield
        return
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def pad_batch(tokens: Tokenized, rows: np.ndarray, pad: str, max_length: int) -> dict[str, torch.Tensor]:
    seqs = [torch.tensor(tokens.ids[i]) for i in rows]
    input_ids = pad_sequence(seqs, batch_first=True, padding_value=tokens.pad_id)
    mask = pad_sequence([torch.ones(len(s), dtype=torch.long) for s in seqs], batch_first=True)
    if pad == "max_length" and input_ids.shape[1] < max_length:
        extra = max_length - input_ids.shape[1]
        input_ids = torch.nn.functional.pad(input_ids, (0, extra), value=tokens.pad_id)
        mask = torch.nn.functional.pad(mask, (0, extra))
    return {"input_ids": input_ids, "attention_mask": mask}


def naive_fit(model: torch.nn.Module, tokens: Tokenized, rows: np.ndarray, targets: np.ndarray, steps: int, cfg: BenchConfig,
              device: torch.device, counter: TokenCounter, minibatch: int = 0) -> list[float]:
    """The reference loop over `rows` (targets: class probabilities per dataset row) for `steps` optimizer steps,
    with `minibatch_size_per_device` = `minibatch` (0: the whole batch at once). Returns each step's loss.

    As in the reference, a batch is cut into minibatches; each is padded on its own, run forward and
    backward with its loss scaled by its share of the batch, and read back with `.item()`; one
    optimizer step per batch. With minibatch 1 (the reference's default) nothing is padded at all.
    """
    size = minibatch or cfg.batch_size
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    order = np.random.default_rng(cfg.seed).permutation(rows)
    losses, accuracies = [], []
    for step in range(steps):
        start = (step * cfg.batch_size) % (len(order) - cfg.batch_size + 1)
        batch_rows = order[start : start + cfg.batch_size]
        step_loss, right = 0.0, 0.0
        for first in range(0, len(batch_rows), size):
            part = batch_rows[first : first + size]
            batch = pad_batch(tokens, part, cfg.naive_pad, cfg.max_length)
            counter.add(batch)
            labels = torch.from_numpy(np.asarray(targets[part], dtype=np.float32)).to(device)
            logits = model(**{k: v.to(device) for k, v in batch.items()})
            loss = soft_cross_entropy(logits, labels) * len(part) / len(batch_rows)
            loss.backward()
            step_loss += loss.item()
            right += (logits.argmax(1) == labels.argmax(1)).float().sum().item()
        losses.append(step_loss)
        accuracies.append(right / len(batch_rows))  # read back every step, as the reference logs it
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
    return losses


def naive_predict(model: torch.nn.Module, tokens: Tokenized, rows: np.ndarray, cfg: BenchConfig, device: torch.device,
                  counter: TokenCounter) -> np.ndarray:
    """Class probabilities of `rows` the reference's way: `no_grad`, dataset order, the training batch size."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(rows), cfg.naive_eval_batch_size):
            part = rows[start : start + cfg.naive_eval_batch_size]
            batch = pad_batch(tokens, part, cfg.naive_pad, cfg.max_length)
            counter.add(batch)
            logits = model(**{k: v.to(device) for k, v in batch.items()})
            out.append(torch.softmax(logits, -1).cpu().numpy())
    return np.concatenate(out)


def naive_training(cfg: BenchConfig, task: Task, device: torch.device, minibatch: int = 0) -> Arm:
    """The reference loop on the bench task, `cfg.steps()` steps (see `naive_fit`)."""
    model = fresh_model(task, device, peft_layers=True)
    targets = np.eye(int(task.labels.max()) + 1, dtype=np.float32)[task.labels]

    def body(counter: TokenCounter):
        losses = naive_fit(model, task.tokens, task.pool_idx, targets, cfg.steps(), cfg, device, counter, minibatch)
        return cfg.steps() * cfg.batch_size, {"first_loss": losses[0], "last_loss": losses[-1], "minibatch": minibatch or cfg.batch_size}

    with strict_fp32(device):
        return timed("naive" if not minibatch else f"naive_mb{minibatch}", device, body, 3.0, task.shape)


def naive_training_mb1(cfg: BenchConfig, task: Task, device: torch.device) -> Arm:
    """The reference's default: `minibatch_size_per_device=1`, one example per forward pass."""
    return naive_training(cfg, task, device, minibatch=1)


def naive_labelling(cfg: BenchConfig, task: Task, model: torch.nn.Module, device: torch.device) -> Arm:
    def body(counter: TokenCounter):
        probs = naive_predict(model, task.tokens, task.label_idx, cfg, device, counter)
        return len(task.label_idx), {"mean_p1": float(np.mean(probs[:, -1]))}

    with strict_fp32(device):
        return timed("naive", device, body, 1.0, task.shape)
