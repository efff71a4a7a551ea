"""Direct question answering: the judge alone (the floor) and the judge reading the whole passage
(the ceiling of what the judge could do with full information)."""

from __future__ import annotations

from oversight.judging.base import Material, judge_material, register_judging


@register_judging("direct")
def direct(items, roles, cfg, seed) -> list[Material]:
    """The judge alone: question and its partial view, no assistance (the floor)."""
    return [Material([judge_material(it)] * 2) for it in items]


@register_judging("direct_passage")
def direct_passage(items, roles, cfg, seed) -> list[Material]:
    """The judge reads the whole passage: the information ceiling for this judge."""
    return [Material([it.passage_line] * 2) for it in items]
