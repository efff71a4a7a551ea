"""A sweep of linear probes, two ways: cached features (ours) vs the backbone recomputed per batch.

The reference trains a linear probe by freezing the transformer and still running it on every
batch of every epoch, for every run of a sweep. Ours pools each text's states once under
inference mode (`features.cached_features`, on disk) and every run of the sweep trains its head
on those rows. Both arms here run the same `train`/`predict` code with the same seeds; only
where the features come from differs, so their test accuracies must agree (reported).

Backbone FLOPs are counted from the real tokens each arm feeds the backbone (`flops.py`): the
cached arm computes features once for the sweep's texts; the recompute arm runs the backbone for
the head's standardization statistics, every training batch, every held-out evaluation and the
final test predictions, in each run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from oversight.bench.flops import ModelShape, sync
from oversight.bench.task import BenchConfig, TokenCounter
from oversight.training.batching import FeatureSource, TokenSource, tokenize
from oversight.training.classifier import FeatureHead, backbone_states, load_backbone, pool, resolve_pooling
from oversight.training.config import TrainConfig
from oversight.training.trainer import predict, soft_targets, train

PROBE_TRAIN = dict(batch_size=32, lr=1e-3, weight_decay=1.0)  # the default config's probe settings


class RecomputeProbe(nn.Module):
    """Frozen backbone → pool → `FeatureHead`, with the backbone run on every forward (no cache)."""

    def __init__(self, backbone: nn.Module, head: FeatureHead, pooling: str, layer: int) -> None:
        super().__init__()
        self.backbone, self.head, self.pooling, self.layer = backbone, head, pooling, layer
        self.backbone.requires_grad_(False)

    def train(self, mode: bool = True) -> RecomputeProbe:
        super().train(mode)
        self.backbone.eval()  # frozen: no dropout, exactly the features the cache would hold
        return self

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            states = backbone_states(self.backbone, {"input_ids": input_ids, "attention_mask": attention_mask}, self.layer)
            features = pool(states, attention_mask, self.pooling).float()
        return self.head(features)


class CountingTokens(TokenSource):
    """Token batches in the same order a `FeatureSource` draws its rows (so both arms see the same
    batches), each padded to its longest example; tallies the tokens it hands the backbone."""

    def __init__(self, tokens, counter: TokenCounter) -> None:
        super().__init__(tokens)
        self.counter = counter

    def train_batches(self, indices, batch_size, generator):
        return FeatureSource.train_batches(self, indices, batch_size, generator)

    def collate(self, indices):
        batch = super().collate(indices)
        self.counter.add(batch)
        return batch


def probe_sweep(cfg: BenchConfig, device: torch.device) -> dict:
    """Run `cfg.probe_runs` probe trainings both ways; return times, backbone FLOPs and accuracies."""
    from oversight.data import TextDataset, data_config, load_dataset_from_config
    from oversight.models import resolve_model
    from oversight.training.config import ClassifierConfig
    from oversight.training.fit import Learner, Workspace

    full = load_dataset_from_config(data_config(cfg.data, max_examples=cfg.max_examples))
    order = np.random.default_rng(cfg.seed + 1).permutation(len(full))
    n_test = max(cfg.probe_examples // 2, 1)
    subset = order[: cfg.probe_examples + n_test]
    dataset = TextDataset.from_raw_labels(full.name, [full.texts[i] for i in subset],
                                          [full.classes[full.labels[i]] for i in subset], classes=full.classes)
    train_idx, test_idx = np.arange(cfg.probe_examples), np.arange(cfg.probe_examples, len(subset))
    targets = soft_targets(dataset.labels, len(dataset.classes))
    train_cfg = TrainConfig(epochs=cfg.probe_epochs, **PROBE_TRAIN)
    model_cfg = ClassifierConfig(model=cfg.probe_model, mode="probe", max_length=cfg.max_length)
    resolved = resolve_model(cfg.probe_model)
    tokenizer, backbone = load_backbone(resolved.path)
    backbone.eval().to(device)
    shape = ModelShape.of(backbone)
    tokens = tokenize(tokenizer, dataset.texts, cfg.max_length)

    cached_acc, start = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        learner = Learner(model_cfg, dataset, Workspace(device=device, feature_cache=Path(cache)))
        for seed in range(cfg.probe_runs):
            with tempfile.TemporaryDirectory() as work:
                model, _ = learner.fit(train_cfg, train_idx, targets, seed, Path(work), stage="bench-probe")
            probs = learner.predict(model, test_idx, train_cfg, desc="bench probe test")
            cached_acc.append(float((probs.argmax(-1) == dataset.labels[test_idx]).mean()))
    sync(device)
    cached_seconds = time.perf_counter() - start
    cached_flops = shape.forward_flops(tokens.lengths)  # every text through the backbone once

    counter, recompute_acc = TokenCounter(), []
    source = CountingTokens(tokens, counter)
    how = resolve_pooling(model_cfg, backbone.config)
    start = time.perf_counter()
    for seed in range(cfg.probe_runs):
        head = _standardized_head(backbone, source, train_idx, how, model_cfg.layer, len(dataset.classes), seed, device)
        model = RecomputeProbe(backbone, head, how, model_cfg.layer).to(device)
        train(model, source, train_idx, targets, train_cfg, seed, device, desc="bench probe recompute")
        probs = predict(model, source, test_idx, train_cfg.eval_batch_size, device, train_cfg.autocasts(device), desc="bench probe test")
        recompute_acc.append(float((probs.argmax(-1) == dataset.labels[test_idx]).mean()))
    sync(device)
    recompute_seconds = time.perf_counter() - start
    recompute_flops = shape.forward_flops(counter.all_lengths())
    return {"model": cfg.probe_model, "runs": cfg.probe_runs, "train_examples": cfg.probe_examples, "epochs": cfg.probe_epochs,
            "test_examples": len(test_idx), "cached": {"seconds": cached_seconds, "backbone_flops": cached_flops, "test_acc": cached_acc},
            "recompute": {"seconds": recompute_seconds, "backbone_flops": recompute_flops, "test_acc": recompute_acc},
            "flops_saving": recompute_flops / cached_flops, "time_saving": recompute_seconds / cached_seconds,
            "max_abs_acc_difference": float(np.max(np.abs(np.subtract(cached_acc, recompute_acc))))}


def _standardized_head(backbone, source, train_idx, how, layer, n_classes, seed, device) -> FeatureHead:
    """The same head `build_feature_head` makes, its statistics from one backbone pass over the training rows."""
    rows = []
    with torch.inference_mode():
        for batch_idx in source.eval_batches(train_idx, 256):
            batch = {k: v.to(device) for k, v in source.collate(batch_idx).items()}
            rows.append((batch_idx, pool(backbone_states(backbone, batch, layer), batch["attention_mask"], how).float().cpu()))
    features = torch.zeros(len(train_idx), rows[0][1].shape[1])
    position = {int(i): p for p, i in enumerate(train_idx)}
    for batch_idx, pooled in rows:
        features[[position[int(i)] for i in batch_idx]] = pooled
    torch.manual_seed(seed)  # as Learner.build: the head's init follows the seed
    return FeatureHead(features.mean(0), features.std(0), n_classes, 0.0)


def sweep_flops_ratio(n_train: int, epochs: float, runs: int, n_test: int, val_frac: float = 0.1, evals_per_epoch: int = 2) -> float:
    """Recompute ÷ cached backbone passes for a sweep of this size, assuming equal text lengths."""
    n_fit = n_train - round(val_frac * n_train)
    per_run = n_train + epochs * n_fit + epochs * evals_per_epoch * (n_train - n_fit) + n_test
    return runs * per_run / (n_train + n_test)
