"""What a judging scheme is: given items and the strong roles, produce for each item the text
the judge reads (once per presentation order) and a transcript record.

A scheme is one file in `oversight/judging/schemes/`: a `SchemeConfig` subclass holding its
settings, with one `LMConfig` field per strong role it speaks through (`debater`, `consultant`,
`critic`; the field name is the role's name), and `@register_scheme("name", ThatConfig)` on
`make(items, roles, cfg, seed) -> [Material]`, where `roles` maps each role to a connected `LMBackend` (judging/lm.py `connect`).
Its transcripts are keyed by exactly that config. `extra_metrics(items, materials, verdicts)` may
add scheme-specific numbers (honest win rate, planted-error detection, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from oversight.judging.items import ask
from oversight.judging.lm import LMConfig
from oversight.registry import ComponentConfig, Registry


@dataclass
class Material:
    views: list[str]  # judge-facing text for the canonical and the swapped order
    record: dict[str, Any] = field(default_factory=dict)  # transcript and per-item facts, saved as JSONL


@dataclass
class SchemeConfig(ComponentConfig):
    """A judging scheme's section: `name` picks it; its own settings and role models follow."""

    def idle_roles(self) -> set[str]:
        """Role fields these settings leave unused (never loaded, not in stage keys)."""
        return set()


def roles_of(cfg: SchemeConfig) -> dict[str, LMConfig]:
    """The strong roles a scheme speaks through: its `LMConfig` fields, by field name."""
    return {f.name: getattr(cfg, f.name) for f in fields(cfg)
            if isinstance(getattr(cfg, f.name), LMConfig) and f.name not in cfg.idle_roles()}


@dataclass(frozen=True)
class SchemeSpec:
    name: str
    make: Callable[..., list[Material]]  # make(items, roles, cfg, seed) -> one Material per item
    extra_metrics: Callable[..., dict[str, float]] | None = None  # (items, materials, verdicts) -> metrics


SCHEMES: Registry[SchemeSpec] = Registry("judging scheme", package="oversight.judging.schemes", config=SchemeConfig)


def register_scheme(name: str, config: type, extra_metrics=None):
    def decorate(fn):
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        SCHEMES.add(name, SchemeSpec(name, fn, extra_metrics), doc, config=config)
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
    """A strong role's conversation: it reads the full passage, and the answers without letters (a
    turn is shown to the judge in both orders, where the letters swap)."""
    parts = [ask(item, letters=False), item.passage_line, history, instruction]
    return [{"role": "user", "content": "\n\n".join(p for p in parts if p)}]


def judge_material(item, text: str = "") -> str:
    """What the judge reads after the question: its partial view of the passage, then `text`."""
    return "\n\n".join(p for p in (item.judge_view, text) if p)
