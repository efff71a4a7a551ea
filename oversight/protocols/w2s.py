"""Weak-to-strong generalization (Burns et al. 2023, "Weak-to-Strong Generalization").

Split the data into disjoint halves A and B plus a test set. The weak supervisor trains on A
with ground truth and labels B (soft labels kept, a reusable artifact); the strong ceiling trains
on B with ground truth; the strong student trains on B with the weak labels. PGR =
(student - weak) / (ceiling - weak) on the test set, with AUROC and student-supervisor agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from oversight.metrics import accuracy, agreement, auroc, pgr
from oversight.protocols.base import register_protocol
from oversight.training.losses import LossConfig


@dataclass
class W2SConfig:
    student_loss: LossConfig = field(default_factory=lambda: LossConfig(name="logconf"))  # loss on the weak labels
    hard_labels: bool = False  # train the student on the weak model's argmax instead of its probabilities


def test_metrics(prefix: str, probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {f"{prefix}_acc": accuracy(probs, labels), f"{prefix}_auroc": auroc(probs, labels)}


@register_protocol("w2s", W2SConfig)
def run_w2s(ctx, seed: int) -> dict[str, float]:
    """Weak-to-strong: weak supervisor labels → strong student; PGR against the strong ceiling."""
    cfg, proto = ctx.cfg, ctx.protocol_cfg
    split = ctx.split(seed)
    gold = ctx.gold_targets()
    labels = ctx.dataset.labels
    weak, strong = ctx.learner(cfg.weak.model), ctx.learner(cfg.strong.model)

    weak_stage = ctx.train_stage("weak", weak, cfg.weak.train, split.weak_train, gold, split.test, seed)
    label_stage = ctx.label_stage(weak_stage, weak, cfg.weak.train, split.weak_train, split.strong_train, seed)
    ceiling_stage = ctx.train_stage("ceiling", strong, cfg.strong.train, split.strong_train, gold, split.test, seed)

    weak_probs = label_stage.arrays()["probs"]
    student_targets = ctx.targets_from(weak_probs, split.strong_train, hard=proto.hard_labels)
    student_train = replace(cfg.strong.train, loss=proto.student_loss)
    student_stage = ctx.train_stage("student", strong, student_train, split.strong_train, student_targets, split.test, seed)

    test_labels = labels[split.test]
    weak_test = weak_stage.arrays()["test_probs"]
    ceiling_test = ceiling_stage.arrays()["test_probs"]
    student_test = student_stage.arrays()["test_probs"]
    metrics = {**test_metrics("weak", weak_test, test_labels), **test_metrics("ceiling", ceiling_test, test_labels),
               **test_metrics("student", student_test, test_labels)}
    metrics["pgr"] = pgr(metrics["weak_acc"], metrics["student_acc"], metrics["ceiling_acc"])
    metrics["pgr_auroc"] = pgr(metrics["weak_auroc"], metrics["student_auroc"], metrics["ceiling_auroc"])
    metrics["weak_label_acc"] = accuracy(weak_probs, labels[split.strong_train])
    metrics["student_weak_agreement"] = agreement(student_test, weak_test)
    return metrics
