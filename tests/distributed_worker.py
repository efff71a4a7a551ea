"""Trains a small probe with the real trainer and saves what each rank ends with; run by test_distributed.

    python tests/distributed_worker.py OUT                                   # one process
    torchrun --standalone --nproc_per_node 2 tests/distributed_worker.py OUT # two (gloo)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from oversight.training import distributed as dist
from oversight.training.batching import FeatureSource
from oversight.training.classifier import build_feature_head
from oversight.training.config import TrainConfig
from oversight.training.losses import LOSSES
from oversight.training.trainer import predict, train


def main(out: Path) -> None:
    device = dist.init_distributed(torch.device("cpu"))
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 24)).astype(np.float32)
    labels = (features @ rng.normal(size=24) + 0.5 * rng.normal(size=500) > 0).astype(np.int64)
    targets = np.eye(2, dtype=np.float32)[labels]
    train_idx, test_idx = np.arange(400), np.arange(400, 500)
    torch.manual_seed(0)  # the same initial weights on every rank
    model = build_feature_head(torch.from_numpy(features[train_idx]), 2, 0.0)
    # logconf: its threshold and prior are whole-batch statistics, so ranks and micro-batches must share them
    cfg = TrainConfig(epochs=4, batch_size=32, micro_batch_size=16, lr=1e-2, evals_per_epoch=2, log_every=5,
                      loss=LOSSES.config("logconf", warmup_frac=0.0))
    logged: list[dict] = []
    source = FeatureSource(features)
    state = train(model, source, train_idx, targets, cfg, seed=0, device=device, log=logged.append)
    probs = predict(model, source, test_idx, 64, device)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"world_size": dist.world_size(), "rank": dist.rank(), "weights": model.state_dict(), "probs": torch.from_numpy(probs),
                "history": state.history, "kept_step": state.best_step, "logged": logged}, out / f"rank{dist.rank()}.pt")
    dist.leave()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
