"""The "supervision transferred" table: per metric, the mean over seeds with a 95% interval.

Rows follow the headline keys every protocol reports (weak, student, ceiling, PGR), then the
protocol's extras, so tables from different protocols and runs line up. Headline rows carry the
paired bootstrap over seeds and test examples (oversight/transfer_stats.py); PGR is shown as the
ratio of mean gaps and as the mean of per-seed ratios, an undefined PGR as `undefined` with its
reason. Extras carry a Student-t interval over seeds, and say how many seeds defined them.
"""

from __future__ import annotations

import math
from typing import Any

from oversight.headline import Headline
from oversight.metrics import mean_ci95
from oversight.protocols.base import HEADLINE_KEYS
from oversight.tables import render
from oversight.transfer_stats import summarize_headlines


def _defined(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def aggregate(per_seed: dict[int, dict[str, Any]], headlines: dict[int, Headline] | None = None,
              reps: int = 2000, seed: int = 0) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """(summary: metric → mean, interval, n, per-seed values; the headline statistics' method, or None)."""
    keys: list[str] = []
    for metrics in per_seed.values():
        keys.extend(k for k in metrics if k not in keys)
    stats = summarize_headlines(headlines, reps, seed) if headlines else None
    ordered = [k for k in HEADLINE_KEYS if k in keys or stats] + [k for k in keys if k not in HEADLINE_KEYS]
    summary: dict[str, dict[str, Any]] = {}
    for key in ordered:
        if stats and key in ("weak_acc", "student_acc", "ceiling_acc"):
            summary[key] = {**stats[key], "ci95": None, "n": len(per_seed), "ci": "paired bootstrap"}
            continue
        if stats and key == "pgr":
            p = stats["pgr"]
            summary[key] = {"mean": p["mean"], "lo": p["lo"], "hi": p["hi"], "ci95": None, "n": len(p["defined_seeds"]),
                            "values": p["values"], "ci": "paired bootstrap", "seed_mean": p["seed_mean"],
                            "undefined_seeds": p["undefined_seeds"], "reason": p["reason"]}
            continue
        values = [m.get(key) for m in per_seed.values()]
        if any(isinstance(v, bool) for v in values):  # a per-seed flag: count the seeds where it holds
            summary[key] = {"mean": sum(bool(v) for v in values), "ci95": None, "n": len(values), "values": values, "ci": "count"}
            continue
        if not any(isinstance(v, (int, float)) for v in values):
            continue
        numeric = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and _defined(v)]
        mean, half, n = mean_ci95(numeric) if numeric else (math.nan, math.nan, 0)
        summary[key] = {"mean": mean, "ci95": half, "n": n, "values": values, "ci": "seeds"}
    if stats:
        gap = {"ceiling_minus_weak": {**stats["gap"], "ci95": None, "n": len(per_seed), "ci": "paired bootstrap"}}
        head = [k for k in HEADLINE_KEYS if k in summary]
        summary = {**{k: summary[k] for k in head}, **gap, **{k: v for k, v in summary.items() if k not in head}}
    return summary, stats["method"] if stats else None


def _fmt(x: Any) -> str:
    return "—" if not _defined(x) else f"{x:.3f}"


def transfer_rows(name: str, summary: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    columns = ["run", "metric", "mean", "lo", "hi", "ci95", "n_seeds"]
    rows = [[name, key, s["mean"], s.get("lo"), s.get("hi"), s.get("ci95"), s["n"]] for key, s in summary.items()]
    return columns, rows


def _seeds(s: dict[str, Any]) -> str:
    """Each seed's value, in seed order ("—" where undefined)."""
    return " ".join(_fmt(v) for v in s.get("values") or [])


def _interval(s: dict[str, Any]) -> str:
    if s.get("ci") == "paired bootstrap":
        return "" if not _defined(s.get("lo")) else f"[{_fmt(s['lo'])}, {_fmt(s['hi'])}]"
    return "" if not _defined(s.get("ci95")) else f"± {_fmt(s['ci95'])}"


def format_table(name: str, summary: dict[str, dict[str, Any]], method: dict[str, Any] | None = None) -> str:
    """The run's console table: one row per metric with its mean, interval, seeds counted and per-seed values."""
    items = list(summary.items())
    n_seeds = max((len(s.get("values") or []) for _, s in items), default=0)
    lines = [f"supervision transferred — {name}"]
    if method:
        lines.append(f"weak_acc is the {method['baseline']}; headline intervals: paired bootstrap over {method['n_seeds']} seeds "
                     f"x {'/'.join(map(str, method['n_test']))} test examples ({method['reps']} resamples); others: Student-t over seeds")
    rows = []
    for key, s in items:
        if key.endswith("_kept_step"):
            continue
        if s.get("ci") == "count":
            rows.append([key, s["mean"], "", f"of {s['n']}", ""])
        elif key == "pgr" and s.get("ci") == "paired bootstrap":
            defined = f"{s['n']}/{n_seeds} defined"
            mean = "undefined" if not _defined(s["mean"]) else _fmt(s["mean"])
            rows.append(["pgr", mean, _interval(s), defined, f"{_seeds(s)}  (ratio of mean gaps)"])
            rows.append(["pgr_seed_mean", _fmt(s["seed_mean"]), "", defined, "(mean of per-seed ratios)"])
        else:
            rows.append([key, _fmt(s["mean"]), _interval(s), f"{s['n']}/{len(s.get('values') or [])}", _seeds(s)])
    lines.append(render(["metric", "mean", "95% CI", "seeds", "per seed"], rows, align="lrlll"))
    kept = [(k[: -len("_kept_step")], s["values"]) for k, s in items if k.endswith("_kept_step")]
    if kept:
        lines.append("kept step per seed: " + "; ".join(f"{role} {', '.join(map(str, values))}" for role, values in kept))
    pgr = summary.get("pgr", {})
    if pgr.get("reason"):
        lines.append(pgr["reason"])
    elif pgr.get("undefined_seeds"):
        lines.append(f"PGR undefined in seeds {pgr['undefined_seeds']}: their ceiling - weak gap is not significantly positive")
    return "\n".join(lines)
