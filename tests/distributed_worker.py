"""Trains a small model with the real trainer and saves what each rank ends with; run by test_distributed.

    python tests/distributed_worker.py OUT [MODE]                                   # one process
    torchrun --standalone --nproc_per_node 2 tests/distributed_worker.py OUT [MODE] # two (gloo)

MODE is `probe` (a linear head on fixed features, the default), or `full` / `lora`: MiniLM-L3
fine-tuned end to end, or through LoRA adapters, on short texts. Dropout is set to 0 there, so
that one process and two ranks compute the same function; each rank draws its own dropout masks,
and with dropout on the two could never match. `fsdp-full` / `fsdp-lora` train the same with
`parallel=fsdp`, writing a resume checkpoint at every evaluation, then train a fresh model again
from that checkpoint (it resumes at the last step and restores the kept weights).
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from oversight.training import distributed as dist
from oversight.training import sharding
from oversight.training.batching import FeatureSource, TokenSource, tokenize
from oversight.training.classifier import build_feature_head, build_text_classifier
from oversight.training.config import ClassifierConfig, TrainConfig
from oversight.training.losses import LOSSES
from oversight.training.trainer import predict, train


def probe_task():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 24)).astype(np.float32)
    labels = (features @ rng.normal(size=24) + 0.5 * rng.normal(size=500) > 0).astype(np.int64)
    torch.manual_seed(0)  # the same initial weights on every rank
    model = build_feature_head(torch.from_numpy(features[:400]), 2, 0.0)
    # logconf: its threshold and prior are whole-batch statistics, so ranks and micro-batches must share them
    cfg = TrainConfig(epochs=4, batch_size=32, micro_batch_size=16, lr=1e-2, evals_per_epoch=2, log_every=5,
                      loss=LOSSES.config("logconf", warmup_frac=0.0))
    return model, FeatureSource(features), labels, np.arange(400), np.arange(400, 500), cfg


def fine_tune_task(mode: str):
    from oversight.models import resolve_model

    words = ["great", "awful", "fine", "terrible", "lovely", "boring", "superb", "dreadful"]
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(words), size=96)
    texts = [f"the film was {words[p]} and the cast {'shone' if p % 2 == 0 else 'froze'} {i}" for i, p in enumerate(picks)]
    labels = (picks % 2 == 0).astype(np.int64)
    torch.manual_seed(0)  # the same initial weights (head, adapters) on every rank
    tokenizer, model = build_text_classifier(ClassifierConfig(model="minilm-l3", mode=mode, max_length=32),
                                             resolve_model("minilm-l3").path, 2)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    cfg = TrainConfig(epochs=2, batch_size=16, micro_batch_size=8, lr=5e-4 if mode == "lora" else 5e-5, evals_per_epoch=2,
                      log_every=2, loss=LOSSES.config("logconf", warmup_frac=0.0))
    rows = int(os.environ.get("WORKER_TRAIN_ROWS", 64))
    return model, TokenSource(tokenize(tokenizer, texts, 32)), labels, np.arange(rows), np.arange(64, 96), cfg


def main(out: Path, mode: str) -> None:
    device = dist.init_distributed(torch.device("cpu"))
    parallel, _, mode = mode.rpartition("-")
    model, source, labels, train_idx, test_idx, cfg = probe_task() if mode == "probe" else fine_tune_task(mode)
    cfg = replace(cfg, parallel=parallel or "replicate", checkpoint_every_s=0.0)
    checkpoint = out / "train.ckpt" if parallel else None
    targets = np.eye(2, dtype=np.float32)[labels]
    logged: list[dict] = []
    out.mkdir(parents=True, exist_ok=True)
    state = train(model, source, train_idx, targets, cfg, seed=0, device=device, log=logged.append, checkpoint=checkpoint)
    probs = predict(model, source, test_idx, 7, device)  # small batches: ranks' shards split into unequal batch counts
    held = {"local": sum(sharding.local(p).numel() for p in model.parameters()), "whole": sum(p.numel() for p in model.parameters())}
    weights = {k: v for k, v in sharding.gathered(model.state_dict()).items() if v.is_floating_point()}
    resumed = {}
    if checkpoint is not None:  # a fresh model resumed from the last checkpoint ends with the same kept weights
        fresh, *_ = fine_tune_task(mode)
        train(fresh, source, train_idx, targets, cfg, seed=0, device=device, checkpoint=checkpoint)
        resumed = {k: v for k, v in sharding.gathered(fresh.state_dict()).items() if v.is_floating_point()}
    torch.save({"world_size": dist.world_size(), "rank": dist.rank(), "weights": weights, "probs": torch.from_numpy(probs),
                "history": state.history, "kept_step": state.best_step, "logged": logged, "held": held, "resumed": resumed,
                "steps": state.step, "epochs": state.epoch},
               out / f"rank{dist.rank()}.pt")
    dist.leave()
    dist.end_rank(0)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "probe")
