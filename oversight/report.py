"""The "supervision transferred" table: per metric, the mean over seeds with a 95% interval.

Rows follow the headline keys every protocol reports (weak, student, ceiling, PGR), then the
protocol's extras, so tables from different protocols and runs line up.
"""

from __future__ import annotations

import math
from typing import Any

from oversight.metrics import mean_ci95
from oversight.protocols.base import HEADLINE_KEYS


def aggregate(per_seed: dict[int, dict[str, float]]) -> dict[str, dict[str, Any]]:
    keys: list[str] = []
    for metrics in per_seed.values():
        keys.extend(k for k in metrics if k not in keys)
    ordered = [k for k in HEADLINE_KEYS if k in keys] + [k for k in keys if k not in HEADLINE_KEYS]
    summary = {}
    for key in ordered:
        values = [m[key] for m in per_seed.values() if key in m]
        mean, half, n = mean_ci95(values)
        summary[key] = {"mean": mean, "ci95": half, "n": n, "values": values}
    return summary


def _fmt(x: float) -> str:
    return "nan" if x is None or math.isnan(x) else f"{x:.3f}"


def transfer_rows(name: str, summary: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    columns = ["run", "metric", "mean", "ci95", "n_seeds"]
    rows = [[name, key, s["mean"], s["ci95"], s["n"]] for key, s in summary.items()]
    return columns, rows


def format_table(name: str, summary: dict[str, dict[str, Any]]) -> str:
    width = max(len(k) for k in summary) if summary else 10
    lines = [f"supervision transferred — {name}", f"{'metric':<{width}}  {'mean':>7}  {'±95% CI':>8}  seeds"]
    lines.append("-" * len(lines[-1]))
    for key, s in summary.items():
        lines.append(f"{key:<{width}}  {_fmt(s['mean']):>7}  {_fmt(s['ci95']):>8}  {s['n']:>5}")
    return "\n".join(lines)
