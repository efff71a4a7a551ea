"""Difficulty read from a numeric dataset column (grade level, number of reasoning steps, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from oversight.difficulty import DIFFICULTIES, DifficultyConfig
from oversight.errors import ConfigError, DataError


@dataclass
class ColumnConfig(DifficultyConfig):
    column: str = ""  # dataset column holding a number, higher = harder


@DIFFICULTIES.register("column", ColumnConfig)
def column(ctx: Any, cfg: ColumnConfig) -> dict[str, np.ndarray]:
    """A numeric dataset column named by `column` (grade level, reasoning steps, ...)."""
    columns = ctx.dataset.columns
    if cfg.column not in columns:
        raise ConfigError(f"difficulty.column={cfg.column!r} is not a column of {ctx.dataset.name}; "
                          f"it has: {', '.join(sorted(columns)) or 'none'}")
    try:
        return {"scores": np.asarray(columns[cfg.column], dtype=np.float64)}
    except (TypeError, ValueError) as err:
        raise DataError(f"column {cfg.column!r} of {ctx.dataset.name} is not numeric: {err}") from err
