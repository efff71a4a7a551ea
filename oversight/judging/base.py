"""What a judging protocol is: given items and the strong roles, produce for each item the text
the judge reads (once per presentation order) and a transcript record.

Register with `@register_judging("name", roles=("debater",), settings=("rounds",))`; `roles` names
the language models the protocol speaks through and `settings` the `JudgingConfig` fields its
transcripts depend on, so only those enter its cache key. `extra_metrics(items, materials,
verdicts)` may add protocol-specific numbers (honest win rate, planted-error detection, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oversight.judging.items import ask
from oversight.registry import Registry


@dataclass
class Material:
    views: list[str]  # judge-facing text for the canonical and the swapped order
    record: dict[str, Any] = field(default_factory=dict)  # transcript and per-item facts, saved as JSONL


@dataclass(frozen=True)
class JudgingSpec:
    name: str
    make: Callable[..., list[Material]]  # make(items, roles, cfg, seed) -> one Material per item
    roles: tuple[str, ...]  # LM roles used: "debater", "critic"
    settings: tuple[str, ...]  # JudgingConfig fields the transcripts depend on, e.g. "rounds"
    extra_metrics: Callable[..., dict[str, float]] | None = None  # (items, materials, verdicts) -> metrics


JUDGING: Registry[JudgingSpec] = Registry("judging protocol")


def register_judging(name: str, roles: tuple[str, ...] = (), settings: tuple[str, ...] = (), extra_metrics=None):
    def decorate(fn):
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        JUDGING.add(name, JudgingSpec(name, fn, roles, settings, extra_metrics), doc)
        return fn

    return decorate


def side_label(k: int) -> str:
    return f"Debater {k + 1}"


def honest_win_rate(items, verdicts) -> float:
    """Share of single-order verdicts (both orders counted) that pick the gold answer."""
    correct = np.array([it.correct for it in items])
    picks = verdicts.order_probs.argmax(-1)  # (n, 2 orders)
    return float((picks == correct[:, None]).mean())


def quote_rate(materials, prefix: str = "") -> float:
    """Verified share of all quotes, from the records' `<prefix>verified_quotes` / `<prefix>quotes` counts."""
    verified = sum(m.record[f"{prefix}verified_quotes"] for m in materials)
    total = sum(m.record[f"{prefix}quotes"] for m in materials)
    return verified / total if total else float("nan")


def strong_prompt(item, instruction: str, history: str = "") -> list[dict[str, str]]:
    """A strong role's conversation: it reads the full passage."""
    parts = [ask(item, item.answers), item.passage_line, history, instruction]
    return [{"role": "user", "content": "\n\n".join(p for p in parts if p)}]


def judge_material(item, text: str = "") -> str:
    """What the judge reads after the question: its partial view of the passage, then `text`."""
    return "\n\n".join(p for p in (item.judge_view, text) if p)
