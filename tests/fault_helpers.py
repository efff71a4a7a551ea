"""Shared pieces of the fault-injection suite: one tiny real W2S run and the CLI run in-process.

A run is `oversight run` with real packaged models (MiniLM-L3 → MiniLM-L6 probes) on 90 real
sarcasm headlines; `cli(...)` calls the CLI's own `main` (so exit codes and `error:` lines are the
ones a user sees) without paying a fresh interpreter per run.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

from oversight.cli import main

TINY = ["seeds=[0]", "wandb.mode=disabled", "data.max_examples=90", "split.weak_train=30", "split.strong_train=30",
        "split.test=30", "weak.model.model=minilm-l3", "strong.model.model=minilm-l6", "weak.train.epochs=3",
        "strong.train.epochs=3"]


def cli(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `oversight <args>` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def where(out: Path) -> list[str]:
    """Runs and features inside `out` (features are otherwise shared by every run on the machine)."""
    return [f"out_dir={out}", f"feature_cache={Path(out) / '_features'}"]


def one_error_line(code: int, stderr: str) -> str:
    """The single `error:` line of a run that failed cleanly (exit 2, no traceback)."""
    assert code == 2, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-2000:]
    return lines[0]


def run_dir(out: Path) -> Path:
    (found,) = [p for p in Path(out).iterdir() if not p.name.startswith("_")]
    return found


def results_bytes(out: Path) -> bytes:
    return (run_dir(out) / "results.json").read_bytes()


def stage_dir(out: Path, kind: str) -> Path:
    (found,) = [p for p in (Path(out) / "_stages" / kind).iterdir() if p.is_dir() and not p.name.endswith(".partial")]
    return found


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst
