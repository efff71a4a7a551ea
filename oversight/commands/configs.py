"""`oversight configs`: the bundled experiment and sweep configs, one line each; each can be named
without its path or suffix (`oversight run debate_digits`, `oversight sweep w2s_losses`)."""

from __future__ import annotations

import argparse


def cmd_configs(args: argparse.Namespace) -> int:
    from oversight.config import bundled_configs, describe_config

    for kind, paths in bundled_configs().items():
        print(f"{kind}:")
        for path in paths:
            print(f"  {path.stem:<22} {describe_config(path)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("configs", help="list the bundled configs (run them by name: oversight run debate_digits)")
    p.set_defaults(func=cmd_configs)
