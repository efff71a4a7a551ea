"""What a protocol is: a config dataclass plus `run_seed(ctx, seed) -> metrics` for one seed.

Every protocol reports the same headline keys so their rows line up in one "supervision
transferred" table: `weak_acc` (the supervisor alone), `student_acc` (the strong model trained on
that supervision), `ceiling_acc` (the strong model on ground truth) and `pgr`. Extra keys are
allowed. Register with `@register_protocol("name", ConfigClass, sections=(...))`: the config
becomes the run config's `<name>:` section, and `sections` names the shared sections it reads
(data, split, weak, strong; the others are absent from its config). A config may define
`check_run(run)` for rules that span sections, and `unread_sections()` → {section: reason} for
sections its own settings leave unread (W2S with `judged:` trains no weak model). Every module of this package is imported on first
lookup, so adding a protocol is adding a file; nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from oversight.registry import Registry

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context

HEADLINE_KEYS = ("weak_acc", "student_acc", "ceiling_acc", "pgr")


class SeedRunner(Protocol):
    def __call__(self, ctx: Context, seed: int) -> dict[str, float]:
        """Run every stage of the protocol for one seed and return its metrics."""


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    config_cls: type
    run_seed: SeedRunner
    description: str
    sections: tuple[str, ...] = ("data", "split", "weak", "strong")  # shared run-config sections it reads
    summary_table: Callable[[dict], str] | None = None  # extra table printed after the run, from the seed summary
    summary_rows: Callable[[dict], tuple[str, list[str], list[list]]] | None = None  # (name, columns, rows) logged as a wandb table
    rows_used: Callable[[Context], Any] | None = None  # ctx -> every example index the run's probes read (features computed once, up front)


PROTOCOLS: Registry[ProtocolSpec] = Registry("protocol", package="oversight.protocols")


def register_protocol(name: str, config_cls: type, sections: tuple[str, ...] = ("data", "split", "weak", "strong"),
                      summary_table: Callable[[dict], str] | None = None,
                      summary_rows: Callable[[dict], tuple[str, list[str], list[list]]] | None = None,
                      rows_used: Callable[[Context], Any] | None = None) -> Callable[[SeedRunner], SeedRunner]:
    """Decorate `run_seed(ctx, seed)`; e.g. `@register_protocol("w2s", W2SConfig)`.

    A protocol that brings its own data reads no `data:` section: `ctx.dataset` is then None.
    `rows_used(ctx)` lists the examples its probes read over all seeds, so their features are
    extracted in one pass before the first stage (without it, each stage extracts what it lacks).
    """

    def decorate(fn: SeedRunner) -> SeedRunner:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        PROTOCOLS.add(name, ProtocolSpec(name, config_cls, fn, doc, sections, summary_table=summary_table,
                                         summary_rows=summary_rows, rows_used=rows_used), doc)
        return fn

    return decorate
