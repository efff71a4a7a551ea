"""The training loop: AdamW, warm-up + cosine/linear schedule, accumulation, clipping, model selection.

One optimizer step reads top to bottom in `train`: lr comes from the scheduler, micro-batches
accumulate gradients, the norm is clipped, the optimizer steps, and at eval points the held-out
slice of the training targets is scored. Which weights are kept is the config's `select` rule
(oversight/training/selection.py): a student trains to the end by default, since its held-out
targets are its supervisor's noisy labels. A non-finite loss or gradient stops the stage with an
error naming step and lr, so a diverged model is never kept. An eval point at least
`checkpoint_every_s` after the last write also writes a resume checkpoint, so a killed run
continues from there, not from scratch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from oversight import progress
from oversight.errors import TrainingError
from oversight.training import distributed as dist
from oversight.training import sharding, used_rows
from oversight.training.batching import BatchSource
from oversight.training.checkpoint import Checkpoint, TrainState, trainable_state
from oversight.training.config import TrainConfig
from oversight.training.device import autocast, batch_tokens, native_bf16
from oversight.training.dropout import cpu_dropout
from oversight.training.losses import batch_statistics, build_loss
from oversight.training.selection import check_selection, heldout_scores, selection_score


def lr_lambda(cfg: TrainConfig, total_steps: int) -> Callable[[int], float]:
    warm = max(1, int(cfg.warmup_frac * total_steps)) if cfg.warmup_frac > 0 else 0

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        progress = (step - warm) / max(1, total_steps - warm)
        if cfg.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        if cfg.schedule == "linear":
            return max(0.0, 1 - progress)
        return 1.0

    return factor


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]  # no weight decay on biases and norms
    no_decay = [p for p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # The fused kernel does the whole update in one pass per group instead of ~10 elementwise ops
    # per tensor: one launch per group on CUDA, and ~4x faster than the default for-loop on CPU
    # (measured by `oversight bench`); same update up to float rounding.
    return torch.optim.AdamW(groups, lr=cfg.lr, fused=device.type in ("cuda", "cpu"))


def planned_steps(cfg: TrainConfig, n_rows: int) -> tuple[int, int]:
    """Optimizer steps per epoch and in all for `n_rows` training rows, once `split_validation` holds out its slice."""
    per_epoch = max(1, (n_rows - int(round(cfg.val_frac * n_rows))) // cfg.batch_size)
    return per_epoch, max(1, int(round(cfg.epochs * per_epoch)))


def evaluation_steps(cfg: TrainConfig, n_rows: int) -> list[int]:
    """The optimizer steps after which `train` scores the held-out slice: every `steps_per_epoch //
    evals_per_epoch` steps, and the last."""
    steps_per_epoch, total_steps = planned_steps(cfg, n_rows)
    every = max(1, steps_per_epoch // max(1, cfg.evals_per_epoch))
    return [step for step in range(1, total_steps + 1) if step % every == 0 or step == total_steps]


def split_validation(indices: np.ndarray, val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 7919)
    perm = rng.permutation(indices)
    n_val = int(round(val_frac * len(perm)))
    return perm[n_val:], perm[:n_val]


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def in_order(indices: np.ndarray, rows) -> np.ndarray | None:
    """Per-batch results [(batch indices, their rows)] placed in `indices` order (None for no batch)."""
    position = {int(i): p for p, i in enumerate(indices)}
    out: np.ndarray | None = None
    for batch_idx, values in rows:
        if out is None:
            out = np.zeros((len(indices), *values.shape[1:]), dtype=np.float32)
        out[[position[int(i)] for i in batch_idx]] = values
    return out


@torch.inference_mode()
def predict(model: torch.nn.Module, source: BatchSource, indices: np.ndarray, batch_size: int,
            device: torch.device, bf16: bool = False, desc: str = "predict") -> np.ndarray:
    """Class probabilities for `indices` (in that order) under inference mode, length-sorted batches;
    `bf16` autocasts (a run passes `TrainConfig.autocasts(device)`).

    With several processes each predicts its shard and every rank gets all rows back.
    """
    model.eval()
    source = source.for_model(model)  # packed batches for a model that packs
    all_indices = np.asarray(indices)
    indices = dist.local_shard(all_indices)
    batches = source.eval_batches(indices, batch_size, batch_tokens(device)) if len(indices) else []
    real = len(batches)
    if sharding.is_sharded(model):  # every forward gathers weights from every rank: all run as many
        batches = [*batches, *[all_indices[:1]] * (dist.max_over_ranks(real) - real)]

    def probs():
        for n, batch_idx in enumerate(progress.bar(batches, desc=desc, unit="batch")):
            with autocast(device, bf16):
                logits = model(**to_device(source.collate(batch_idx), device))
            if n < real:  # passes from `real` on are fillers, run only to take part in the others' weight gathers
                yield batch_idx, torch.softmax(logits.float(), -1).cpu().numpy()

    out = in_order(indices, probs())
    if dist.world_size() > 1:
        out = dist.gather_rows(out if out is not None else np.zeros((0, 0), np.float32), len(all_indices))
    return out


def train(model: torch.nn.Module, source: BatchSource, train_idx: np.ndarray, targets: np.ndarray, cfg: TrainConfig,
          seed: int, device: torch.device, log: Callable[[dict], None] = lambda m: None,
          checkpoint: Path | None = None, desc: str = "train", gold_targets: bool = True) -> TrainState:
    """Train `model` on `targets[train_idx]` (class probabilities); leave the weights `cfg.select` keeps loaded.

    `gold_targets` says whether the targets are ground truth: `select=gold_holdout` is refused otherwise.
    """
    cfg.validate()
    check_selection(cfg.select, gold_targets)
    source = source.for_model(model)  # packed batches for a model that packs
    model.to(device)
    sharded = sharding.wanted(cfg.parallel, cfg.batch_size)
    table = None if sharded else used_rows.swap_in(model, source, train_idx)  # FSDP shards the full table
    try:
        state = _train(model, source, train_idx, targets, cfg, seed, device, log, checkpoint, desc, sharded)
    except BaseException:
        if table is not None:  # a failed stage leaves the full table as it was
            used_rows.swap_out(model, table, None)
        raise
    if table is not None:
        lr_at = lr_lambda(cfg, planned_steps(cfg, len(train_idx))[1])
        used_rows.swap_out(model, table, used_rows.decay_over(lambda t: cfg.lr * lr_at(t), cfg.weight_decay, state.best_step))
    return state


def _train(model, source: BatchSource, train_idx: np.ndarray, targets: np.ndarray, cfg: TrainConfig, seed: int,
           device: torch.device, log: Callable[[dict], None], checkpoint: Path | None, desc: str, sharded: bool) -> TrainState:
    if cfg.autocasts(device) and not native_bf16(device):
        print(f"warning: {desc}: bf16 autocast on a {device.type} without native bf16 matmul is emulated, slower than fp32", flush=True)
    fit_idx, val_idx = split_validation(np.asarray(train_idx), cfg.val_frac, seed)
    micro = cfg.micro_batch_size or cfg.batch_size
    accum = cfg.batch_size // micro
    steps_per_epoch, total_steps = planned_steps(cfg, len(train_idx))
    evaluate_at = set(evaluation_steps(cfg, len(train_idx)))
    loss_fn = build_loss(cfg.loss)
    if sharded:
        sharding.shard(model)  # before the optimizer, whose moments then live in shards too
    optimizer = build_optimizer(model, cfg, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, total_steps))
    ckpt = Checkpoint(checkpoint)
    resumed = ckpt.load(model, optimizer, scheduler, total_steps)
    state, best = resumed if resumed else (TrainState(), None)
    out_of_patience = lambda: bool(cfg.patience) and state.bad_evals >= cfg.patience  # noqa: E731
    stopped = out_of_patience()  # a checkpoint written at the early stop resumes stopped
    target_tensor = torch.from_numpy(np.asarray(targets, dtype=np.float32))
    running = torch.zeros((), device=device)  # summed on device; read back only at log points
    finite = Finiteness(device)
    since_log = 0
    trainable = [p for p in model.parameters() if p.requires_grad]  # frozen weights have no gradient to clip
    clip_at = cfg.max_grad_norm if cfg.max_grad_norm > 0 else math.inf
    last_save = time.monotonic()
    # a context manager, so a diverged run's error prints after the bar is cleared, on its own line
    with cpu_dropout(model, device), progress.bar(total=total_steps, initial=state.step, desc=desc, unit="step") as bar:
        while state.step < total_steps and not stopped:
            generator = torch.Generator().manual_seed(seed * 100_003 + state.epoch)  # same order after resume
            batches = source.train_batches(fit_idx, cfg.batch_size, generator)
            whole_epoch, steps_before = state.batch_in_epoch == 0, state.step
            for batch_idx in batches[state.batch_in_epoch : steps_per_epoch]:
                if sharded and len(batch_idx) < dist.world_size():  # every rank runs every forward: a leftover
                    state.batch_in_epoch += 1  # batch smaller than the ranks is left out (every rank sees the same batch)
                    continue
                shard = dist.local_shard(batch_idx)  # global batch semantics: the ranks split each batch
                fewest = len(batch_idx) // dist.world_size()  # sharded, every rank runs as many micro-batches
                chunks = [c for c in np.array_split(shard, max(1, min(accum, fewest if sharded else len(shard)))) if len(c)]
                running += accumulate_gradients(model, loss_fn, source, chunks, target_tensor, len(batch_idx),
                                                state.step / total_steps, device, cfg.autocasts(device))
                if not sharded:  # FSDP reduce-scatters each unit's gradients itself, during backward
                    dist.all_reduce_grads(model)  # before clipping, so every rank clips the same global gradient
                grad_norm = sharding.whole(torch.nn.utils.clip_grad_norm_(trainable, clip_at, foreach=True))  # one fused norm, not one per tensor
                finite.record(grad_norm, state.step + 1)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state.step += 1
                state.batch_in_epoch += 1
                bar.update(1)
                since_log += 1
                if state.step % cfg.log_every == 0 or state.step == total_steps:
                    running = dist.all_reduce_sum(running)  # each rank summed only its shard's share
                    mean_loss = float(running) / since_log
                    finite.check(mean_loss, desc, state.step, cfg.lr, model)
                    log({"train/loss": mean_loss, "train/lr": scheduler.get_last_lr()[0], "step": state.step})
                    running.zero_()
                    since_log = 0
                if state.step in evaluate_at:
                    finite.check(0.0, desc, state.step, cfg.lr, model)
                    best = evaluate_and_select(model, source, val_idx, targets, cfg, device, state, best, log)
                    if dist.broadcast_object(time.monotonic() - last_save >= cfg.checkpoint_every_s):  # on a time budget (rank 0's clock: saving may be a collective)
                        ckpt.save(model, optimizer, scheduler, state, best)
                        last_save = time.monotonic()
                    stopped = out_of_patience()  # early stop
                if stopped or state.step >= total_steps:
                    break
            if sharded and whole_epoch and state.step == steps_before:  # every batch was left out: it would loop forever
                raise TrainingError(f"{desc}: every batch holds fewer rows than the {dist.world_size()} ranks sharding the model; "
                                    f"train on more rows or use parallel=replicate")
            state.epoch += 1
            state.batch_in_epoch = 0
    if best is not None:
        model.load_state_dict(best, strict=False)
    else:  # select=none, or no evaluation gave the rule a defined score: the final weights are kept
        state.best_step = state.step
    return state


def accumulate_gradients(model, loss_fn, source: BatchSource, chunks: list[np.ndarray], targets: torch.Tensor,
                         batch_len: int, step_frac: float, device: torch.device, bf16: bool) -> torch.Tensor:
    """Forward and backward every micro-batch of this rank's shard; returns its share of the batch loss.

    Each micro-batch's loss is weighted by its share of the *global* batch, so summed gradients
    (over micro-batches and ranks) equal the gradient of the whole batch's mean loss.
    """
    stats = whole_batch_statistics(loss_fn, model, source, chunks, targets, device, bf16)
    model.train()
    total = torch.zeros((), device=device)
    for chunk in chunks:
        with autocast(device, bf16):
            logits = model(**to_device(source.collate(chunk), device))
        loss = loss_fn(logits, targets[chunk].to(device), step_frac, stats)
        (loss * len(chunk) / batch_len).backward()
        total += loss.detach() * len(chunk) / batch_len
    return total


class Finiteness:
    """Catches a non-finite gradient norm, loss or weight without a host sync per step.

    The first bad gradient step is remembered on the device and read back only at log and eval
    points, where the weights are checked too (weight decay alone can blow them up with finite
    gradients), so a diverged run stops there with an error instead of being kept as a result.
    """

    def __init__(self, device: torch.device) -> None:
        self.first_bad = torch.full((), -1, dtype=torch.long, device=device)

    def record(self, grad_norm: torch.Tensor, step: int) -> None:
        bad = ~torch.isfinite(grad_norm) & (self.first_bad < 0)
        self.first_bad = torch.where(bad, torch.full_like(self.first_bad, step), self.first_bad)

    def check(self, loss: float, desc: str, step: int, lr: float, model: torch.nn.Module) -> None:
        first_bad = int(self.first_bad)
        bad_ranks = dist.all_reduce_sum(torch.tensor(0.0 if finite_weights(model) else 1.0, device=self.first_bad.device))
        weights_ok = float(bad_ranks) == 0  # sharded, each rank checks its part
        if first_bad >= 0 or not math.isfinite(loss) or not weights_ok:
            where = (f"step {first_bad} (gradient norm)" if first_bad >= 0 else
                     f"step {step} (loss {loss})" if not math.isfinite(loss) else f"step {step} (weights)")
            raise TrainingError(f"{desc}: training diverged, non-finite value at {where} with lr={lr:.3g}; "
                                f"lower the lr or clip gradients (max_grad_norm)")


def finite_weights(model: torch.nn.Module) -> bool:
    """Whether every trained weight is finite. One fused norm per tensor
    (no temporaries: an elementwise isfinite over MiniLM's embedding allocated and faulted in ~190 MB
    per check); only a non-finite norm, which a huge finite weight can also give, is checked element by element."""
    local = [sharding.local(p).detach() for p in model.parameters() if p.requires_grad]
    if not local or bool(torch.isfinite(torch.stack(torch._foreach_norm(local))).all()):
        return True
    return all(bool(torch.isfinite(p).all()) for p in local)


def whole_batch_statistics(loss_fn, model, source: BatchSource, chunks: list[np.ndarray], targets: torch.Tensor,
                           device: torch.device, bf16: bool) -> dict[str, torch.Tensor] | None:
    """Statistics a loss computes over the whole optimizer batch (logconf's threshold and prior).

    One micro-batch in one process: None, and the loss takes them from its own forward pass (no
    extra cost). Under accumulation or several ranks, one no-grad pass over every micro-batch of
    every rank computes them, so they match the single-pass batch. Eval mode: the statistics are
    of the model's predictions, not of one dropout draw, and no RNG is consumed.
    """
    if batch_statistics(loss_fn) is None or (len(chunks) <= 1 and dist.world_size() == 1):
        return None
    model.eval()
    with torch.no_grad():
        probs = []
        for chunk in chunks:
            with autocast(device, bf16):
                probs.append(torch.softmax(model(**to_device(source.collate(chunk), device)).float(), -1))
    local = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    all_probs = dist.all_gather_rows(torch.cat(probs) if probs else torch.zeros((0, targets.shape[1]), device=device))
    all_targets = dist.all_gather_rows(targets[local].to(device))
    return batch_statistics(loss_fn)(all_probs, all_targets)


def evaluate_and_select(model, source, val_idx, targets, cfg: TrainConfig, device, state: TrainState, best, log):
    """Score the held-out slice; keep these weights if `cfg.select` prefers them. Returns the kept weights."""
    if state.first_eval_step == 0:
        state.first_eval_step = state.step
    if cfg.select == "none" or len(val_idx) == 0:
        state.best_step = state.step
        if len(val_idx):  # still logged: how far the student moves from its supervisor's labels
            _log_heldout(model, source, val_idx, targets, cfg, device, state, log)
        return None  # nothing to restore: the final weights are the result
    scores = _log_heldout(model, source, val_idx, targets, cfg, device, state, log)
    score = selection_score(cfg.select, scores)
    if math.isfinite(score) and score > state.best_score + 1e-6:
        state.best_score, state.best_step, state.bad_evals = score, state.step, 0
        return trainable_state(model, into=best)
    state.bad_evals += 1
    return best


def _log_heldout(model, source, val_idx, targets, cfg, device, state: TrainState, log) -> dict[str, float]:
    probs = predict(model, source, val_idx, cfg.eval_batch_size, device, cfg.autocasts(device), desc="held-out")
    scores = heldout_scores(probs, np.asarray(targets)[val_idx])
    record = {f"val/{k}": v for k, v in scores.items()} | {"step": state.step}
    state.history.append(record)
    log(record)
    return scores


def soft_targets(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """One-hot probabilities for hard labels."""
    return np.eye(n_classes, dtype=np.float32)[np.asarray(labels)]



