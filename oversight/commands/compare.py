"""`oversight compare <runs-dir | sweep name>`: the transfer table across runs, plots, optional wandb table."""

from __future__ import annotations

import argparse


def cmd_compare(args: argparse.Namespace) -> int:
    from oversight.compare import compare

    compare(args.target, out_dir=args.out_dir, log_wandb=args.wandb, fmt=args.format)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare finished runs: table (mean [95%% interval]; text, md, latex, csv) and PNG plots")
    p.add_argument("target", help="a runs directory (e.g. runs/) or a sweep name (e.g. w2s_losses)")
    p.add_argument("--out-dir", default="runs", help="where sweep manifests live (<out-dir>/_sweeps/); default runs")
    p.add_argument("--wandb", action="store_true", help="also log the table to wandb in the sweep's group")
    p.add_argument("--format", choices=("text", "md", "latex", "csv"), default="text",
                   help="how to print the table (all formats are also written to <out-dir>/_compare/<name>/)")
    p.set_defaults(func=cmd_compare)
