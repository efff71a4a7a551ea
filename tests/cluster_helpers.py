"""Shared bits of the cluster tests (sweep, SLURM, multi-process): a tiny real config and the CLI.

Probe features live in the shared store under $OVERSIGHT_CACHE (the suite's test cache), so a
fresh `out_dir` reuses features another test already computed: seconds of training per test,
not a minute of backbones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = ["data.max_examples=600", "split.weak_train=200", "split.strong_train=200", "split.test=200", "seeds=[0]",
        "weak.model.model=minilm-l3", "strong.model.model=minilm-l6", "weak.train.epochs=3", "strong.train.epochs=3"]


def oversight(*args: str, cwd: Path = ROOT, check: bool = True, prefix: list[str] | None = None,
              env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The CLI as a user types it (optionally under a launcher such as torchrun); an env value None unsets it."""
    cmd = [*(prefix or [sys.executable, "-m"]), "oversight.cli", *args]
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env={k: v for k, v in {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}.items() if v is not None})
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {' '.join(cmd)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def wandb_record(run_dir: Path) -> dict:
    """What wandb recorded offline for a run directory's only wandb run (summary, config, tags, group, job_type)."""
    import json

    (wandb_run,) = (run_dir / "wandb").glob("offline-run-*")
    wandb = str(Path(sys.executable).parent / "wandb")
    shown = subprocess.run([wandb, "leet", "inspect", "--summary", "--json", str(wandb_run)], capture_output=True, text=True, check=True)
    records = subprocess.run([wandb, "leet", "inspect", "--json", str(wandb_run)], capture_output=True, text=True, check=True)
    runs = [r["run"] for r in map(json.loads, records.stdout.splitlines()) if r.get("type") == "run"]
    return {**json.loads(shown.stdout), "job_type": runs[-1].get("job_type")}


def sweep_run(runs: Path, grid_point: str) -> Path:
    """The run directory of one grid point (`<sweep>__<axis>=<value>-<overrides tag>`)."""
    (found,) = runs.glob(f"{grid_point}-*")
    return found
