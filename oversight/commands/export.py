"""`oversight export <run dir | run name> [--out DIR]`: a judging run's transcripts as Inspect eval
logs, one per scheme and seed, then `inspect view --log-dir DIR` (oversight/judging/inspect_log.py)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_export(args: argparse.Namespace) -> int:
    from oversight.errors import ConfigError
    from oversight.judging.inspect_log import export_run

    run = Path(args.run) if Path(args.run).is_dir() else Path(args.out_dir) / args.run
    if not run.is_dir():
        raise ConfigError(f"no run directory {args.run!r} (nor {run})")
    out = Path(args.out) if args.out else run / "inspect"
    written = export_run(run, out)
    print(f"{len(written)} Inspect logs in {out}; view them with: inspect view --log-dir {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a judging run's transcripts as Inspect eval logs (inspect view)")
    p.add_argument("run", help="a run directory, or a run name under --out-dir")
    p.add_argument("--out-dir", default="runs", help="where runs live; default runs")
    p.add_argument("--out", default="", help="where the logs go; default <run>/inspect")
    p.set_defaults(func=cmd_export)
