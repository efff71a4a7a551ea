"""Easy-to-hard generalization (Hase et al. 2024, "The Unreasonable Effectiveness of Easy Training
Data for Hard Tasks"; Sun et al. 2024): does supervision we can give on easy problems carry to hard ones?

Rank the data by a difficulty measure (oversight/difficulty/); the bottom `easy_pct`% is easy,
the top `hard_pct`% hard. The strong model trains on easy gold labels (easy_acc) or on hard gold
labels (hard_acc); both are tested on a hard test slice, against a floor: `zero_shot`, the strong
model with no labels at all (oversight/zero_shot.py; Hase et al.'s unsupervised floor), or
`majority`, the hard training labels' most frequent class. Both are reported; `floor` picks SGR's.
Supervision gap recovered SGR = (easy - floor) / (hard - floor).
Headline keys: weak_acc = floor_acc, student_acc = easy_acc, ceiling_acc = hard_acc, pgr = SGR.
The cross W2S × E2H (`w2s_e2h_*`): the weak model trains on easy gold, labels the hard training
set, and the strong student trains on those labels; its PGR is against the weak model and hard_acc.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from oversight.difficulty import DIFFICULTIES, DifficultyConfig, difficulty_scores
from oversight.errors import ConfigError
from oversight.headline import Headline, SeedResult
from oversight.metrics import accuracy, agreement, pgr, test_metrics
from oversight.protocols.base import register_protocol
from oversight.protocols.splits import difficulty_split
from oversight.protocols.w2s import student_training
from oversight.stages import kept_steps
from oversight.training.config import TrainConfig
from oversight.training.selection import check_selection
from oversight.transfer_stats import seed_pgr
from oversight.zero_shot import zero_shot_probs

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context


@dataclass
class E2HConfig:
    difficulty: DifficultyConfig = field(default_factory=lambda: DIFFICULTIES.config("model_loss"))  # the measure of how hard each example is, and its settings
    easy_pct: float = 30.0  # bottom percent of difficulty that counts as easy
    hard_pct: float = 30.0  # top percent of difficulty that counts as hard (the middle is unused)
    train: int = 1000  # training examples drawn from each band per seed
    test: int = 500  # hard test examples, fixed by data.seed (the same for every run seed)
    floor: str = "zero_shot"  # SGR's floor: zero_shot (the strong model, no labels) | majority (the hard training labels' top class)
    zero_shot_template: str = "This text is {label}."  # zero_shot: the prompt each class name is embedded as
    cross: bool = True  # also run W2S × E2H: easy-trained weak labels on hard data → strong student
    student: TrainConfig = field(default_factory=student_training)  # the cross student's training on weak labels; unset fields follow strong.train

    def __post_init__(self) -> None:
        check_selection(self.student.select, gold_targets=False, where="e2h.student.select")
        if self.floor not in FLOORS:
            raise ConfigError(f"e2h.floor={self.floor!r}; choose one of {', '.join(FLOORS)}")


FLOORS = ("zero_shot", "majority")


def supervision_gap_recovered(floor: float, easy: float, hard: float) -> float:
    """SGR = (easy - floor) / (hard - floor); NaN when hard training does not beat the floor."""
    return pgr(floor, easy, hard)


def majority_floor(train_labels: np.ndarray, test_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Per test example, whether always answering the training labels' most frequent class is right."""
    majority = int(np.bincount(train_labels, minlength=n_classes).argmax())
    return test_labels == majority


@register_protocol("e2h", E2HConfig, sections=("data", "weak", "strong"))
def run_e2h(ctx: Context, seed: int) -> SeedResult:
    """Easy-to-hard: strong model trained on easy vs hard gold labels, tested on hard; SGR over a floor."""
    cfg, proto = ctx.cfg, ctx.protocol_cfg
    scores = difficulty_scores(ctx, proto.difficulty)["scores"]
    split = difficulty_split(scores, proto.easy_pct, proto.hard_pct, proto.train, proto.test, cfg.data.seed, seed)
    gold, labels = ctx.gold_targets(), ctx.dataset.labels
    strong = ctx.learner(cfg.strong.model)
    test = split.hard_test

    easy_stage = ctx.train_stage("easy", strong, cfg.strong.train, split.easy_train, gold, test, seed)
    hard_stage = ctx.train_stage("hard", strong, cfg.strong.train, split.hard_train, gold, test, seed)
    easy_test, hard_test = easy_stage.arrays()["test_probs"], hard_stage.arrays()["test_probs"]
    test_labels = labels[test]

    metrics = {**test_metrics("easy", easy_test, test_labels), **test_metrics("hard", hard_test, test_labels)}
    floors = {"majority": majority_floor(labels[split.hard_train], test_labels, len(ctx.dataset.classes)),
              "zero_shot": zero_shot_probs(ctx, cfg.strong.model, proto.zero_shot_template, test).argmax(-1) == test_labels}
    metrics.update({f"floor_{name}_acc": float(right.mean()) for name, right in floors.items()})
    metrics["floor_acc"] = metrics[f"floor_{proto.floor}_acc"]
    metrics.update(kept_steps(easy=easy_stage, hard=hard_stage))
    # SGR is the headline PGR: floor → weak_acc, easy → student_acc, hard → ceiling_acc
    floor_name = {"majority": "majority-class floor", "zero_shot": f"zero-shot floor ({cfg.strong.model.model}, no labels)"}
    headline = Headline(test, floors[proto.floor], easy_test.argmax(-1) == test_labels, hard_test.argmax(-1) == test_labels,
                        baseline=f"{floor_name[proto.floor]}; pgr is SGR")
    # how far apart the bands are on the measure itself: a split with no gap tests nothing
    metrics["difficulty_easy_mean"] = float(scores[split.easy_train].mean())
    metrics["difficulty_hard_mean"] = float(scores[test].mean())
    if proto.cross:
        metrics.update(cross_w2s(ctx, split, hard_test, seed))
    return SeedResult(metrics, headline)


def cross_w2s(ctx: Context, split, hard_test_probs: np.ndarray, seed: int) -> dict[str, float]:
    """W2S × E2H: weak trained on easy gold labels the hard training set; strong student learns them."""
    cfg, proto = ctx.cfg, ctx.protocol_cfg
    gold, labels = ctx.gold_targets(), ctx.dataset.labels
    weak, strong = ctx.learner(cfg.weak.model), ctx.learner(cfg.strong.model)
    test = split.hard_test

    weak_stage = ctx.train_stage("easy_weak", weak, cfg.weak.train, split.easy_train, gold, test, seed)
    label_stage = ctx.label_stage(weak_stage, weak, cfg.weak.train, split.easy_train, split.hard_train, seed)
    weak_probs = label_stage.arrays()["probs"]
    targets = ctx.targets_from(weak_probs, split.hard_train)
    student_stage = ctx.train_stage("e2h_student", strong, proto.student, split.hard_train, targets, test, seed)

    weak_test, student_test = weak_stage.arrays()["test_probs"], student_stage.arrays()["test_probs"]
    test_labels = labels[test]
    out = {"w2s_e2h_weak_acc": accuracy(weak_test, test_labels), "w2s_e2h_student_acc": accuracy(student_test, test_labels)}
    right = lambda probs: probs.argmax(-1) == test_labels  # noqa: E731  per hard test example
    out["w2s_e2h_pgr"] = seed_pgr(right(weak_test), right(student_test), right(hard_test_probs), test, seed=seed)
    out["w2s_e2h_weak_label_acc"] = accuracy(weak_probs, labels[split.hard_train])
    out["w2s_e2h_student_weak_agreement"] = agreement(student_test, weak_test)
    return out
