"""`oversight run [config.yaml] [key=value ...]`: run one experiment (default: configs/w2s_default.yaml)."""

from __future__ import annotations

import argparse

from oversight.cli_help import CONFIG_EPILOG


def cmd_run(args: argparse.Namespace) -> int:
    from oversight.config import DEFAULT_CONFIG, config_to_yaml, load_config

    config, overrides = args.config, list(args.overrides)
    if config and "=" in config and not config.endswith((".yaml", ".yml")):
        config, overrides = None, [config, *overrides]  # `oversight run seeds=[0]` means the default config
    if args.launcher == "slurm":
        return submit_to_slurm(str(config or DEFAULT_CONFIG), overrides, args.wait)
    exp = load_config(config or DEFAULT_CONFIG, overrides)
    if args.print_config:
        print(config_to_yaml(exp))
        return 0
    from oversight.models import resolve_roles

    resolve_roles(exp.run)  # a model that resolves nowhere fails in a fraction of a second, before torch loads
    from oversight.experiment import run_experiment  # torch and friends load only for a real run

    run_experiment(exp)
    return 0


def submit_to_slurm(config: str, overrides: list[str], wait: bool) -> int:
    """One SLURM job for this run; `slurm.key=value` overrides set its SlurmConfig (oversight/launch/slurm.py)."""
    from pathlib import Path

    from oversight.config import find_config, load_config
    from oversight.experiment import run_directory
    from oversight.launch.slurm import SlurmConfig, split_slurm_overrides, submit_run

    overrides, slurm_values = split_slurm_overrides(overrides)
    slurm = SlurmConfig.from_dict(slurm_values)
    config = str(find_config(config).resolve())
    exp = load_config(config, overrides)  # fail on a bad key here, not in the queue
    out_dir = Path(exp.run.out_dir).resolve()
    overrides = [*overrides, f"out_dir={out_dir}"]  # the job may start in another directory
    name = run_directory(exp).name
    folder = Path(slurm.folder or out_dir / "_slurm" / name)
    job = submit_run(config, overrides, slurm, folder, name)
    print(f"submitted job {job.job_id} for run {name}; logs in {folder}; results in {out_dir / name}")
    if wait:
        job.results()  # one result per task; raises the job's own error if it failed
        from oversight.commands.show import run_table

        print(run_table(out_dir / name))
        print(f"results: {out_dir / name / 'results.json'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run an experiment", epilog=CONFIG_EPILOG)
    run.add_argument("config", nargs="?", help="YAML config (default: configs/w2s_default.yaml)")
    run.add_argument("overrides", nargs="*", help="key=value overrides, e.g. seeds=[0,1] weak.model.model=minilm-l6")
    run.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    run.add_argument("--launcher", choices=("local", "slurm"), default="local",
                     help="run here, or submit one SLURM job (set it with slurm.key=value, see SlurmConfig)")
    run.add_argument("--wait", action="store_true", help="with --launcher slurm: wait for the job to finish")
    run.set_defaults(func=cmd_run)
