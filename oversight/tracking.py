"""Run logging: every metric goes to `metrics.jsonl` and, when enabled, to Weights & Biases.

wandb runs offline unless an API key is configured (mode=auto), so nothing needs a server; the
local JSONL is the source of truth tests and `compare` read. Only the main process logs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight.atomic import strict_json
from oversight.errors import ConfigError

WANDB_MODES = ("auto", "online", "offline", "disabled")


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

    def __init__(self, run_dir: Path, cfg: WandbConfig, name: str, config: dict[str, Any], tags: list[str], enabled: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.jsonl = self.run_dir / "metrics.jsonl"
        self.wandb_run = None
        if not enabled:
            return
        mode = resolve_mode(cfg.mode)
        if mode != "disabled":
            import wandb

            self.wandb_run = wandb.init(project=cfg.project, entity=cfg.entity or None, name=name, group=cfg.group or None,
                                        tags=sorted(set(tags + list(cfg.tags))), config=config, dir=str(self.run_dir),
                                        mode=mode, reinit="finish_previous")

    def log(self, metrics: dict[str, Any], stage: str = "") -> None:
        if not self.enabled:
            return
        record = {"time": time.time(), "stage": stage, **metrics}
        with open(self.jsonl, "a") as f:
            f.write(strict_json(record, indent=None) + "\n")
        if self.wandb_run is not None:
            prefix = f"{stage}/" if stage else ""
            self.wandb_run.log({f"{prefix}{k}": v for k, v in metrics.items() if k != "step" and isinstance(v, (int, float))})

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

    def finish(self) -> None:
        if self.wandb_run is not None:
            self.wandb_run.finish()
            self.wandb_run = None
