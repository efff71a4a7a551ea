"""Run logging: every metric goes to `metrics.jsonl` and, when enabled, to Weights & Biases.

wandb runs offline unless an API key is configured (mode=auto), so nothing needs a server; the
local JSONL is the source of truth tests and `compare` read. Only the main process logs.

Resumes: a run directory is one wandb run however often it is restarted (its id is kept in
`<run>/wandb_id` and every attempt resumes it), and an attempt that fails or is interrupted
finishes it with a non-zero exit code, so the dashboard shows it failed instead of `running`.
Each `metrics.jsonl` record carries its attempt number; a training step an interrupted attempt
already logged for the same stage key (resumed training replays the steps since its last
checkpoint) is not logged twice.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight.atomic import atomic_write_bytes, strict_json
from oversight.errors import ConfigError
from oversight.progress import verbose

WANDB_MODES = ("auto", "online", "offline", "disabled")


def own_service() -> None:
    """Log through a wandb service this process starts, not one a parent process left in
    WANDB_SERVICE: the parent's service would keep this run's stream open after the process is
    killed, and the rerun that resumes the same run id is refused ("run ID ... is in use")."""
    token = os.environ.get("WANDB_SERVICE", "")
    parts = token.split("-")
    if token and (len(parts) < 2 or parts[1] != str(os.getpid())):  # "<version>-<pid of its owner>-<transport>-..."
        del os.environ["WANDB_SERVICE"]


@dataclass
class WandbConfig:
    mode: str = "auto"  # auto (online with an API key, else offline) | online | offline | disabled
    project: str = "oversight"  # wandb project
    entity: str = ""  # wandb team or user ("" = your default)
    group: str = ""  # wandb group ("" = the run name's experiment); sweeps share one
    tags: list[str] = field(default_factory=list)  # extra tags (protocol and models are added)


def resolve_mode(mode: str) -> str:
    if mode not in WANDB_MODES:
        raise ConfigError(f"wandb.mode={mode!r}; choose one of {', '.join(WANDB_MODES)}")
    if mode != "auto":
        return mode
    has_key = bool(os.environ.get("WANDB_API_KEY")) or (Path.home() / ".netrc").exists() and "api.wandb.ai" in (Path.home() / ".netrc").read_text()
    return "online" if has_key else "offline"


class RunLogger:
    """log(metrics) → metrics.jsonl (+ wandb); summary/table at the end; finish() closes wandb."""

    def __init__(self, run_dir: Path, cfg: WandbConfig, name: str, config: dict[str, Any], tags: list[str], job_type: str,
                 enabled: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.jsonl = self.run_dir / "metrics.jsonl"
        self.wandb_run = None
        self._stepped: set[str] = set()  # stages whose step metric is defined
        if not enabled:
            return
        self.attempt, self._logged_steps = earlier_attempts(self.jsonl)
        self.attempt += 1
        close_cut_line(self.jsonl)
        mode = resolve_mode(cfg.mode)
        if mode != "disabled":
            import wandb

            own_service()
            self.wandb_run = wandb.init(project=cfg.project, entity=cfg.entity or None, name=name, group=cfg.group or None, job_type=job_type,
                                        tags=sorted(set(tags + list(cfg.tags))), config=config, dir=str(self.run_dir),
                                        mode=mode, reinit="finish_previous", id=run_id(self.run_dir), resume="allow",
                                        settings=wandb.Settings(quiet=not verbose()))  # no run-history footer under our table

    def log(self, metrics: dict[str, Any], stage: str = "") -> None:
        if not self.enabled:
            return
        if "step" in metrics:
            step = step_id(stage, metrics)
            if step in self._logged_steps:
                return  # replayed by resumed training; an earlier attempt recorded it
            self._logged_steps.add(step)
        record = {"time": time.time(), "attempt": self.attempt, "stage": stage, **metrics}
        with open(self.jsonl, "a") as f:
            f.write(strict_json(record, indent=None) + "\n")
        if self.wandb_run is not None:
            prefix = f"{stage}/" if stage else ""
            if stage and "step" in metrics and stage not in self._stepped:
                # each stage's curves against its own optimizer step, so seeds and stages overlay in the dashboard
                self.wandb_run.define_metric(f"{prefix}*", step_metric=f"{prefix}step")
                self._stepped.add(stage)
            self.wandb_run.log({f"{prefix}{k}": v for k, v in metrics.items() if isinstance(v, (int, float))})

    def summary(self, values: dict[str, Any]) -> None:
        if self.wandb_run is not None:
            for k, v in values.items():
                self.wandb_run.summary[k] = v

    def table(self, name: str, columns: list[str], rows: list[list[Any]]) -> None:
        if self.wandb_run is not None:
            import wandb

            self.wandb_run.log({name: wandb.Table(columns=columns, data=rows)})

    @property
    def wandb_dir(self) -> str | None:
        return None if self.wandb_run is None else str(Path(self.wandb_run.dir).parent)

    def finish(self, exit_code: int = 0) -> None:
        """Close the wandb run; a non-zero `exit_code` (an error, Ctrl-C) marks it failed."""
        if self.wandb_run is not None:
            self.wandb_run.finish(exit_code=exit_code)
            self.wandb_run = None


def run_id(run_dir: Path) -> str:
    """The wandb run id of this run directory, created on its first attempt."""
    path = Path(run_dir) / "wandb_id"
    try:
        existing = path.read_text().strip()
    except OSError:
        existing = ""
    if existing.isalnum():
        return existing
    new = secrets.token_hex(8)
    atomic_write_bytes(path, new.encode())
    return new


def close_cut_line(jsonl: Path) -> None:
    """End a last line a killed attempt left unfinished, so the next record starts on its own line."""
    try:
        with open(jsonl, "rb+") as f:
            if f.seek(0, os.SEEK_END) and (f.seek(-1, os.SEEK_END), f.read(1))[1] != b"\n":
                f.write(b"\n")
    except FileNotFoundError:
        pass


def earlier_attempts(jsonl: Path) -> tuple[int, set[tuple]]:
    """(last attempt number, the `step_id`s already logged) of an existing metrics.jsonl."""
    attempt, steps = 0, set()
    try:
        lines = jsonl.read_text().splitlines()
    except OSError:
        return attempt, steps
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if isinstance(record, dict):
            if isinstance(record.get("attempt"), int):
                attempt = max(attempt, record["attempt"])
            if "step" in record:
                steps.add(step_id(record.get("stage", ""), record))
    return attempt, steps


def step_id(stage: str, record: dict) -> tuple:
    """A training step of one computation (the stage key tells a recompute under a new config apart)."""
    return stage, record.get("stage_key"), record["step"]
