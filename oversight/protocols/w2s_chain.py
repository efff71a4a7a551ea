"""Bootstrapping weak-to-strong (Burns et al. 2023, "Weak-to-Strong Generalization", sec. 4.3.1):
a chain of models from weak to strong, each trained on the previous model's labels.

`models[0]` trains on A with ground truth; link i (model i) trains on its own chunk B_i with model
i-1's labels, then labels B_{i+1}; no model labels data it trained on. The direct weak → strong
student and the strong ceiling train on the last chunk, so they see the same examples as the
chain's end. Headline keys: weak_acc = models[0], student_acc = the chain's end, ceiling_acc =
models[-1] on gold, pgr = the chain's PGR; `direct_student_acc`/`direct_pgr` are plain W2S on the
same data; per link `link{i}_acc`, `link{i}_label_acc`, `link{i}_ceiling_acc`, `link{i}_pgr`. Every
PGR is undefined (None) in a seed whose gap is not significantly positive (transfer_stats.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from oversight.errors import ConfigError
from oversight.headline import Headline, SeedResult
from oversight.metrics import accuracy, test_metrics
from oversight.protocols.base import register_protocol
from oversight.protocols.splits import chain_split
from oversight.protocols.w2s import student_training
from oversight.stages import kept_steps
from oversight.training.config import TrainConfig
from oversight.training.selection import check_selection
from oversight.transfer_stats import seed_pgr

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context


@dataclass
class ChainConfig:
    models: list[str] = field(default_factory=lambda: ["minilm-l3", "minilm-l6", "mpnet-base"])  # weak → strong; each uses strong.model's other settings
    student: TrainConfig = field(default_factory=student_training)  # training of every model trained on labels; unset fields follow strong.train
    hard_labels: bool = False  # pass on each model's argmax instead of its probabilities
    link_ceilings: bool = True  # also train each intermediate model on gold (per-link PGR); costs one probe each

    def __post_init__(self) -> None:
        check_selection(self.student.select, gold_targets=False, where="w2s_chain.student.select")

    def check_run(self, run) -> None:
        if run.split.weak_train == 0:
            raise ConfigError("split.weak_train must be positive: the chain's first model trains on it")


@register_protocol("w2s_chain", ChainConfig)
def run_chain(ctx: Context, seed: int) -> SeedResult:
    """Bootstrapping: weak → medium → strong, each trained on the previous model's labels; vs direct W2S."""
    cfg, proto = ctx.cfg, ctx.protocol_cfg
    if len(proto.models) < 2:
        raise ConfigError(f"w2s_chain.models needs at least two models, got {proto.models}")
    links = len(proto.models) - 1
    split = chain_split(len(ctx.dataset), cfg.split.weak_train, cfg.split.strong_train, links, cfg.split.test,
                        cfg.data.seed, seed)
    gold, labels = ctx.gold_targets(), ctx.dataset.labels
    test_labels = labels[split.test]
    # the first model trains like W2S's weak supervisor (weak.train); the rest like the strong model
    learners = [ctx.learner(replace(cfg.strong.model, model=name)) for name in proto.models]
    trains = [cfg.weak.train] + [cfg.strong.train] * links
    student_train = proto.student

    first = ctx.train_stage("weak", learners[0], trains[0], split.first, gold, split.test, seed)
    metrics = test_metrics("weak", first.arrays()["test_probs"], test_labels)
    right = lambda stage: stage.arrays()["test_probs"].argmax(-1) == test_labels  # noqa: E731  per test example
    link_pgr = lambda before, after, top: seed_pgr(right(before), right(after), right(top), split.test, seed=seed)  # noqa: E731
    prev, prev_learner, prev_train, prev_idx = first, learners[0], trains[0], split.first
    for i, chunk in enumerate(split.chunks, start=1):
        targets = passed_labels(ctx, prev, prev_learner, prev_train, prev_idx, chunk, seed, proto.hard_labels)
        metrics[f"link{i}_label_acc"] = accuracy(targets[chunk], labels[chunk])
        stage = ctx.train_stage(f"link{i}", learners[i], student_train, chunk, targets, split.test, seed)
        metrics[f"link{i}_acc"] = accuracy(stage.arrays()["test_probs"], test_labels)
        if proto.link_ceilings or i == links:
            ceiling = ctx.train_stage("ceiling", learners[i], trains[i], chunk, gold, split.test, seed)
            metrics[f"link{i}_ceiling_acc"] = accuracy(ceiling.arrays()["test_probs"], test_labels)
            metrics[f"link{i}_pgr"] = link_pgr(prev, stage, ceiling)  # from the link's own supervisor
        prev, prev_learner, prev_train, prev_idx = stage, learners[i], student_train, chunk

    # direct W2S on the chain's last chunk: models[0]'s labels → models[-1]
    last = split.chunks[-1]
    targets = passed_labels(ctx, first, learners[0], trains[0], split.first, last, seed, proto.hard_labels)
    direct = ctx.train_stage("student", learners[-1], student_train, last, targets, split.test, seed)
    metrics["ceiling_acc"] = metrics[f"link{links}_ceiling_acc"]
    metrics["student_acc"] = metrics[f"link{links}_acc"]
    metrics["direct_student_acc"] = accuracy(direct.arrays()["test_probs"], test_labels)
    metrics["direct_pgr"] = link_pgr(first, direct, ceiling)
    metrics["chain_minus_direct_acc"] = metrics["student_acc"] - metrics["direct_student_acc"]
    metrics.update(kept_steps(student=stage, direct_student=direct, ceiling=ceiling))
    headline = Headline.from_probs(split.test, test_labels, first.arrays()["test_probs"], stage.arrays()["test_probs"],
                                   ceiling.arrays()["test_probs"], baseline=f"first model ({proto.models[0]})")
    return SeedResult(metrics, headline)


def passed_labels(ctx: Context, trained, learner, train_cfg, train_idx: np.ndarray, label_idx: np.ndarray, seed: int,
                  hard: bool) -> np.ndarray:
    """Targets for the next model: the trained model's probabilities (or argmax) on `label_idx`, zero elsewhere."""
    probs = ctx.label_stage(trained, learner, train_cfg, train_idx, label_idx, seed).arrays()["probs"]
    return ctx.targets_from(probs, label_idx, hard=hard)
