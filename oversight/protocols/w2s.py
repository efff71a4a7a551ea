"""Weak-to-strong generalization (Burns et al. 2023, "Weak-to-Strong Generalization").

Split the data into disjoint halves A and B plus a test set. The weak supervisor trains on A
with ground truth and labels B (soft labels kept, a reusable artifact); the strong ceiling trains
on B with ground truth; the strong student trains on B with the weak labels. PGR =
(student - weak) / (ceiling - weak) on the test set, with AUROC and student-supervisor agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from oversight.errors import ConfigError
from oversight.judging.config import JudgingConfig
from oversight.metrics import accuracy, agreement, auroc, pgr
from oversight.protocols.base import register_protocol
from oversight.training.losses import LossConfig


@dataclass
class W2SConfig:
    student_loss: LossConfig = field(default_factory=lambda: LossConfig(name="logconf"))  # loss on the weak labels
    hard_labels: bool = False  # train the student on the weak model's argmax instead of its probabilities
    supervision: str = "weak"  # weak: the weak model's labels | a judging protocol (debate, consultancy, critique, ...)
    judging: JudgingConfig = field(default_factory=JudgingConfig)  # roles and rules when supervision is a judging protocol

    def __post_init__(self) -> None:
        from oversight.judging import protocols  # noqa: F401  (fills JUDGING)
        from oversight.judging.base import JUDGING

        if self.supervision != "weak" and self.supervision not in JUDGING:
            raise ConfigError(f"w2s.supervision must be weak or a judging protocol {JUDGING.names()}, got {self.supervision!r}")


def test_metrics(prefix: str, probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {f"{prefix}_acc": accuracy(probs, labels), f"{prefix}_auroc": auroc(probs, labels)}


@register_protocol("w2s", W2SConfig)
def run_w2s(ctx, seed: int) -> dict[str, float]:
    """Weak-to-strong: weak supervisor labels → strong student; PGR against the strong ceiling."""
    cfg, proto = ctx.cfg, ctx.protocol_cfg
    split = ctx.split(seed)
    gold = ctx.gold_targets()
    labels = ctx.dataset.labels
    if proto.supervision != "weak":
        return _judged_w2s(ctx, split, seed)
    weak = ctx.learner(cfg.weak.model)
    weak_stage = ctx.train_stage("weak", weak, cfg.weak.train, split.weak_train, gold, split.test, seed)
    label_stage = ctx.label_stage(weak_stage, weak, cfg.weak.train, split.weak_train, split.strong_train, seed)
    ceiling = ceiling_stage(ctx, split, seed)

    weak_probs = label_stage.arrays()["probs"]
    student_stage = student_on_labels(ctx, weak_probs, split, seed, proto.student_loss, proto.hard_labels)

    test_labels = labels[split.test]
    weak_test = weak_stage.arrays()["test_probs"]
    ceiling_test = ceiling.arrays()["test_probs"]
    student_test = student_stage.arrays()["test_probs"]
    metrics = {**test_metrics("weak", weak_test, test_labels), **test_metrics("ceiling", ceiling_test, test_labels),
               **test_metrics("student", student_test, test_labels)}
    metrics["pgr"] = pgr(metrics["weak_acc"], metrics["student_acc"], metrics["ceiling_acc"])
    metrics["pgr_auroc"] = pgr(metrics["weak_auroc"], metrics["student_auroc"], metrics["ceiling_auroc"])
    metrics["weak_label_acc"] = accuracy(weak_probs, labels[split.strong_train])
    metrics["student_weak_agreement"] = agreement(student_test, weak_test)
    return metrics


def ceiling_stage(ctx, split, seed: int):
    """The strong model trained on half B's gold labels, tested on the test split."""
    return ctx.train_stage("ceiling", ctx.learner(ctx.cfg.strong.model), ctx.cfg.strong.train, split.strong_train,
                           ctx.gold_targets(), split.test, seed)


def student_on_labels(ctx, label_probs: np.ndarray, split, seed: int, loss: LossConfig, hard: bool = False,
                      kind: str = "student"):
    """Train the strong model on `label_probs` over half B (the student stage), test on the test split."""
    targets = ctx.targets_from(label_probs, split.strong_train, hard=hard)
    train = replace(ctx.cfg.strong.train, loss=loss)
    return ctx.train_stage(kind, ctx.learner(ctx.cfg.strong.model), train, split.strong_train, targets, split.test, seed)


def _judged_w2s(ctx, split, seed: int) -> dict[str, float]:
    """The supervisor is a weak judge assisted by a judging protocol; it labels half B for the student."""
    from oversight.judging.run import run_judging

    proto, labels = ctx.protocol_cfg, ctx.dataset.labels
    judged = run_judging(ctx, proto.supervision, proto.judging, split.strong_train, seed)
    ceiling = ceiling_stage(ctx, split, seed)
    student = student_on_labels(ctx, judged.probs, split, seed, proto.student_loss, proto.hard_labels,
                                kind=f"student_{proto.supervision}")
    test_labels = labels[split.test]
    metrics = {"weak_acc": judged.metrics["judge_acc"],  # the assisted judge on the pool it labelled
               **test_metrics("student", student.arrays()["test_probs"], test_labels),
               **test_metrics("ceiling", ceiling.arrays()["test_probs"], test_labels)}
    metrics["pgr"] = pgr(metrics["weak_acc"], metrics["student_acc"], metrics["ceiling_acc"])
    return {**metrics, **{f"{proto.supervision}_{k}": v for k, v in judged.metrics.items()}}
