"""Where our LoRA bench arm's time goes: training steps against held-out evaluations (README "Decoder LoRA").

Builds the bench's task (SmolLM2-135M-Instruct, default LoRA adapters, sarcasm headlines, pool 320,
batch 32: 9 steps) and times, after an untimed warm-up:
- our arm (`oversight.bench.ours.our_training`, `train` as a run calls it) under cProfile, split into
  its training steps (`accumulate_gradients`) and its held-out evaluations (`evaluate_and_select`);
- a bare loop over the same length-grouped batches (forward, backward, clip, fused AdamW), the floor
  for those steps without a run's bookkeeping;
- the HF Trainer arm (`oversight.bench.hf.trainer_training`), which scores the same held-out slice
  after the same steps.

Run: python experiments/lora_train_breakdown.py [--batch-size 32] [--repeats 2]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from dataclasses import replace

import torch

from oversight.bench.config import BenchConfig
from oversight.bench.hf import trainer_training
from oversight.bench.ours import our_training
from oversight.bench.task import fresh_model, load_task
from oversight.training.batching import TokenSource
from oversight.training.losses import soft_cross_entropy
from oversight.training.trainer import split_validation


def cumulative(stats: pstats.Stats, function: str) -> tuple[int, float]:
    """Calls and cumulative seconds of the first profiled function of this name."""
    for (_, _, name), (calls, _, _, cum, _) in stats.stats.items():
        if name == function:
            return calls, cum
    return 0, 0.0


def bare_loop(cfg: BenchConfig, task, device: torch.device) -> float:
    """Our arm's training batches, with nothing but forward, backward, clipping and a fused AdamW step."""
    model = fresh_model(task, device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=0.01, fused=True)
    fit, _ = split_validation(task.pool_idx, cfg.val_frac, cfg.seed)
    source = TokenSource(task.tokens)
    batches = source.train_batches(fit, cfg.batch_size, torch.Generator().manual_seed(cfg.seed))[: cfg.steps()]
    n_classes = int(task.labels.max()) + 1
    start = time.perf_counter()
    for batch_idx in batches:
        logits = model(**source.collate(batch_idx))
        targets = torch.nn.functional.one_hot(torch.as_tensor(task.labels[batch_idx]), n_classes).float()
        soft_cross_entropy(logits, targets).backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0, foreach=True)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--data", default="sarcasm")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    cfg = BenchConfig(model=args.model, mode="lora", lr=5e-4, data=args.data, max_examples=1000, pool=320,
                      batch_size=args.batch_size, max_length=args.max_length, label_examples=160)
    device = torch.device("cpu")
    task = load_task(cfg)
    for warm in (our_training, trainer_training):
        warm(replace(cfg, train_steps=2), task, device)
    print(f"{cfg.model} LoRA, {cfg.data}, {cfg.steps()} steps of {cfg.batch_size}, {torch.get_num_threads()} threads")
    for rep in range(args.repeats):
        profiler = cProfile.Profile()
        profiler.enable()
        ours = our_training(cfg, task, device)
        profiler.disable()
        stats = pstats.Stats(profiler)
        _, steps_s = cumulative(stats, "accumulate_gradients")
        evals, evals_s = cumulative(stats, "evaluate_and_select")
        bare_s = bare_loop(cfg, task, device)
        trainer = trainer_training(cfg, task, device)
        print(f"[{rep}] ours {ours.seconds:.1f} s (under cProfile): training steps {steps_s:.1f} s, {evals} held-out evaluations "
              f"{evals_s:.1f} s ({evals_s / max(evals, 1):.2f} s each), the rest {ours.seconds - steps_s - evals_s:.1f} s | "
              f"bare loop, same batches {bare_s:.1f} s | HF Trainer, same job {trainer.seconds:.1f} s "
              f"({trainer.extra['evaluations']} evaluations)", flush=True)


if __name__ == "__main__":
    main()
