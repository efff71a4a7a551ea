"""Compare finished runs: the transfer table across runs, plots, and the sweep's table in wandb.

`compare(target)` takes a runs directory (every `*/results.json` in it) or a sweep name (the runs
listed in `<out_dir>/_sweeps/<name>.json`). It prints weak, ceiling, student and PGR per run as
the mean and 95% interval of each run's results.json (the paired bootstrap over seeds and test
examples for headline metrics; an undefined PGR is shown as undefined), writes `compare.json`/`compare.csv` and two PNGs (PGR vs model size per
loss; accuracy bars) to `<out_dir>/_compare/<name>/`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight.atomic import atomic_write_bytes, strict_json
from oversight.config import read_yaml
from oversight.errors import ConfigError

METRICS = ("weak_acc", "ceiling_acc", "student_acc", "pgr")


@dataclass
class RunSummary:
    name: str
    weak: str
    strong: str
    loss: str
    summary: dict[str, dict[str, Any]]  # metric → {mean, ci95, n, values}, as in results.json
    path: Path  # the run directory

    def stat(self, key: str) -> tuple[float, float, float]:
        """(mean, lo, hi) of a metric's 95% interval; NaN where undefined."""
        s = self.summary.get(key) or {}
        mean = _number(s.get("mean"))
        if "lo" in s:
            return mean, _number(s.get("lo")), _number(s.get("hi"))
        half = _number(s.get("ci95"))
        return mean, mean - half, mean + half


def _number(x: Any) -> float:
    return math.nan if x is None else float(x)


def _load_run(run_dir: Path) -> RunSummary | None:
    try:
        results = json.loads((run_dir / "results.json").read_text())
        config = read_yaml(run_dir / "config.yaml")
    except (OSError, json.JSONDecodeError, ConfigError):
        return None
    if not results.get("complete"):
        return None
    protocol = config.get(config.get("protocol", ""), {}) or {}
    loss = (protocol.get("student_loss") or {}).get("name") or config["strong"]["train"]["loss"]["name"]
    return RunSummary(results["name"], config["weak"]["model"]["model"], config["strong"]["model"]["model"], loss,
                      results["summary"], run_dir)


def find_runs(target: str, out_dir: str | Path = "runs") -> tuple[str, list[RunSummary]]:
    """(title, finished runs) for a runs directory or a sweep name."""
    path = Path(target)
    manifest = Path(out_dir) / "_sweeps" / f"{target}.json"
    if manifest.is_file() and not path.is_dir():
        info = json.loads(manifest.read_text())
        dirs = [Path(info["out_dir"]) / r["name"] for r in info["runs"]]
        title = info["name"]
    elif path.is_dir():
        dirs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("_"))
        title = path.resolve().name
    else:
        raise ConfigError(f"{target!r} is neither a runs directory nor a sweep in {Path(out_dir) / '_sweeps'}")
    runs = [r for r in (_load_run(d) for d in dirs) if r is not None]
    if not runs:
        raise ConfigError(f"no finished runs (results.json with complete: true) for {target!r}")
    return title, runs


def _cell(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "undefined"
    return f"{mean:.3f}" if math.isnan(lo) else f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def _errors(stats: list[tuple[float, float, float]]) -> list[list[float]]:
    """matplotlib's asymmetric yerr from (mean, lo, hi); 0 where there is no interval."""
    below = [0.0 if math.isnan(lo) else max(0.0, m - lo) for m, lo, _ in stats]
    above = [0.0 if math.isnan(hi) else max(0.0, hi - m) for m, _, hi in stats]
    return [below, above]


def table_rows(runs: list[RunSummary]) -> tuple[list[str], list[list[Any]]]:
    columns = ["run", "weak model", "strong model", "loss", "seeds", *METRICS]
    rows = []
    for r in runs:
        n = max((s.get("n", 0) for s in r.summary.values()), default=0)
        rows.append([r.name, r.weak, r.strong, r.loss, n, *(_cell(*r.stat(k)) for k in METRICS)])
    return columns, rows


def format_compare(title: str, runs: list[RunSummary]) -> str:
    columns, rows = table_rows(runs)
    cells = [columns, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [f"supervision transferred — {title} (mean [95% interval]; PGR: ratio of mean gaps)"]
    for j, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if j == 0:
            lines.append("-" * len(lines[-1]))
    return "\n".join(lines)


def model_size(name: str) -> float:
    from oversight.models import MODELS

    try:
        return float(MODELS.get(name).params_millions)
    except Exception:  # a hub id or local folder: size unknown, left off the size plot
        return math.nan


def plot_pgr_vs_size(runs: list[RunSummary], role: str, path: Path) -> None:
    """PGR (± CI) against the strong (or weak) model's size, one line per student loss."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    plotted = False
    for loss in sorted({r.loss for r in runs}):
        points = sorted((model_size(getattr(r, role)), *r.stat("pgr")) for r in runs if r.loss == loss)
        points = [p for p in points if not (math.isnan(p[0]) or math.isnan(p[1]))]  # unknown size or undefined PGR
        if points:
            xs = [p[0] for p in points]
            ax.errorbar(xs, [p[1] for p in points], yerr=_errors([p[1:] for p in points]), marker="o", capsize=3, label=loss)
            plotted = True
    ax.axhline(0, color="grey", lw=0.8)
    if plotted:
        ax.set_xscale("log")
        ax.legend(title="student loss")
    else:
        ax.text(0.5, 0.5, "no run with a known model size and a defined PGR", ha="center", transform=ax.transAxes)
    ax.set_xlabel(f"{role} model parameters (millions)")
    ax.set_ylabel("PGR")
    ax.set_title(f"PGR vs {role} model size")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_accuracy_bars(runs: list[RunSummary], path: Path) -> None:
    """Weak, student and ceiling test accuracy per run, with 95% CI whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    keys = ("weak_acc", "student_acc", "ceiling_acc")
    x = np.arange(len(runs))
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(runs) + 2), 4.5))
    for i, key in enumerate(keys):
        stats = [r.stat(key) for r in runs]
        ax.bar(x + (i - 1) * 0.27, [s[0] for s in stats], 0.27, yerr=_errors(stats),
               capsize=2, label=key.removesuffix("_acc"))
    ax.set_xticks(x, [r.name.split("__", 1)[-1] for r in runs], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def log_table(title: str, runs: list[RunSummary], out: Path) -> None:
    """One wandb run in the sweep's group holding the transfer table, so the dashboard shows it."""
    from oversight.tracking import RunLogger, WandbConfig

    cfg = read_yaml(runs[0].path / "config.yaml").get("wandb", {})  # same project as the runs
    wandb_cfg = WandbConfig(mode=cfg.get("mode", "auto"), project=cfg.get("project", "oversight"), entity=cfg.get("entity", ""),
                            group=title)
    logger = RunLogger(out, wandb_cfg, f"{title}-compare", {"runs": [r.name for r in runs]}, ["sweep-table", f"sweep:{title}"])
    try:
        columns, rows = table_rows(runs)
        logger.table("sweep_transfer_table", columns, rows)
    finally:
        logger.finish()


def compare(target: str, out_dir: str | Path = "runs", log_wandb: bool = False) -> Path:
    title, runs = find_runs(target, out_dir)
    root = Path(target) if Path(target).is_dir() else Path(out_dir)
    out = root / "_compare" / title
    out.mkdir(parents=True, exist_ok=True)
    print(format_compare(title, runs))
    columns, rows = table_rows(runs)
    text = io.StringIO(newline="")
    csv.writer(text).writerows([columns, *rows])
    atomic_write_bytes(out / "compare.csv", text.getvalue().encode())
    atomic_write_bytes(out / "compare.json", strict_json([{"name": r.name, "weak": r.weak, "strong": r.strong, "loss": r.loss,
                                                           "summary": r.summary} for r in runs]).encode())
    plot_pgr_vs_size(runs, "strong", out / "pgr_vs_strong_size.png")
    plot_pgr_vs_size(runs, "weak", out / "pgr_vs_weak_size.png")
    plot_accuracy_bars(runs, out / "accuracy.png")
    if log_wandb:
        log_table(title, runs, out)
    print(f"plots and table: {out}")
    return out
