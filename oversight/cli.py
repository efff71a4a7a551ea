"""The `oversight` command. Subcommands live in `oversight/commands/`, one module each.

Input problems (config, data, models, cache) print one `error:` line and exit with status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from oversight import __version__, commands
from oversight.cli_help import CONFIG_EPILOG
from oversight.errors import OversightError
from oversight.progress import VERBOSE, quiet_libraries
from oversight.training import distributed as dist


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oversight", description="Scalable-oversight experiments: weak-to-strong and friends.",
                                     epilog=CONFIG_EPILOG)
    parser.add_argument("--version", action="version", version=f"oversight {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="progress bars even when output is redirected, and wandb's own messages (anywhere on the line)")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"oversight.commands.{module}").register(sub)
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Flags and `key=value` overrides in any order: `run X --print-config seeds=[0]` as well as
    `run X seeds=[0] --print-config`. argparse stops a positional list at the first flag; what it
    leaves over is taken as more overrides when it has the form key=value."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = any(item in ("-v", "--verbose") for item in argv)
    args, rest = parser.parse_known_args([item for item in argv if item not in ("-v", "--verbose")])
    args.verbose = verbose
    extra = [item for item in rest if "=" in item and not item.startswith("-")]
    unknown = [item for item in rest if item not in extra]
    if unknown or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(unknown or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.verbose:
        os.environ[VERBOSE] = "1"  # inherited by SLURM jobs and launched ranks
    quiet_libraries(sys.stderr.isatty())
    try:
        code = args.func(args)
        dist.end_rank(code)  # a launched rank that finished its run
        return code
    except OversightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `oversight sweep X --dry-run | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted: finished stages are saved; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
