"""What a stage key or a run name hashes: a config's fields, minus those that cannot change a result.

A field declared with `unkeyed(default)` changes how a result is produced or recorded, never the
result: how often training logs or checkpoints, where an inference server lives, how many requests
are in flight. `key_dict(cfg)` is `dataclasses.asdict` without such fields, at every depth, so
moving a server or logging more often reuses every cached stage and keeps the run's name.
"""

from __future__ import annotations

from dataclasses import MISSING, field, fields, is_dataclass
from typing import Any


def unkeyed(default: Any = MISSING, *, default_factory: Any = MISSING) -> Any:
    """A dataclass field left out of stage keys and run names (`key_dict`)."""
    return field(default=default, default_factory=default_factory, metadata={"keyed": False})


def key_dict(node: Any) -> Any:
    """`dataclasses.asdict(node)` without its `unkeyed` fields, recursively."""
    return as_plain(node, keyed_only=True)


def as_plain(node: Any, keyed_only: bool = False) -> Any:
    """Dataclasses as dicts, recursively (every field, or with `keyed_only` the keyed ones)."""
    if is_dataclass(node) and not isinstance(node, type):
        return {f.name: as_plain(getattr(node, f.name), keyed_only) for f in fields(node)
                if not (keyed_only and f.metadata.get("keyed") is False)}
    if isinstance(node, (list, tuple)):
        return [as_plain(v, keyed_only) for v in node]
    if isinstance(node, dict):
        return {k: as_plain(v, keyed_only) for k, v in node.items()}
    return node
