"""`oversight show <run dir | run name>`: one finished run's table, with every seed's value."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_show(args: argparse.Namespace) -> int:
    from oversight.errors import ConfigError
    from oversight.report import format_table

    run = Path(args.run)
    if not run.is_dir():
        run = Path(args.out_dir) / args.run
    try:
        results = json.loads((run / "results.json").read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{args.run}: no readable results.json in {run} ({type(err).__name__}); is the run finished?") from err
    if not results.get("complete"):
        raise ConfigError(f"{run}: results.json is not complete")
    print(format_table(results["name"], results["summary"], results.get("statistics")))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print one finished run's table with per-seed values")
    p.add_argument("run", help="a run directory, or a run name under --out-dir")
    p.add_argument("--out-dir", default="runs", help="where runs live; default runs")
    p.set_defaults(func=cmd_show)
