"""Difficulty as text length in tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from oversight.difficulty import DIFFICULTIES, DifficultyConfig


@dataclass
class LengthConfig(DifficultyConfig):
    tokenizer: str = "minilm-l6"  # model whose tokenizer counts the tokens


@DIFFICULTIES.register("length", LengthConfig)
def length(ctx: Any, cfg: LengthConfig) -> dict[str, np.ndarray]:
    """Text length in tokens of `tokenizer`'s tokenizer, without truncation."""
    from transformers import AutoTokenizer

    from oversight.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(cfg.tokenizer, offline=ctx.ws.offline).path)
    ids = tokenizer(list(ctx.dataset.texts), add_special_tokens=False)["input_ids"]
    return {"scores": np.array([len(x) for x in ids], dtype=np.float64)}
