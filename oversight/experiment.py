"""Run one experiment: resolve the run directory, load data, run the protocol per seed, report.

The run directory is named from the config and holds `config.yaml` (resolved), `metrics.jsonl`,
`seeds/<seed>.json`, `results.json` (written last, atomically, only when every seed finished) and
the wandb run. Stage outputs live in the shared store `<out_dir>/_stages/` so reruns and other
runs that need the same stage reuse them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from oversight.atomic import atomic_write_bytes, atomic_write_json
from oversight.config import ExperimentConfig, RunConfig, config_to_yaml
from oversight.context import Context
from oversight.data import load_dataset_from_config
from oversight.errors import ConfigError
from oversight.headline import Headline, SeedResult
from oversight.models import resolve_roles
from oversight.paths import cache_root
from oversight.protocols.base import HEADLINE_KEYS
from oversight.report import aggregate, format_table, transfer_rows
from oversight.stages import StageStore, save_arrays
from oversight.tracking import RunLogger
from oversight.training import distributed as dist
from oversight.training.device import configure_matmul, pick_device
from oversight.training.fit import Workspace
from oversight.transfer_stats import summarize_headlines


def _defined_pgr(summary: dict[str, Any]) -> bool:
    """Whether the run's PGR is defined (wandb drops a None summary value, so the dashboard gets this flag)."""
    mean = summary.get("pgr", {}).get("mean")
    return mean is not None and mean == mean  # NaN != NaN: a protocol without a headline had no defined seed


def seed_headline(headline: Headline, reps: int, seed: int) -> dict[str, Any]:
    """One seed's headline metrics: accuracies, the gap's paired-bootstrap interval, PGR (None unless the gap is significant)."""
    one = summarize_headlines({seed: headline}, reps, seed)
    return {**headline.accuracies(), "pgr": one["pgr"]["values"][0], "gap_significant": one["method"]["significant_gap"][seed],
            "ceiling_minus_weak_ci95": [one["gap"]["lo"], one["gap"]["hi"]]}


def default_run_name(exp: ExperimentConfig) -> str:
    run = exp.run
    tag = hashlib.sha256(config_to_yaml(exp, for_hash=True).encode()).hexdigest()[:8]
    parts = [run.protocol, run.data.label() if run.data else "", Path(run.weak.model.model).name if run.weak else "",
             Path(run.strong.model.model).name if run.strong else "", tag]
    return "-".join(p.replace("/", "_") for p in parts if p)


def feature_store(run: RunConfig) -> Path:
    """Where probe features are kept: `feature_cache`, else `$OVERSIGHT_CACHE/features` (shared by all out_dirs)."""
    return Path(run.feature_cache).expanduser() if run.feature_cache else cache_root() / "features"


def run_directory(exp: ExperimentConfig) -> Path:
    """`<out_dir>/<name>`, the name derived from the config unless `name` is set."""
    return Path(exp.run.out_dir) / (exp.run.name or default_run_name(exp))


def run_experiment(exp: ExperimentConfig) -> dict[str, Any]:
    """Run every seed of the protocol (skipping finished stages) and write the transfer table."""
    from oversight.protocols import PROTOCOLS

    run = exp.run
    spec = PROTOCOLS.get(run.protocol)
    run_dir = run_directory(exp)
    name = run_dir.name
    device = dist.init_distributed(pick_device(run.device))  # joins the process group under torchrun/accelerate
    main = dist.is_main()  # only rank 0 writes the run directory and logs
    if main:
        try:
            (run_dir / "seeds").mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(run_dir / "config.yaml", config_to_yaml(exp).encode())
        except OSError as err:
            raise ConfigError(f"cannot write the run directory {run_dir} (out_dir={run.out_dir}): {err.strerror or err}") from err
        (run_dir / "results.json").unlink(missing_ok=True)  # a stale result must never pass for this run's
    configure_matmul(device, run.strong.train.tf32 if run.strong else True)
    tags = [run.protocol] + [f"{role}:{getattr(run, role).model.model}" for role in ("weak", "strong") if getattr(run, role)]
    tags += [f"data:{run.data.name}"] if run.data else []
    logger = RunLogger(run_dir, run.wandb, name, {**exp.as_dict(), "run_dir": str(run_dir), "world_size": dist.world_size()},
                       tags, job_type=run.protocol, enabled=main)  # job_type: the dashboard groups runs by protocol
    try:
        resolve_roles(run)
        dataset = load_dataset_from_config(run.data) if run.data else None
        ws = Workspace(device=device, feature_cache=feature_store(run), offline=run.offline, log=logger.log,
                       table=logger.table if main else None, run_dir=run_dir)
        ctx = Context(exp, dataset, StageStore(Path(run.out_dir) / "_stages"), ws)
        rows = spec.rows_used(ctx) if spec.rows_used is not None and dataset is not None else None
        roles = [role for role in (run.weak, run.strong) if role is not None and dataset is not None]
        learners = [ctx.learner(role.model) for role in roles]  # every model resolved and checked before any work
        for role, learner in zip(roles, learners):
            if rows is not None:  # the features of every row the seeds use, in one pass per model
                learner.ensure(rows, role.train.eval_batch_size)
        per_seed, headlines, notes = {}, {}, {}
        for seed in run.seeds:
            outcome = spec.run_seed(ctx, seed)
            outcome = outcome if isinstance(outcome, SeedResult) else SeedResult(outcome)
            metrics = outcome.metrics
            if outcome.headline is not None:
                headlines[seed] = outcome.headline
                metrics = {**seed_headline(outcome.headline, run.bootstrap, seed), **{k: v for k, v in metrics.items()
                                                                                        if k not in HEADLINE_KEYS}}
                if main:
                    save_arrays(run_dir / "seeds" / f"{seed}.npz", outcome.headline.arrays())
            per_seed[seed] = metrics
            if outcome.notes:
                notes[seed] = outcome.notes
            if main:
                atomic_write_json(run_dir / "seeds" / f"{seed}.json", {"seed": seed, **metrics})
            logger.log({"seed": seed, **metrics}, "seed")
        summary, method = aggregate(per_seed, headlines, run.bootstrap, seed=run.seeds[0])
        results = {"complete": True, "name": name, "protocol": run.protocol, "seeds": list(run.seeds),
                   "dataset": {"name": run.data.name, "n": len(dataset), "classes": dataset.classes} if dataset is not None else None,
                   "per_seed": per_seed, "summary": summary, "statistics": method, **({"notes": notes} if notes else {})}
        if not main:
            dist.leave()
            return results
        atomic_write_json(run_dir / "results.json", results)
        logger.summary({k: v["mean"] for k, v in summary.items()} | {f"{k}_ci95": v["ci95"] for k, v in summary.items()}
                       | {f"{k}_{end}": v[end] for k, v in summary.items() for end in ("lo", "hi") if end in v}
                       | {"pgr_defined": _defined_pgr(summary)})
        columns, rows = transfer_rows(name, summary)
        logger.table("transfer_table", columns, rows)
        print(format_table(name, summary, method))
        if spec.summary_table is not None:
            print(spec.summary_table(summary))
        if spec.summary_rows is not None:
            logger.table(*spec.summary_rows(summary))
        for seed, seed_notes in notes.items():
            print("\n".join(f"[seed {seed}] {k}: {v}" for k, v in seed_notes.items()))
        print(f"results: {run_dir / 'results.json'}")
        logger.finish(0)
        dist.leave()
        return results
    except BaseException as err:  # an error or Ctrl-C: the wandb run is marked failed, not left `running`
        logger.finish(130 if isinstance(err, KeyboardInterrupt) else 1)
        raise
