"""Direct question answering: the judge alone (the floor) and the judge reading the whole passage
(the ceiling of what the judge could do with full information). Neither has settings or roles."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.judging.base import Material, SchemeConfig, judge_material, register_scheme


@dataclass
class DirectConfig(SchemeConfig):
    """No settings: the judge reads the question and its partial view (or, direct_passage, the whole passage)."""


@register_scheme("direct", DirectConfig)
def direct(items, roles, cfg, seed) -> list[Material]:
    """The judge alone: question and its partial view, no assistance (the floor)."""
    return [Material([judge_material(it)] * 2) for it in items]


@register_scheme("direct_passage", DirectConfig)
def direct_passage(items, roles, cfg, seed) -> list[Material]:
    """The judge reads the whole passage: the information ceiling for this judge."""
    return [Material([it.passage_line] * 2) for it in items]
