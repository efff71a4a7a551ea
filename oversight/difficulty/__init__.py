"""Per-example difficulty measures for easy-to-hard generalization (Hase et al. 2024, "The
Unreasonable Effectiveness of Easy Training Data for Hard Tasks"; Sun et al. 2024).

A measure maps the whole dataset to one score per example, higher = harder:
  column        a numeric dataset column (grade level, number of reasoning steps, ...);
  length        text length in tokens of a model's tokenizer (the fallback when nothing else exists);
  model_loss    a reference probe's cross-entropy on the gold label, out-of-fold;
  model_margin  minus the reference probe's margin p(gold) - max p(other), out-of-fold.
Out-of-fold: the examples are dealt into `folds` folds and each fold is scored by a probe trained
on the other folds, so no example is scored by a model that saw its label. Scores are a cached
stage (`_stages/difficulty/`), each fold's probe a cached training stage. A measure is one file in
this package: a `DifficultyConfig` subclass with its settings and `@DIFFICULTIES.register("name",
ThatConfig)` on `measure(ctx, cfg) -> {"scores": ..., ...}`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from oversight.errors import ConfigError, DataError
from oversight.registry import ComponentConfig, Registry


@dataclass
class DifficultyConfig(ComponentConfig):
    """A difficulty measure's section: `name` picks it (`oversight list`); its own settings follow."""


class DifficultyMeasure(Protocol):
    """`measure(ctx, cfg) -> {"scores": float array over the dataset, optional extras}`, e.g.

    @DIFFICULTIES.register("length", LengthConfig)
    def length(ctx, cfg: LengthConfig) -> dict[str, np.ndarray]: ...
    """

    def __call__(self, ctx: Any, cfg: DifficultyConfig) -> dict[str, np.ndarray]: ...


DIFFICULTIES: Registry[DifficultyMeasure] = Registry("difficulty measure", package=__name__, config=DifficultyConfig)


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

    return ctx.run_stage("difficulty", spec, compute, ctx.cfg.data.seed).arrays()


def fold_assignment(n: int, folds: int, data_seed: int) -> np.ndarray:
    """Fold id of each example: a seeded deal, so fold sizes differ by at most one."""
    if not 2 <= folds <= n:
        raise ConfigError(f"difficulty.folds={folds} must be between 2 and the number of examples ({n})")
    fold = np.empty(n, dtype=np.int64)
    fold[np.random.default_rng(data_seed).permutation(n)] = np.arange(n) % folds
    return fold


