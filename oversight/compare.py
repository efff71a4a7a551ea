"""Compare finished runs: one table across runs, in the shapes papers and dashboards take.

`compare(target)` takes a runs directory (every `*/results.json` in it) or a sweep name (the runs
listed in `<out_dir>/_sweeps/<name>.json`). Per run it reports protocol, dataset, models, student
loss, seeds and the headline metrics (weak, student, ceiling accuracy and PGR, in the per-run
table's order) as mean and 95% interval from the run's results.json: the paired bootstrap over
seeds and test examples; an undefined PGR is `undefined`, never a number. It prints the table
(`fmt`: text, md, latex or csv) and writes to `<out_dir>/_compare/<name>/`: `compare.csv`
(numeric: mean, ci_lo, ci_hi, n_seeds and one column per seed), `compare.md`, `compare.tex`,
`compare.json` and the plots of oversight/plots.py. Unfinished runs are named, not hidden.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight import compare_detection, plots
from oversight.atomic import atomic_write_bytes, strict_json
from oversight.config import read_yaml
from oversight.errors import ConfigError
from oversight.protocols.base import HEADLINE_KEYS
from oversight.tables import render

METRICS = HEADLINE_KEYS  # weak_acc, student_acc, ceiling_acc, pgr: the per-run table's order
IDENTITY = ["run", "protocol", "dataset", "weak", "strong", "loss"]


@dataclass
class RunSummary:
    name: str
    protocol: str
    dataset: str
    weak: str
    strong: str
    loss: str
    seeds: list[int]
    chance: float  # 1 / number of classes
    summary: dict[str, dict[str, Any]]  # metric → {mean, lo, hi, ci95, n, values}, as in results.json
    path: Path  # the run directory
    label: str = ""  # short name for plots: what sets this run apart from the others compared (see `short_labels`)
    weak_mode: str = ""  # how each role's model trains: probe | full | lora
    strong_mode: str = ""

    def stat(self, key: str) -> tuple[float, float, float]:
        """(mean, lo, hi) of a metric's 95% interval; NaN where undefined."""
        s = self.summary.get(key) or {}
        mean = _number(s.get("mean"))
        if "lo" in s:
            return mean, _number(s.get("lo")), _number(s.get("hi"))
        half = _number(s.get("ci95"))
        return mean, mean - half, mean + half


def short_labels(runs: list[RunSummary]) -> None:
    """Label each run by what differs between the runs (a sweep's grid point; else the varying
    protocol, dataset, models and loss), so plot labels stay short and say what changed."""
    fields = ("protocol", "dataset", "weak", "strong", "loss")
    varying = [f for f in fields if len({getattr(r, f) for r in runs}) > 1]
    for r in runs:
        if "__" in r.name:  # a sweep run: its grid point, without the overrides tag
            r.label = re.sub(r"-[0-9a-f]{6}$", "", r.name.split("__", 1)[1])
        elif varying:
            parts = [getattr(r, f) for f in varying]
            if "weak" in varying and "strong" in varying:
                parts = [p for f, p in zip(varying, parts) if f not in ("weak", "strong")] + [f"{r.weak} → {r.strong}"]
            r.label = f"{varying[0]} {parts[0]}" if len(varying) == 1 else ", ".join(parts)
        else:
            r.label = r.name


def _number(x: Any) -> float:
    return math.nan if x is None else float(x)


def _get(tree: Any, *keys: str) -> Any:
    for key in keys:
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


def load_run(run_dir: Path) -> RunSummary | None:
    """A finished run's summary, or None if it has no complete results.json."""
    try:
        results = json.loads((run_dir / "results.json").read_text())
        config = read_yaml(run_dir / "config.yaml")
    except (OSError, json.JSONDecodeError, ConfigError):
        return None
    if not isinstance(results, dict) or not results.get("complete"):
        return None
    protocol = str(config.get("protocol", ""))
    loss = _get(config, protocol, "student", "loss", "name") or _get(config, "strong", "train", "loss", "name") or ""
    dataset = results.get("dataset") or {}
    return RunSummary(results["name"], protocol, dataset.get("name", ""), _get(config, "weak", "model", "model") or "",
                      _get(config, "strong", "model", "model") or "", loss, list(results.get("seeds") or []),
                      1 / max(1, len(dataset.get("classes") or [0, 0])), results["summary"], run_dir,
                      weak_mode=_get(config, "weak", "model", "mode") or "", strong_mode=_get(config, "strong", "model", "mode") or "")


def find_runs(target: str, out_dir: str | Path = "runs") -> tuple[str, list[RunSummary], list[str]]:
    """(title, finished runs, names of the unfinished ones) for a runs directory or a sweep name."""
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
    loaded = [(d, load_run(d)) for d in dirs]
    runs = [r for _, r in loaded if r is not None]
    if not runs:
        raise ConfigError(f"no finished runs (results.json with complete: true) for {target!r}")
    short_labels(runs)
    return title, runs, [d.name for d, r in loaded if r is None]


def _cell(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "undefined"
    return f"{mean:.3f}" if math.isnan(lo) else f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def _identity(r: RunSummary, weak: str = "", strong: str = "") -> list[Any]:
    return [r.name, r.protocol, r.dataset, weak or r.weak, strong or r.strong, r.loss]


def _with_modes(runs: list[RunSummary], role: str) -> list[str]:
    """Each run's `role` model, with how it trains ("minilm-l6 (lora)") where the runs compared train it more than one way."""
    if len({getattr(r, f"{role}_mode") for r in runs}) < 2:
        return [getattr(r, role) for r in runs]
    return [f"{getattr(r, role)} ({getattr(r, f'{role}_mode')})" for r in runs]


def display_rows(runs: list[RunSummary]) -> tuple[list[str], list[list[Any]]]:
    """Formatted cells, mean [95% interval] per metric: the printed, Markdown and LaTeX table."""
    named = zip(runs, _with_modes(runs, "weak"), _with_modes(runs, "strong"), strict=True)
    return ([*IDENTITY, "seeds", *METRICS],
            [[*_identity(r, weak, strong), len(r.seeds), *(_cell(*r.stat(k)) for k in METRICS)] for r, weak, strong in named])


def numeric_rows(runs: list[RunSummary]) -> tuple[list[str], list[list[Any]]]:
    """Numbers only (None where undefined): mean, ci_lo, ci_hi and one column per seed for each metric."""
    seeds = sorted({s for r in runs for s in r.seeds})
    columns = [*IDENTITY, "weak_mode", "strong_mode", "n_seeds"] + [f"{k}_{part}" for k in METRICS for part in ("mean", "ci_lo", "ci_hi")]
    columns += [f"{k}_seed{s}" for k in METRICS for s in seeds]
    rows = []
    for r in runs:
        stats = [None if math.isnan(v) else v for k in METRICS for v in r.stat(k)]
        per_seed = []
        for k in METRICS:
            values = dict(zip(r.seeds, r.summary.get(k, {}).get("values") or [], strict=False))
            per_seed += [values.get(s) for s in seeds]
        rows.append([*_identity(r), r.weak_mode, r.strong_mode, len(r.seeds), *stats, *per_seed])
    return columns, rows


def log_table(title: str, runs: list[RunSummary], out: Path) -> None:
    """One wandb run per sweep holding the numeric tables (resumed, so a rerun updates it, not adds one)."""
    from oversight.tracking import RunLogger, WandbConfig

    cfg = read_yaml(runs[0].path / "config.yaml").get("wandb", {})  # same project as the runs
    wandb_cfg = WandbConfig(mode=cfg.get("mode", "auto"), project=cfg.get("project", "oversight"), entity=cfg.get("entity", ""),
                            group=title)
    logger = RunLogger(out, wandb_cfg, f"{title}-compare", {"runs": [r.name for r in runs]}, ["sweep-table", f"sweep:{title}"],
                       job_type="compare")
    transfer, organisms = split_runs(runs)
    try:
        if transfer:
            logger.table("sweep_transfer_table", *numeric_rows(transfer))
        if organisms:
            logger.table("sweep_detection_table", *compare_detection.numeric_rows(organisms))
    finally:
        logger.finish()


def split_runs(runs: list[RunSummary]) -> tuple[list[RunSummary], list[RunSummary]]:
    """(runs that transfer supervision, adversarial-testing runs): the two are read in different tables."""
    is_organisms = compare_detection.is_organisms
    return [r for r in runs if not is_organisms(r)], [r for r in runs if is_organisms(r)]


def write_tables(out: Path, stem: str, display: tuple[list[str], list[list[Any]]], numeric_from: int) -> None:
    """`<stem>.md` and `<stem>.tex` of a formatted table (its numbers go to a CSV of their own)."""
    atomic_write_bytes(out / f"{stem}.md", (render(*display, "md", numeric_from=numeric_from) + "\n").encode())
    atomic_write_bytes(out / f"{stem}.tex", (render(*display, "latex", numeric_from=numeric_from) + "\n").encode())


TRANSFER_FILES = ("compare.csv", "compare.md", "compare.tex", "pgr.png", "accuracy.png", "pgr_vs_strong_size.png", "pgr_vs_weak_size.png")
DETECTION_FILES = ("detection.csv", *(f"detection_{m}.{ext}" for m in compare_detection.MEASURES for ext in ("md", "tex")))


def compare(target: str, out_dir: str | Path = "runs", log_wandb: bool = False, fmt: str = "text") -> Path:
    title, runs, unfinished = find_runs(target, out_dir)
    root = Path(target) if Path(target).is_dir() else Path(out_dir)
    out = root / "_compare" / title
    out.mkdir(parents=True, exist_ok=True)
    transfer, organisms = split_runs(runs)
    for stale in (() if transfer else TRANSFER_FILES) + (() if organisms else DETECTION_FILES):  # an earlier comparison's
        (out / stale).unlink(missing_ok=True)
    if transfer:
        columns, rows = display_rows(transfer)
        if fmt == "text":
            print(f"supervision transferred — {title} (mean [95% interval]; PGR: ratio of mean gaps)")
        print(render(*numeric_rows(transfer), "csv") if fmt == "csv" else render(columns, rows, fmt, numeric_from=len(IDENTITY)))
        atomic_write_bytes(out / "compare.csv", render(*numeric_rows(transfer), "csv").encode())
        write_tables(out, "compare", (columns, rows), len(IDENTITY))
        plots.pgr_per_run(title, transfer, out / "pgr.png")
        plots.accuracy_bars(title, transfer, out / "accuracy.png")
        for role in ("strong", "weak"):
            plots.pgr_vs_size(title, transfer, role, out / f"pgr_vs_{role}_size.png")
    if organisms:
        numeric = render(*compare_detection.numeric_rows(organisms), "csv")
        atomic_write_bytes(out / "detection.csv", numeric.encode())
        if fmt == "csv":  # one CSV on stdout: the transfer table's, if there is one
            print(f"detection table: {out / 'detection.csv'}" if transfer else numeric)
        for measure, what in compare_detection.MEASURES.items():
            display = compare_detection.display_rows(organisms, measure)
            if fmt in ("text", "md"):
                gap = "\n" if transfer or measure != "auroc" else ""
                print(f"{gap}{what} — {title} (suspect: mean [95% interval over seeds]; the untampered control's mean in parentheses)")
            numbers_from = display[0].index("seeds")
            if fmt != "csv":
                print(render(*display, fmt, numeric_from=numbers_from))
            write_tables(out, f"detection_{measure}", display, numbers_from)
    if unfinished:
        print(f"not shown, no complete results.json: {', '.join(unfinished)}")
    atomic_write_bytes(out / "compare.json", strict_json([{**dict(zip(IDENTITY, _identity(r))), "seeds": r.seeds,
                                                           "summary": r.summary} for r in runs]).encode())
    if log_wandb:
        log_table(title, runs, out)
    print(f"tables and plots: {out}")
    return out
