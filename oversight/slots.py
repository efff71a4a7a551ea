"""Typed component sections: the schema each config section is checked against, chosen by `name:`.

A config field typed with a registry's base config class is a slot (`loss: LossConfig`,
`data: DataConfig`, `schemes: list[SchemeConfig]`). Before the YAML layers are merged onto the
schema, `specialize` walks the schema and puts in each slot the config class of the component
the layers name, so `{name: logconf, alpha_max: 0.5}` is checked against logconf's own fields,
a sibling's field is an unknown key, and an unknown name fails with the registered names, all
at load time. A later layer that names another component replaces the slot's earlier settings.
A list slot takes names alone as shorthand: `schemes: [direct, debate]`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from oversight.errors import ConfigError
from oversight.registry import slot_registry


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """(inner type, is a list) of a field annotation, `X | None` read as `X`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and args:
        return args[0], True
    return hint, False


def sub_layers(layers: list[Any], key: str) -> list[Any]:
    """Each layer's value at `key` (None where a layer does not set it)."""
    return [layer._get_node(key) if isinstance(layer, DictConfig) and key in layer else None for layer in layers]


def _name_alone(layers: list[Any], key: str) -> None:
    """`loss: xent` (a name alone) means `loss: {name: xent}`."""
    for parent in layers:
        if isinstance(parent, DictConfig) and key in parent:
            node = parent._get_node(key)
            if not isinstance(node, (DictConfig, ListConfig)) and isinstance(node._value(), str) and not node._is_interpolation():
                parent[key] = {"name": node._value()}


def _chosen(layers: list[Any], default: str | None, registry, where: str) -> str | None:
    """The component a slot ends up naming. A layer that names another component than the one in
    effect voids what earlier layers set for that slot that the new component has no field for (the
    old component's own settings), so `w2s.student.loss.name=xent` on the command line drops a
    YAML's logconf settings, while `data.name=quartz` keeps its `max_examples`."""
    name = default
    for k, node in enumerate(layers):
        if isinstance(node, DictConfig) and "name" in node and node.name != name:
            name = str(node.name)
            fields = {f.name for f in dataclasses.fields(registry.config_class(name, where))}
            for stale in layers[:k]:
                if isinstance(stale, DictConfig):
                    for field in [f for f in stale.keys() if f not in fields]:
                        del stale[field]
    return name


def specialize(schema: DictConfig, cls: type, layers: list[Any], path: str = "") -> list[str]:
    """Swap each slot under `schema` (a structured node of dataclass `cls`) for the config class the
    layers (each layer's node at this point, in merge order) name. Returns the dotted paths of list
    slots, which it fills whole from the last layer that sets them (the caller drops them from the
    layers, since a list merge would replace the typed items)."""
    replaced: list[str] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        inner, is_list = _unwrap(hints[f.name])
        where = f"{path}{f.name}"
        registry = slot_registry(inner)
        if registry is not None and not is_list:
            _name_alone(layers, f.name)
        subs = sub_layers(layers, f.name)
        if is_list and registry is not None:
            last = next((node for node in reversed(subs) if isinstance(node, ListConfig)), None)
            if last is not None:
                schema[f.name] = [_component(registry, item, f"{where}[{i}]", replaced) for i, item in enumerate(last)]
                replaced.append(where)
            continue
        if registry is not None:
            current = schema[f.name]
            name = _chosen(subs, current.name if current is not None else None, registry, where)
            if name is None:
                continue
            chosen = registry.config_class(name, where)
            if current is None or OmegaConf.get_type(current) is not chosen:
                schema[f.name] = OmegaConf.structured(chosen(name=name))
                OmegaConf.set_struct(schema[f.name], True)  # a key the component does not have is an error
            replaced += specialize(schema[f.name], chosen, subs, where + ".")
        elif dataclasses.is_dataclass(inner) and not is_list:
            if schema[f.name] is None:
                if all(node is None for node in subs):
                    continue
                schema[f.name] = OmegaConf.structured(inner)
                OmegaConf.set_struct(schema[f.name], True)
            replaced += specialize(schema[f.name], inner, subs, where + ".")
    return replaced


def _component(registry, item: Any, where: str, replaced: list[str]) -> DictConfig:
    """One list item: a name, or a mapping with a `name:`, as a node of that component's config."""
    if isinstance(item, str):
        item = OmegaConf.create({"name": item})
    if not isinstance(item, DictConfig) or "name" not in item:
        raise ConfigError(f"{where}: give a registered {registry.kind} name, or a mapping with name: <{registry.kind}>")
    chosen = registry.config_class(str(item.name), where)
    node = OmegaConf.structured(chosen(name=str(item.name)))
    OmegaConf.set_struct(node, True)
    replaced += specialize(node, chosen, [item], where + ".")
    try:
        return OmegaConf.merge(node, item)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", "") or ""
        raise ConfigError(f"{where}: bad or unknown key {key!r} for {registry.kind} {item.name!r}: {str(err).splitlines()[0]}") from err


def carry_named_items(layers: list[DictConfig], defaults: DictConfig | None = None) -> None:
    """Let later layers edit a list of named items (`schemes:`) by name. A bare name in a later list
    takes the same-named item of the nearest earlier list at that key (`schemes=[direct,debate]`
    runs those two with the settings the YAML gave them); a mapping where an earlier layer, or else
    the `defaults`, has a list edits the named items (`assisted_judging.schemes.debate.rounds=3`)."""
    for k, layer in enumerate(layers):
        for dotted, node in list(_containers(layer, "")):
            earlier = _earlier_list(([defaults] if defaults is not None else []) + layers[:k], dotted)
            if earlier is None:
                continue
            named = {(str(i.name) if isinstance(i, DictConfig) else str(i)): i for i in earlier}
            if isinstance(node, ListConfig):
                for i in range(len(node)):
                    item = node._get_node(i)
                    if isinstance(item._value(), str) and str(item._value()) in named:
                        node[i] = named[str(item._value())]
            elif isinstance(node, DictConfig):
                unknown = [key for key in node.keys() if key not in named]
                if unknown:
                    raise ConfigError(f"{dotted}: no item named {unknown[0]!r}; the list holds {', '.join(named)}")
                whole = [key for key in node.keys() if not isinstance(node._get_node(key), DictConfig)]
                if whole:
                    raise ConfigError(f"{dotted}.{whole[0]}: set the item's fields ({dotted}.{whole[0]}.<field>=...), not the item")
                edited = [_edit(_named(item), node[name]) if name in node else item for name, item in named.items()]
                OmegaConf.update(layer, dotted, edited, merge=False, force_add=True)


def _edit(item: DictConfig, edit: Any) -> DictConfig:
    """`item` with `edit` merged in, where a nested component section (one with a `name:`) that the
    edit renames (`debater.backend=openai`) starts over from the new name: the old component's
    fields are not the new one's."""
    item = OmegaConf.create(OmegaConf.to_container(item))  # a copy; interpolations stay unresolved
    for key in edit.keys() if isinstance(edit, DictConfig) else []:
        new, old = edit._get_node(key), item._get_node(key) if key in item else None
        if isinstance(old, DictConfig) and "name" in old and not new._is_interpolation():
            renamed = new._value() if not isinstance(new, (DictConfig, ListConfig)) else new.get("name", old.name)
            if isinstance(renamed, str) and renamed != old.name:
                item[key] = new if isinstance(new, DictConfig) else {"name": renamed}
                continue
        if isinstance(old, DictConfig) and isinstance(new, DictConfig):
            item[key] = _edit(old, new)
        else:
            item[key] = new
    return item


def _named(item: Any) -> DictConfig:
    return item if isinstance(item, DictConfig) else OmegaConf.create({"name": str(item)})


def _earlier_list(layers: list[DictConfig], dotted: str) -> ListConfig | None:
    for before in reversed(layers):
        found = OmegaConf.select(before, dotted, default=None, throw_on_resolution_failure=False)
        if isinstance(found, ListConfig):
            return found
    return None


def _containers(node: Any, prefix: str):
    """(dotted key, node) of every mapping and list under `node`, without resolving interpolations."""
    if isinstance(node, DictConfig):
        for key in node.keys():
            child = node._get_node(key)
            if isinstance(child, (DictConfig, ListConfig)):
                yield f"{prefix}{key}", child
                if isinstance(child, DictConfig):
                    yield from _containers(child, f"{prefix}{key}.")


def drop(layer: DictConfig, dotted: str) -> None:
    """Remove key `dotted` ("w2s.schemes") from a layer if it is there."""
    *parents, last = dotted.split(".")
    node = layer
    for key in parents:
        if not isinstance(node, DictConfig) or key not in node:
            return
        node = node[key]
    if isinstance(node, DictConfig) and last in node:
        del node[last]  # layers are plain (non-struct) mappings; never flag them, or the merge copies the flag
