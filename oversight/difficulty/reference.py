"""Difficulty as a reference probe finds it, out-of-fold: its loss on the gold label, or minus its margin."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from oversight.difficulty import DIFFICULTIES, DifficultyConfig, fold_assignment
from oversight.training.config import TrainConfig


@dataclass
class ReferenceConfig(DifficultyConfig):
    reference: str = "minilm-l6"  # reference model, trained as a probe out-of-fold
    folds: int = 5  # number of folds (each example scored by a probe blind to it)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=10, lr=1e-3, weight_decay=1.0))  # reference probe training


def out_of_fold_probs(ctx: Any, cfg: ReferenceConfig) -> tuple[np.ndarray, np.ndarray]:
    """(probs [n, classes], fold ids): fold f predicted by the reference probe trained on folds != f."""
    n = len(ctx.dataset)
    fold = fold_assignment(n, cfg.folds, ctx.cfg.data.seed)
    # the reference shares the strong model's settings (pooling, max_length); only the backbone differs
    learner = ctx.learner(replace(ctx.cfg.strong.model, model=cfg.reference, mode="probe"))
    gold = ctx.gold_targets()
    probs = np.zeros_like(gold)
    for f in range(cfg.folds):
        held = np.flatnonzero(fold == f)
        stage = ctx.train_stage(f"difficulty_fold{f}", learner, cfg.train, np.flatnonzero(fold != f), gold, held,
                                ctx.cfg.data.seed)
        probs[held] = stage.arrays()["test_probs"]
    return probs, fold


@DIFFICULTIES.register("model_loss", ReferenceConfig)
def model_loss(ctx: Any, cfg: ReferenceConfig) -> dict[str, np.ndarray]:
    """Out-of-fold cross-entropy of a reference probe on the gold label (higher = harder)."""
    probs, fold = out_of_fold_probs(ctx, cfg)
    p_gold = probs[np.arange(len(probs)), ctx.dataset.labels]
    return {"scores": -np.log(np.clip(p_gold, 1e-12, 1.0)), "folds": fold, "probs": probs}


@DIFFICULTIES.register("model_margin", ReferenceConfig)
def model_margin(ctx: Any, cfg: ReferenceConfig) -> dict[str, np.ndarray]:
    """Minus the out-of-fold margin p(gold) - max p(other) of a reference probe (higher = harder)."""
    probs, fold = out_of_fold_probs(ctx, cfg)
    rows = np.arange(len(probs))
    p_gold = probs[rows, ctx.dataset.labels]
    others = probs.copy()
    others[rows, ctx.dataset.labels] = -np.inf
    return {"scores": others.max(1) - p_gold, "folds": fold, "probs": probs}
