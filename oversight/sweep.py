"""Sweeps: a grid of runs over any experiment config, expanded to stable, readable run names.

A sweep file names a base experiment config, fixed overrides, seeds, and `grid:` axes. An axis is
a dotted key → list of values, or a named axis → list of mappings that move several keys together
(e.g. weak/strong model pairs). Runs share `out_dir`, so the stage cache trains each weak
supervisor once for every student that uses it. Example: configs/sweeps/w2s_losses.yaml.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight.atomic import atomic_write_json
from oversight.config import find_config, read_yaml
from oversight.errors import ConfigError
from oversight.launch.slurm import SlurmConfig

SWEEP_KEYS = ("name", "base", "seeds", "overrides", "grid", "out_dir", "slurm")


@dataclass
class SweepRun:
    """One point of the grid: its name, the axis values that define it, and its config overrides."""

    name: str
    axes: dict[str, Any]
    overrides: list[str]


@dataclass
class SweepConfig:
    name: str  # sweep name: run names, the wandb group and `oversight compare <name>` use it
    base: str  # experiment config the grid varies (relative to the sweep file)
    seeds: list[int] | None = None  # seeds of every run (None = the base config's)
    overrides: list[str] = field(default_factory=list)  # key=value applied to every run
    grid: dict[str, list] = field(default_factory=dict)  # dotted key → values, or axis name → list of {key: value}
    out_dir: str = ""  # shared by all runs ("" = the base config's out_dir)
    slurm: SlurmConfig = field(default_factory=SlurmConfig)  # used with --launcher slurm
    path: str = ""  # where the sweep file was read from
    extra: list[str] = field(default_factory=list)  # command-line overrides: applied last, so they win over the file


def load_sweep(path: str | Path, extra_overrides: list[str] | None = None) -> SweepConfig:
    path = find_config(path)
    raw = read_yaml(path)
    unknown = sorted(set(raw) - set(SWEEP_KEYS))
    if unknown:
        raise ConfigError(f"unknown sweep key '{unknown[0]}' in {path}; sweep keys are {', '.join(SWEEP_KEYS)}")
    if not raw.get("base"):
        raise ConfigError(f"{path}: `base:` (the experiment config to vary) is required")
    base = Path(raw["base"])
    if not base.is_absolute():
        base = (path.parent / base).resolve() if (path.parent / base).exists() else base.resolve()
    grid = raw.get("grid") or {}
    for axis, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"sweep axis '{axis}' must be a non-empty list")
    slurm = SlurmConfig.from_dict(raw.get("slurm") or {})
    return SweepConfig(name=str(raw.get("name") or path.stem), base=str(base), seeds=raw.get("seeds"),
                       overrides=list(raw.get("overrides") or []), grid=grid,
                       out_dir=str(raw.get("out_dir") or ""), slurm=slurm, path=str(path.resolve()),
                       extra=list(extra_overrides or []))


def _clean(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else str(value)
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("_")


def axis_labels(keys: list[str]) -> dict[str, str]:
    """Shortest dotted suffix (at least two parts) that tells the axes apart: `student_loss.name`."""
    labels = {}
    for key in keys:
        parts = key.split(".")
        for n in range(min(2, len(parts)), len(parts) + 1):
            label = ".".join(parts[-n:])
            if sum(1 for k in keys if k.endswith(label)) == 1:
                break
        labels[key] = label
    return labels


def _axis_points(axis: str, values: list) -> list[tuple[str, dict[str, Any]]]:
    """(label value, {dotted key: value}) per point of one axis."""
    if all(isinstance(v, dict) for v in values):  # a named axis moving several keys together
        return [("_".join(_clean(x) for x in v.values()), dict(v)) for v in values]
    return [(_clean(v), {axis: v}) for v in values]


def _value(v: Any) -> str:
    return json.dumps(v, separators=(",", ":")) if isinstance(v, (list, dict, bool)) or v is None else str(v)


def overrides_tag(overrides: list[str]) -> str:
    """6 hex digits naming the overrides that change what a run computes (not where it is written or
    logged), so a `seeds=[0]` pilot and the full sweep get different run directories."""
    from oversight.config import NON_SCIENTIFIC

    kept = [o for o in overrides if o.split("=", 1)[0].split(".")[0] not in NON_SCIENTIFIC]
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:6]


def file_overrides(sweep: SweepConfig) -> list[str]:
    """What the sweep file sets for every run: its overrides, then `seeds:` and `out_dir:`."""
    common = list(sweep.overrides)
    if sweep.seeds is not None:
        common.append(f"seeds={json.dumps(list(sweep.seeds), separators=(',', ':'))}")
    if sweep.out_dir:
        common.append(f"out_dir={sweep.out_dir}")
    return common


def expand(sweep: SweepConfig) -> list[SweepRun]:
    """Every grid point in a stable order (axes as written, values as listed)."""
    axes = list(sweep.grid)
    labels = axis_labels(axes)
    common = file_overrides(sweep)
    runs = []
    for combo in itertools.product(*(_axis_points(a, sweep.grid[a]) for a in axes)):
        parts = [f"{labels[a]}={label}" for a, (label, _) in zip(axes, combo)]
        settings = {k: v for _, point in combo for k, v in point.items()}
        science = [*common, *(f"{k}={_value(v)}" for k, v in settings.items()), *sweep.extra]
        name = "__".join([sweep.name, *parts]) + f"-{overrides_tag(science)}"
        overrides = [*science, f"name={name}", f"wandb.group={sweep.name}"]
        runs.append(SweepRun(name=name, axes={a: combo[i][0] for i, a in enumerate(axes)}, overrides=overrides))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ConfigError(f"sweep {sweep.name}: two grid points map to the same run name; make axis values distinct")
    return runs


def run_tags(exp) -> list[str]:
    """wandb tags a dashboard filters on: protocol, model pair, loss (protocol and models are added by the run)."""
    run = exp.run
    student = getattr(exp.protocol, "student", None)  # a protocol that trains a student names its loss there
    tags = [f"loss:{student.loss.name}"] if student is not None else []
    if run.weak and run.strong:
        tags.append(f"pair:{Path(run.weak.model.model).name}->{Path(run.strong.model.model).name}")
    return tags


def load_run_config(sweep: SweepConfig, run: SweepRun):
    """The run's resolved ExperimentConfig, with the sweep's wandb tags."""
    from oversight.config import load_config

    exp = load_config(sweep.base, run.overrides)
    exp.run.wandb.tags = sorted({*exp.run.wandb.tags, *run_tags(exp), f"sweep:{sweep.name}"})
    return exp


def sweep_out_dir(sweep: SweepConfig) -> Path:
    from oversight.config import load_config

    return Path(load_config(sweep.base, [*file_overrides(sweep), *sweep.extra]).run.out_dir)  # as `expand` layers them


def write_manifest(sweep: SweepConfig, runs: list[SweepRun]) -> Path:
    """`<out_dir>/_sweeps/<name>.json`: which runs make up the sweep, for `oversight compare <name>`."""
    out = sweep_out_dir(sweep).resolve()
    path = out / "_sweeps" / f"{sweep.name}.json"
    payload = {"name": sweep.name, "sweep_file": sweep.path, "base": sweep.base, "out_dir": str(out),
               "runs": [{"name": r.name, "axes": r.axes, "overrides": r.overrides} for r in runs]}
    atomic_write_json(path, payload)
    return path


def is_finished(exp) -> bool:
    """A run counts as done when its results.json is complete and it ran this config: the same
    settings that change a result (a field added since, at its neutral default, does not count)."""
    from oversight.config import config_to_yaml, load_config
    from oversight.errors import ConfigError
    from oversight.experiment import run_directory

    run_dir = run_directory(exp)
    try:
        done = json.loads((run_dir / "results.json").read_text()).get("complete")
        return bool(done) and config_to_yaml(load_config(run_dir / "config.yaml", []), for_hash=True) == config_to_yaml(exp, for_hash=True)
    except (OSError, json.JSONDecodeError, ConfigError):
        return False


def run_one(sweep_path: str, index: int, extra_overrides: list[str] | None = None, force: bool = False) -> dict | None:
    """Run grid point `index` here (what each SLURM array task and the by-hand template call)."""
    from oversight.experiment import run_experiment

    sweep = load_sweep(sweep_path, extra_overrides)
    runs = expand(sweep)
    if not 0 <= index < len(runs):
        raise ConfigError(f"sweep {sweep.name} has {len(runs)} runs; index {index} is out of range")
    exp = load_run_config(sweep, runs[index])
    if not force and is_finished(exp):
        print(f"[sweep {sweep.name}] {runs[index].name}: finished, skipped (--force reruns)")
        return None
    return run_experiment(exp)
