"""Named registries, filled one way: every module of the registry's package registers itself.

    LOSSES = Registry("loss", package="oversight.training.losses", config=LossConfig)

    @dataclass
    class LogConfConfig(LossConfig):
        alpha_max: float = 0.75  # final weight of the student's own hardened predictions

    @LOSSES.register("logconf", LogConfConfig)
    class AuxiliaryConfidence: ...

The first lookup imports every module of `package`, so adding a component is adding one file
there, and no other list names it. A component owns its config dataclass, a subclass of the
registry's `config` base (which holds `name`); a config field typed with that base is a *slot*
(`student_loss: LossConfig`): the YAML's `name:` picks the component, and the rest of the section
is checked against that component's own fields (oversight/slots.py). `LOSSES.get("x")` returns the
object; an unknown name raises a `ConfigError` with the registered names and a close match.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from oversight.errors import ConfigError

T = TypeVar("T")


@dataclass
class ComponentConfig:
    """The base of every component config: which registered component the section configures."""

    name: str = ""  # registered component (`oversight list`)


_BY_BASE: dict[type, Registry] = {}


def slot_registry(cls: Any) -> Registry | None:
    """The registry whose components are configured by subclasses of `cls`, if `cls` is a slot base."""
    return _BY_BASE.get(cls) if isinstance(cls, type) else None


class Registry(Generic[T]):
    """Maps names to objects of one kind (and each to its config class)."""

    def __init__(self, kind: str, package: str | None = None, config: type | None = None) -> None:
        self.kind, self.package, self.config_base = kind, package, config
        self._entries: dict[str, T] = {}
        self._configs: dict[str, type] = {}
        self._docs: dict[str, str] = {}
        self._filled = package is None
        if config is not None:
            _BY_BASE[config] = self

    def _fill(self) -> None:
        if self._filled:
            return
        self._filled = True
        package = importlib.import_module(self.package)
        for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
            if not module.startswith("_"):
                importlib.import_module(f"{self.package}.{module}")

    def register(self, name: str, config: type | None = None, doc: str | None = None) -> Callable[[T], T]:
        base = self.config_base
        if base is not None and (config is None or not issubclass(config, base)):
            raise TypeError(f"{self.kind} {name!r} must register a config class derived from {base.__name__}")

        def decorate(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            if config is not None:
                self._configs[name] = config
            text = doc if doc is not None else (getattr(obj, "__doc__", None) or "")
            self._docs[name] = text.strip().splitlines()[0] if text.strip() else ""
            return obj

        return decorate

    def add(self, name: str, obj: T, doc: str = "", config: type | None = None) -> T:
        """Register `obj` directly (for entries that are data, not functions)."""
        return self.register(name, config, doc)(obj)

    def check(self, name: str, where: str = "") -> None:
        self._fill()
        if name not in self._entries:
            known = ", ".join(sorted(self._entries)) or "none"
            close = difflib.get_close_matches(str(name), list(self._entries), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            at = f"{where}: " if where else ""
            raise ConfigError(f"{at}unknown {self.kind} {name!r}; registered: {known}{hint}")

    def get(self, name: str) -> T:
        self.check(name)
        return self._entries[name]

    def config_class(self, name: str, where: str = "") -> type:
        self.check(name, where)
        return self._configs[name]

    def config(self, name: str, **values: Any) -> Any:
        """A fresh config of component `name` (its own defaults, overridden by `values`)."""
        return self.config_class(name)(name=name, **values)

    def describe(self, name: str) -> str:
        self._fill()
        return self._docs.get(name, "")

    def __contains__(self, name: object) -> bool:
        self._fill()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def names(self) -> list[str]:
        self._fill()
        return sorted(self._entries)
