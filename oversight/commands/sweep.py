"""`oversight sweep <sweep.yaml> [key=value ...]`: run every grid point locally, or as one SLURM job array."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def cmd_sweep(args: argparse.Namespace) -> int:
    from oversight.sweep import expand, load_run_config, load_sweep, run_one, sweep_out_dir, write_manifest

    sweep = load_sweep(args.sweep, list(args.overrides))
    runs = expand(sweep)
    if args.dry_run:
        print(f"sweep {sweep.name}: {len(runs)} runs (base {sweep.base})")
        for i, run in enumerate(runs):
            load_run_config(sweep, run)  # a bad axis key fails here, before anything is submitted
            print(f"  [{i}] {run.name}\n      {' '.join(run.overrides)}")
        return 0
    if args.index is not None:  # one grid point: what a by-hand array task runs
        run_one(sweep.path, args.index, sweep.extra, force=args.force)
        return 0
    for run in runs:
        load_run_config(sweep, run)
    manifest = write_manifest(sweep, runs)
    out_dir = sweep_out_dir(sweep).resolve()
    if args.launcher == "slurm":
        from oversight.launch.slurm import submit_sweep

        folder = Path(sweep.slurm.folder or out_dir / "_slurm" / sweep.name)
        sweep.extra.append(f"out_dir={out_dir}")  # absolute: a job may start in another directory
        jobs = submit_sweep(sweep, runs, folder)
        print(f"submitted {len(jobs)} runs of sweep {sweep.name} as job array {jobs[0].job_id.split('_')[0]}; logs in {folder}")
        if not args.wait:
            print(f"when done: oversight compare {sweep.name} --out-dir {out_dir}")
            return 0
        failed = _wait(jobs)
        if failed:
            print(f"error: {failed} of {len(jobs)} jobs failed; see {folder}")
            return 1
    else:
        for i in range(len(runs)):
            print(f"=== [{i + 1}/{len(runs)}] {runs[i].name}")
            run_one(sweep.path, i, sweep.extra, force=args.force)
    from oversight.compare import compare

    compare(sweep.name, out_dir=out_dir, log_wandb=True)
    print(f"manifest: {manifest}")
    return 0


def _wait(jobs: list) -> int:
    """Block until every job has a result; count the failures (their errors are printed)."""
    failed = 0
    for job in jobs:
        while not job.done():
            time.sleep(2)
        try:
            job.results()  # one per task (several with slurm.tasks_per_node > 1)
        except Exception as err:  # submitit re-raises the job's own failure here
            failed += 1
            print(f"job {job.job_id} failed: {str(err).splitlines()[-1] if str(err) else err}")
    return failed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a grid of experiments (locally or as a SLURM job array)")
    p.add_argument("sweep", help="sweep YAML, e.g. configs/sweeps/w2s_losses.yaml")
    p.add_argument("overrides", nargs="*", help="key=value overrides applied to every run")
    p.add_argument("--dry-run", action="store_true", help="print the expanded runs and exit")
    p.add_argument("--launcher", choices=("local", "slurm"), default="local", help="run here, one after another, or submit to SLURM")
    p.add_argument("--wait", action="store_true", help="with --launcher slurm: wait for the jobs, then compare")
    p.add_argument("--index", type=int, help="run only grid point INDEX here (what each array task does)")
    p.add_argument("--force", action="store_true", help="rerun runs that already finished")
    p.set_defaults(func=cmd_sweep)
