"""Weak-to-strong generalization (Burns et al. 2023, "Weak-to-Strong Generalization").

Split the data into disjoint halves A and B plus a test set. The weak supervisor trains on A
with ground truth and labels B (soft labels kept, a reusable artifact); the strong ceiling trains
on B with ground truth; the strong student (strong.model, trained as `w2s.student` says, which
follows strong.train unless set) trains on B with the weak labels. PGR = (student - weak) /
(ceiling - weak) on the test set, with AUROC and student-supervisor agreement. The student trains
to the end (`student.select: none`) unless another rule is named: its held-out targets are the
weak labels. With `judged:` set, a weak judge assisted by a judging scheme labels B instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oversight.errors import ConfigError
from oversight.headline import Headline, SeedResult
from oversight.judging.config import JudgedSupervision
from oversight.metrics import accuracy, agreement, auroc, pgr
from oversight.protocols.base import register_protocol
from oversight.training.config import TrainConfig, follows
from oversight.training.losses import LOSSES
from oversight.training.selection import check_selection


def student_training(loss: str = "logconf") -> TrainConfig:
    """A student's training: strong.train's settings, with `loss` and no selection (its targets are not gold)."""
    return follows("strong.train", select="none", loss=LOSSES.config(loss))


@dataclass
class W2SConfig:
    student: TrainConfig = field(default_factory=student_training)  # the strong student's training on the labels; unset fields follow strong.train
    hard_labels: bool = False  # train the student on the supervisor's argmax instead of its probabilities
    judged: JudgedSupervision | None = None  # set: a weak judge assisted by a judging scheme labels the pool (the weak role is unused)

    def __post_init__(self) -> None:
        check_selection(self.student.select, gold_targets=False, where="w2s.student.select")

    def check_run(self, run) -> None:
        if self.judged is not None:
            self.judged.check_run(run)
        elif run.split.weak_train == 0:
            raise ConfigError("split.weak_train must be positive: the weak supervisor trains on it (0 only with w2s.judged)")


def test_metrics(prefix: str, probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {f"{prefix}_acc": accuracy(probs, labels), f"{prefix}_auroc": auroc(probs, labels)}


def kept_steps(**stages) -> dict[str, int]:
    """`<role>_kept_step` of each training stage: the step whose weights its selection rule kept."""
    return {f"{role}_kept_step": stage.meta.get("kept_step") for role, stage in stages.items()}


def w2s_rows(ctx) -> np.ndarray:
    """Every example a W2S run trains, labels or tests on, over all its seeds."""
    splits = [ctx.split(seed) for seed in ctx.cfg.seeds]
    return np.unique(np.concatenate([np.concatenate([s.weak_train, s.strong_train, s.test]) for s in splits]))


@register_protocol("w2s", W2SConfig, rows_used=w2s_rows)
def run_w2s(ctx, seed: int) -> SeedResult:
    """Weak-to-strong: weak supervisor labels → strong student; PGR against the strong ceiling."""
    cfg, proto = ctx.cfg, ctx.protocol_cfg
    split = ctx.split(seed)
    gold = ctx.gold_targets()
    labels = ctx.dataset.labels
    if proto.judged is not None:
        return _judged_w2s(ctx, split, seed)
    weak = ctx.learner(cfg.weak.model)
    weak_stage = ctx.train_stage("weak", weak, cfg.weak.train, split.weak_train, gold, split.test, seed)
    label_stage = ctx.label_stage(weak_stage, weak, cfg.weak.train, split.weak_train, split.strong_train, seed)
    ceiling = ceiling_stage(ctx, split, seed)

    weak_probs = label_stage.arrays()["probs"]
    student_stage = student_on_labels(ctx, weak_probs, split, seed, proto.student, proto.hard_labels)

    test_labels = labels[split.test]
    weak_test = weak_stage.arrays()["test_probs"]
    ceiling_test = ceiling.arrays()["test_probs"]
    student_test = student_stage.arrays()["test_probs"]
    metrics = {**test_metrics("weak", weak_test, test_labels), **test_metrics("ceiling", ceiling_test, test_labels),
               **test_metrics("student", student_test, test_labels)}
    metrics["pgr_auroc"] = pgr(metrics["weak_auroc"], metrics["student_auroc"], metrics["ceiling_auroc"])
    metrics["weak_label_acc"] = accuracy(weak_probs, labels[split.strong_train])
    metrics["student_weak_agreement"] = agreement(student_test, weak_test)
    metrics.update(kept_steps(weak=weak_stage, ceiling=ceiling, student=student_stage))
    headline = Headline.from_probs(split.test, test_labels, weak_test, student_test, ceiling_test)
    return SeedResult(metrics, headline)


def ceiling_stage(ctx, split, seed: int):
    """The strong model trained on half B's gold labels, tested on the test split."""
    return ctx.train_stage("ceiling", ctx.learner(ctx.cfg.strong.model), ctx.cfg.strong.train, split.strong_train,
                           ctx.gold_targets(), split.test, seed)


def student_on_labels(ctx, label_probs: np.ndarray, split, seed: int, train: TrainConfig, hard: bool = False,
                      kind: str = "student"):
    """Train the strong model (as `train` says) on `label_probs` over half B, test on the test split."""
    targets = ctx.targets_from(label_probs, split.strong_train, hard=hard)
    return ctx.train_stage(kind, ctx.learner(ctx.cfg.strong.model), train, split.strong_train, targets, split.test, seed)


def judge_on_test(ctx, scheme, setup, split, seed: int):
    """(test items, Judged): the supervising judge under `scheme` on the fixed test subsample."""
    from oversight.judging.config import judged_test_items
    from oversight.judging.run import run_judging

    test_items = judged_test_items(split.test, setup.test_items, ctx.cfg.data.seed)
    return test_items, run_judging(ctx, scheme, setup, test_items, seed, judge_train=split.weak_train, tag="-test")


def judged_headline(ctx, split, test_items: np.ndarray, judged_test, student, ceiling, name: str) -> Headline:
    """The supervising judge, the student and the ceiling on the same test items."""
    at = np.searchsorted(split.test, test_items)  # both sorted: the items' rows in the test predictions
    return Headline.from_probs(test_items, ctx.dataset.labels[test_items], judged_test.probs,
                               student.arrays()["test_probs"][at], ceiling.arrays()["test_probs"][at],
                               baseline=f"{name}-assisted judge on {len(test_items)} test items")


def _judged_w2s(ctx, split, seed: int) -> SeedResult:
    """The supervisor is a weak judge assisted by a judging scheme; it labels half B for the student.

    weak_acc is that judge on the test subsample (`judged.test_items`), where the student and
    ceiling are also scored for the headline; its accuracy on the pool it labelled is
    `<scheme>_judge_acc`, and the full-test accuracies are `*_full_test_acc`.
    """
    from oversight.judging.run import run_judging

    proto, labels = ctx.protocol_cfg, ctx.dataset.labels
    setup, scheme = proto.judged, proto.judged.scheme
    sup = scheme.name
    judged = run_judging(ctx, scheme, setup, split.strong_train, seed, judge_train=split.weak_train)
    test_items, on_test = judge_on_test(ctx, scheme, setup, split, seed)
    ceiling = ceiling_stage(ctx, split, seed)
    student = student_on_labels(ctx, judged.probs, split, seed, proto.student, proto.hard_labels, kind=f"student_{sup}")
    test_labels = labels[split.test]
    metrics = {"student_full_test_acc": accuracy(student.arrays()["test_probs"], test_labels),
               "ceiling_full_test_acc": accuracy(ceiling.arrays()["test_probs"], test_labels),
               f"{sup}_judge_test_acc": on_test.metrics["judge_acc"], **kept_steps(ceiling=ceiling, student=student),
               **{f"{sup}_{k}": v for k, v in judged.metrics.items()}}
    return SeedResult(metrics, judged_headline(ctx, split, test_items, on_test, student, ceiling, sup))
