"""Per-example difficulty measures for easy-to-hard generalization (Hase et al. 2024, "The
Unreasonable Effectiveness of Easy Training Data for Hard Tasks"; Sun et al. 2024).

A measure maps the whole dataset to one score per example, higher = harder:
  column        a numeric dataset column (grade level, number of reasoning steps, ...);
  length        text length in tokens of a model's tokenizer (the fallback when nothing else exists);
  model_loss    a reference probe's cross-entropy on the gold label, out-of-fold;
  model_margin  minus the reference probe's margin p(gold) - max p(other), out-of-fold.
Out-of-fold: the examples are dealt into `folds` folds and each fold is scored by a probe trained
on the other folds, so no example is scored by a model that saw its label. Scores are a cached
stage (`_stages/difficulty/`), each fold's probe a cached training stage. Register a new measure
with `@DIFFICULTIES.register("name")` on `measure(ctx, cfg) -> {"scores": ..., ...}`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from oversight.errors import ConfigError, DataError
from oversight.registry import Registry
from oversight.training.trainer import TrainConfig


@dataclass
class DifficultyConfig:
    name: str = "model_loss"  # registered measure: model_loss | model_margin | length | column
    column: str = ""  # `column`: dataset column holding a number, higher = harder
    reference: str = "minilm-l6"  # model_loss/model_margin: reference model, trained as a probe out-of-fold
    folds: int = 5  # model_loss/model_margin: number of folds (each example scored by a probe blind to it)
    tokenizer: str = ""  # `length`: model whose tokenizer counts tokens ("" = `reference`)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=10, lr=1e-3, weight_decay=1.0))  # reference probe training


class DifficultyMeasure(Protocol):
    """`measure(ctx, cfg) -> {"scores": float array over the dataset, optional extras}`, e.g.

    @DIFFICULTIES.register("length")
    def length(ctx, cfg: DifficultyConfig) -> dict[str, np.ndarray]: ...
    """

    def __call__(self, ctx: Any, cfg: DifficultyConfig) -> dict[str, np.ndarray]: ...


DIFFICULTIES: Registry[DifficultyMeasure] = Registry("difficulty measure")


def difficulty_scores(ctx: Any, cfg: DifficultyConfig) -> dict[str, np.ndarray]:
    """The measure's arrays for every example, computed once per (data, measure config) and cached.

    Independent of the run seed: every seed splits the same ranking into easy and hard.
    """
    measure = DIFFICULTIES.get(cfg.name)
    spec = {"data": ctx.fingerprint, "difficulty": asdict(cfg), "data_seed": ctx.cfg.data.seed}

    def compute(workdir: Path):
        arrays = measure(ctx, cfg)
        scores = np.asarray(arrays["scores"], dtype=np.float64)
        if scores.shape != (len(ctx.dataset),) or not np.isfinite(scores).all():
            raise DataError(f"difficulty {cfg.name!r} gave {scores.shape} scores (finite: {np.isfinite(scores).all()}) "
                            f"for {len(ctx.dataset)} examples")
        meta = {"measure": cfg.name, "mean": float(scores.mean()), "std": float(scores.std())}
        return meta, {**arrays, "scores": scores}

    return ctx.store.run("difficulty", spec, compute).arrays()


def fold_assignment(n: int, folds: int, data_seed: int) -> np.ndarray:
    """Fold id of each example: a seeded deal, so fold sizes differ by at most one."""
    if not 2 <= folds <= n:
        raise ConfigError(f"difficulty.folds={folds} must be between 2 and the number of examples ({n})")
    fold = np.empty(n, dtype=np.int64)
    fold[np.random.default_rng(data_seed).permutation(n)] = np.arange(n) % folds
    return fold


def out_of_fold_probs(ctx: Any, cfg: DifficultyConfig) -> tuple[np.ndarray, np.ndarray]:
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


@DIFFICULTIES.register("model_loss")
def model_loss(ctx: Any, cfg: DifficultyConfig) -> dict[str, np.ndarray]:
    """Out-of-fold cross-entropy of a reference probe on the gold label (higher = harder)."""
    probs, fold = out_of_fold_probs(ctx, cfg)
    p_gold = probs[np.arange(len(probs)), ctx.dataset.labels]
    return {"scores": -np.log(np.clip(p_gold, 1e-12, 1.0)), "folds": fold, "probs": probs}


@DIFFICULTIES.register("model_margin")
def model_margin(ctx: Any, cfg: DifficultyConfig) -> dict[str, np.ndarray]:
    """Minus the out-of-fold margin p(gold) - max p(other) of a reference probe (higher = harder)."""
    probs, fold = out_of_fold_probs(ctx, cfg)
    rows = np.arange(len(probs))
    p_gold = probs[rows, ctx.dataset.labels]
    others = probs.copy()
    others[rows, ctx.dataset.labels] = -np.inf
    return {"scores": others.max(1) - p_gold, "folds": fold, "probs": probs}


@DIFFICULTIES.register("length")
def length(ctx: Any, cfg: DifficultyConfig) -> dict[str, np.ndarray]:
    """Text length in tokens of `tokenizer` (or `reference`)'s tokenizer, without truncation."""
    from transformers import AutoTokenizer

    from oversight.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(cfg.tokenizer or cfg.reference, offline=ctx.ws.offline).path)
    ids = tokenizer(list(ctx.dataset.texts), add_special_tokens=False)["input_ids"]
    return {"scores": np.array([len(x) for x in ids], dtype=np.float64)}


@DIFFICULTIES.register("column")
def column(ctx: Any, cfg: DifficultyConfig) -> dict[str, np.ndarray]:
    """A numeric dataset column named by `column` (grade level, reasoning steps, ...)."""
    columns = ctx.dataset.columns
    if cfg.column not in columns:
        raise ConfigError(f"difficulty.column={cfg.column!r} is not a column of {ctx.dataset.name}; "
                          f"it has: {', '.join(sorted(columns)) or 'none'}")
    try:
        return {"scores": np.asarray(columns[cfg.column], dtype=np.float64)}
    except (TypeError, ValueError) as err:
        raise DataError(f"column {cfg.column!r} of {ctx.dataset.name} is not numeric: {err}") from err
