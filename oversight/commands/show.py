"""`oversight show <run dir | run name>`: one finished run's table, with every seed's value."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_show(args: argparse.Namespace) -> int:
    run = Path(args.run)
    print(run_table(run if run.is_dir() else Path(args.out_dir) / args.run))
    return 0


def run_table(run: Path) -> str:
    """The table a finished run printed, rebuilt from its results.json."""
    from oversight.errors import ConfigError
    from oversight.report import format_table

    try:
        results = json.loads((run / "results.json").read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{run.name}: no readable results.json in {run} ({type(err).__name__}); is the run finished?") from err
    if not results.get("complete"):
        raise ConfigError(f"{run}: results.json is not complete")
    return format_table(results["name"], results["summary"], results.get("statistics"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print one finished run's table with per-seed values")
    p.add_argument("run", help="a run directory, or a run name under --out-dir")
    p.add_argument("--out-dir", default="runs", help="where runs live; default runs")
    p.set_defaults(func=cmd_show)
