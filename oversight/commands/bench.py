"""`oversight bench [--out bench.json] [--flag value ...]`: time our loops against the baselines.

Every field of `oversight.bench.BenchConfig` is a flag (`--train-steps 48`, `--model minilm-l6`,
`--no-trainer`, `--threads 1`); the table goes to stdout, everything to the JSON file.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path


def cmd_bench(args: argparse.Namespace) -> int:
    import torch

    from oversight.bench import BenchConfig, run_bench

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = BenchConfig(**{f.name: getattr(args, f.name) for f in fields(BenchConfig)})
    run_bench(cfg, out=Path(args.out) if args.out else None)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from oversight.bench.config import BenchConfig, field_help

    helps = field_help()

    bench = sub.add_parser("bench", help="benchmark training, labelling and probe loops against naive and HF Trainer baselines",
                           description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    bench.add_argument("--out", default="bench.json", help="JSON results file ('' to skip)")
    bench.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    for f in fields(BenchConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            bench.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, dest=f.name, help=helps.get(f.name))
        else:
            kind = {"int": int, "float": float, "str": str}[f.type if isinstance(f.type, str) else f.type.__name__]
            bench.add_argument(flag, type=kind, default=f.default, dest=f.name, help=helps.get(f.name))
    bench.set_defaults(func=cmd_bench)
