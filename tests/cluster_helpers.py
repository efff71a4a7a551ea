"""Shared bits of the cluster tests (sweep, SLURM, multi-process): a tiny real config and feature reuse.

Probe features are content-addressed, so a fresh `out_dir` can start from features another test
already computed; that keeps each test to seconds of training instead of a minute of backbones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = ["data.max_examples=600", "split.weak_train=200", "split.strong_train=200", "split.test=200", "seeds=[0]",
        "weak.model.model=minilm-l3", "strong.model.model=minilm-l6", "weak.train.epochs=3", "strong.train.epochs=3"]


def feature_store() -> Path:
    return Path(os.environ.get("OVERSIGHT_CACHE", "/tmp/oversight-test-cache")) / "test-features"


def seed_features(out_dir: Path) -> None:
    """Hard-link features computed by earlier tests into `out_dir/_features`."""
    target = out_dir / "_features"
    target.mkdir(parents=True, exist_ok=True)
    for src in feature_store().glob("*.npy"):
        if not (target / src.name).exists():
            try:
                os.link(src, target / src.name)
            except OSError:
                (target / src.name).write_bytes(src.read_bytes())


def keep_features(out_dir: Path) -> None:
    """Save this test's features for later tests (and later sessions)."""
    store = feature_store()
    store.mkdir(parents=True, exist_ok=True)
    for src in (out_dir / "_features").glob("*.npy"):
        if not (store / src.name).exists():
            tmp = store / f"{src.name}.tmp{os.getpid()}"
            tmp.write_bytes(src.read_bytes())
            tmp.replace(store / src.name)


def oversight(*args: str, cwd: Path = ROOT, check: bool = True, prefix: list[str] | None = None,
              env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The CLI as a user types it (optionally under a launcher such as torchrun)."""
    cmd = [*(prefix or [sys.executable, "-m"]), "oversight.cli", *args]
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {' '.join(cmd)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def wandb_record(run_dir: Path) -> dict:
    """What wandb recorded offline for a run directory's only wandb run (summary, config, tags, group)."""
    import json

    (wandb_run,) = (run_dir / "wandb").glob("offline-run-*")
    shown = subprocess.run([str(Path(sys.executable).parent / "wandb"), "leet", "inspect", "--summary", "--json", str(wandb_run)],
                           capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)
