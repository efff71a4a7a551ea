"""What a stage key or a run name hashes: a config's fields, minus those that cannot change a result.

A field declared with `unkeyed(default)` changes how a result is produced or recorded, never the
result: how often training logs or checkpoints, where an inference server lives, how many requests
are in flight. `key_dict(cfg)` is `dataclasses.asdict` without such fields, at every depth, so
moving a server or logging more often reuses every cached stage and keeps the run's name.

A field declared with `keyed_if_set(default)` was added after results were cached: at its default
it does exactly what runs did before it existed, so it is keyed only when set to something else,
and every earlier stage key and run name stays valid.
"""

from __future__ import annotations

from dataclasses import MISSING, field, fields, is_dataclass
from typing import Any


def unkeyed(default: Any = MISSING, *, default_factory: Any = MISSING) -> Any:
    """A dataclass field left out of stage keys and run names (`key_dict`)."""
    return field(default=default, default_factory=default_factory, metadata={"keyed": False})


def keyed_if_set(default: Any = MISSING, *, default_factory: Any = MISSING) -> Any:
    """A dataclass field in stage keys and run names only when it differs from its default (`key_dict`)."""
    return field(default=default, default_factory=default_factory, metadata={"keyed": "if_set"})


def key_dict(node: Any) -> Any:
    """`dataclasses.asdict(node)` without its `unkeyed` fields, recursively."""
    return as_plain(node, keyed_only=True)


def as_plain(node: Any, keyed_only: bool = False) -> Any:
    """Dataclasses as dicts, recursively (every field, or with `keyed_only` the keyed ones)."""
    if is_dataclass(node) and not isinstance(node, type):
        return {f.name: as_plain(getattr(node, f.name), keyed_only) for f in fields(node)
                if not (keyed_only and _left_out(f, getattr(node, f.name)))}
    if isinstance(node, (list, tuple)):
        return [as_plain(v, keyed_only) for v in node]
    if isinstance(node, dict):
        return {k: as_plain(v, keyed_only) for k, v in node.items()}
    return node


def _left_out(f: Any, value: Any) -> bool:
    keyed = f.metadata.get("keyed", True)
    if keyed == "if_set":
        return value == (f.default_factory() if f.default is MISSING else f.default)
    return keyed is False
