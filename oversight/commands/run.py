"""`oversight run [config.yaml] [key=value ...]`: run one experiment (default: configs/w2s_default.yaml)."""

from __future__ import annotations

import argparse

from oversight.cli_help import CONFIG_EPILOG


def cmd_run(args: argparse.Namespace) -> int:
    from oversight.config import DEFAULT_CONFIG, config_to_yaml, load_config
    from oversight.experiment import run_experiment

    config, overrides = args.config, list(args.overrides)
    if config and "=" in config and not config.endswith((".yaml", ".yml")):
        config, overrides = None, [config, *overrides]  # `oversight run seeds=[0]` means the default config
    exp = load_config(config or DEFAULT_CONFIG, overrides)
    if args.print_config:
        print(config_to_yaml(exp))
        return 0
    run_experiment(exp)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run an experiment", epilog=CONFIG_EPILOG)
    run.add_argument("config", nargs="?", help="YAML config (default: configs/w2s_default.yaml)")
    run.add_argument("overrides", nargs="*", help="key=value overrides, e.g. seeds=[0,1] weak.model.model=minilm-l6")
    run.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    run.set_defaults(func=cmd_run)
