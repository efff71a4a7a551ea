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
from typing import TYPE_CHECKING

import numpy as np

from oversight.errors import ConfigError
from oversight.headline import Headline, SeedResult
from oversight.judging.config import JudgedSupervision
from oversight.metrics import accuracy, agreement, pgr, test_metrics
from oversight.protocols.base import register_protocol
from oversight.stages import kept_steps
from oversight.training.config import TrainConfig, follows
from oversight.training.losses import LOSSES
from oversight.training.selection import check_selection

if TYPE_CHECKING:  # the context imports torch; configs load without it
    from oversight.context import Context
    from oversight.protocols.splits import Split
    from oversight.stages import StageResult


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

    def unread_sections(self) -> dict[str, str]:
        """With `judged`, the judge supervises: no weak model is trained, and the run config has no weak: section."""
        return {"weak": "w2s.judged is set (a judge supervises)"} if self.judged is not None else {}

    def check_run(self, run) -> None:
        if self.judged is not None:
            self.judged.check_run(run)
        elif run.split.weak_train == 0:
            raise ConfigError("split.weak_train must be positive: the weak supervisor trains on it (0 only with w2s.judged)")


def w2s_rows(ctx: Context) -> np.ndarray:
    """Every example a W2S run trains, labels or tests on, over all its seeds."""
    splits = [ctx.split(seed) for seed in ctx.cfg.seeds]
    return np.unique(np.concatenate([np.concatenate([s.weak_train, s.strong_train, s.test]) for s in splits]))


@register_protocol("w2s", W2SConfig, rows_used=w2s_rows)
def run_w2s(ctx: Context, seed: int) -> SeedResult:
    """Weak-to-strong: weak supervisor labels → strong student; PGR against the strong ceiling."""
    proto: W2SConfig = ctx.protocol_cfg
    split = ctx.split(seed)
    labels = ctx.dataset.labels
    if proto.judged is not None:
        return _judged_w2s(ctx, split, seed)
    weak_stage = ctx.supervisor(split, seed)
    weak_probs = ctx.weak_labels(weak_stage, split, seed).arrays()["probs"]
    ceiling = ctx.ceiling(split, seed)
    student_stage = ctx.student(weak_probs, split, seed, proto.student, proto.hard_labels)

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


def judge_on_test(ctx: Context, scheme, setup, split: Split, seed: int):
    """(test items, Judged): the supervising judge under `scheme` on the fixed test subsample."""
    from oversight.judging.config import judged_test_items
    from oversight.judging.run import run_judging

    test_items = judged_test_items(split.test, setup.test_items, ctx.cfg.data.seed)
    return test_items, run_judging(ctx, scheme, setup, test_items, seed, judge_train=split.weak_train, tag="-test")


def judged_headline(ctx: Context, split: Split, test_items: np.ndarray, judged_test, student: StageResult, ceiling: StageResult,
                    name: str) -> Headline:
    """The supervising judge, the student and the ceiling on the same test items."""
    at = np.searchsorted(split.test, test_items)  # both sorted: the items' rows in the test predictions
    return Headline.from_probs(test_items, ctx.dataset.labels[test_items], judged_test.probs,
                               student.arrays()["test_probs"][at], ceiling.arrays()["test_probs"][at],
                               baseline=f"{name}-assisted judge on {len(test_items)} test items")


def _judged_w2s(ctx: Context, split: Split, seed: int) -> SeedResult:
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
    ceiling = ctx.ceiling(split, seed)
    student = ctx.student(judged.probs, split, seed, proto.student, proto.hard_labels, kind=f"student_{sup}")
    test_labels = labels[split.test]
    metrics = {"student_full_test_acc": accuracy(student.arrays()["test_probs"], test_labels),
               "ceiling_full_test_acc": accuracy(ceiling.arrays()["test_probs"], test_labels),
               f"{sup}_judge_test_acc": on_test.metrics["judge_acc"], **kept_steps(ceiling=ceiling, student=student),
               **{f"{sup}_{k}": v for k, v in judged.metrics.items()}}
    return SeedResult(metrics, judged_headline(ctx, split, test_items, on_test, student, ceiling, sup))
