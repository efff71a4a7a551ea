"""Plots of a set of finished runs a reader can trust: every seed shown, axes that do not hide
differences, and lines only between runs that differ in the plotted variable alone.

- `pgr_per_run`: each run's PGR (ratio of mean gaps) with its 95% interval and one dot per seed;
  an undefined PGR is written as such, never drawn as zero.
- `accuracy_bars`: weak / student / ceiling accuracy per run on a zoomed axis, with the chance
  level and the 95% intervals.
- `pgr_vs_size`: PGR against one role's model size, one line per group of runs that agree on
  everything else (protocol, data, loss, the other role); nothing is drawn when no group has two sizes.
  The axis shows PGR from -1 to 1.5: a wider interval ends in an arrow at the edge labelled with its end;
  a size whose PGR is undefined gets an × marked "undefined", and the line does not pass through it as a value.
- `accuracy_vs_rating`: a debate tournament's players, the judge's self-play accuracy against the
  debater's Elo rating, both with their 95% intervals, over the judge-alone floor.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

PGR_VIEW = (-1.0, 1.5)  # PGR axis of the size plot; an interval reaching past it ends in an arrow labelled with its true end


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _once(seen: set, label: str) -> str | None:
    """`label` the first time (a legend entry), None after."""
    if label in seen:
        return None
    seen.add(label)
    return label


def _subtitle(runs) -> str:
    seeds = sorted({len(r.seeds) for r in runs})
    data = sorted({r.dataset for r in runs if r.dataset})
    return f"{'/'.join(map(str, seeds))} seeds per run; data: {', '.join(data) or '—'}"


def pgr_per_run(title: str, runs, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 1.6 + 0.5 * len(runs)))
    labelled = set()
    for y, r in enumerate(runs):
        mean, lo, hi = r.stat("pgr")
        dots = [v for v in (r.summary.get("pgr", {}).get("values") or []) if v is not None]
        ax.scatter(dots, [y] * len(dots), s=14, color="grey", alpha=0.7, zorder=2, label=_once(labelled, "one seed") if dots else None)
        if math.isnan(mean):
            ax.text(0.5, y, "PGR undefined: ceiling − weak gap not significant", ha="center", va="center",
                    transform=ax.get_yaxis_transform(), fontsize=8, color="C3")
            continue
        err = [[max(0.0, mean - lo) if not math.isnan(lo) else 0.0], [max(0.0, hi - mean) if not math.isnan(hi) else 0.0]]
        ax.errorbar([mean], [y], xerr=err, fmt="o", color="C0", capsize=4, zorder=3, label=_once(labelled, "PGR, 95% interval"))
    ax.axvline(0, color="black", lw=0.8)
    ax.axvline(1, color="black", lw=0.8, ls="--")
    ax.set_yticks(range(len(runs)), [r.label for r in runs], fontsize=9)
    ax.set_xlabel("PGR (0 = weak supervisor, 1 = strong ceiling)")
    ax.set_title(f"{title}: PGR per run\n{_subtitle(runs)}", fontsize=10)
    ax.set_ylim(len(runs) - 0.5, -0.5)
    if labelled:  # every PGR undefined: nothing drawn to name
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def accuracy_bars(title: str, runs, path: Path) -> None:
    import numpy as np

    plt = _pyplot()
    keys = ("weak_acc", "student_acc", "ceiling_acc")
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(runs) + 3), 4.5))
    x = np.arange(len(runs))
    lows, highs = [], []
    for i, key in enumerate(keys):
        stats = [r.stat(key) for r in runs]
        means = [s[0] for s in stats]
        err = [[0 if math.isnan(lo) else m - lo for m, lo, _ in stats], [0 if math.isnan(hi) else hi - m for m, _, hi in stats]]
        ax.bar(x + (i - 1) * 0.27, means, 0.27, yerr=err, capsize=2, label=key.removesuffix("_acc"))
        lows += [lo if not math.isnan(lo) else m for m, lo, _ in stats]
        highs += [hi if not math.isnan(hi) else m for m, _, hi in stats]
    chance = min(r.chance for r in runs)
    bottom = max(0.0, min([chance, *lows]) - 0.03)
    ax.set_ylim(bottom, min(1.0, max(highs) + 0.03))
    ax.axhline(chance, color="black", lw=0.8, ls=":", label=f"chance ({chance:.2f})")
    ax.set_xticks(x, [r.label for r in runs], fontsize=9)
    ax.set_ylabel(f"test accuracy (axis from {bottom:.2f})")
    ax.set_title(f"{title}: test accuracy, 95% intervals\n{_subtitle(runs)}", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def pgr_vs_size(title: str, runs, role: str, path: Path) -> bool:
    """Draw (and return True) only if some runs differ in the `role` model's size alone (a line per training mode)."""
    from oversight.models import MODELS

    def size(name: str) -> float:
        return float(MODELS.get(name).params_millions) if name in MODELS else math.nan

    other = "weak" if role == "strong" else "strong"
    groups, undefined = defaultdict(list), defaultdict(list)
    for r in runs:
        point = (size(getattr(r, role)), *r.stat("pgr"))
        key = (r.protocol, r.dataset, r.loss, getattr(r, other), getattr(r, f"{role}_mode"))
        if not math.isnan(point[0]):
            (undefined[key].append(point[0]) if math.isnan(point[1]) else groups[key].append(point))
    lines = {k: sorted(v) for k, v in groups.items() if len({p[0] for p in v}) >= 2}
    path.unlink(missing_ok=True)  # a plot from an earlier compare would mislead
    if not lines:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bottom, top = PGR_VIEW
    sizes = sorted({p[0] for points in lines.values() for p in points} | {x for k in lines for x in undefined[k]})
    for n, (key, points) in enumerate(lines.items()):
        _protocol, dataset, loss, fixed, mode = key
        shift = 1.03 ** (n - (len(lines) - 1) / 2)  # lines side by side at a shared size, so their intervals do not hide each other
        xs, means = [p[0] * shift for p in points], [p[1] for p in points]
        err = [[p[1] - max(p[2], bottom) for p in points], [min(p[3], top) - p[1] for p in points]]
        drawn = ax.errorbar(xs, means, yerr=err, marker="o", capsize=3,
                            label=f"{loss}, {other} {fixed}, {role} {mode}" + (f", {dataset}" if len({k[1] for k in lines}) > 1 else ""))
        for x in undefined[key]:  # a size whose PGR is undefined: marked, not drawn as a value
            ax.plot([x * shift], [0], marker="x", ls="none", color=drawn[0].get_color())
            ax.annotate("undefined", (x * shift, 0), xytext=(0, -12), textcoords="offset points", ha="center", fontsize=7,
                        color=drawn[0].get_color())
        for x, (_, _, lo, hi) in zip(xs, points):  # an interval past the view: an arrow at the edge and its true end
            for end, edge, past, va in ((lo, bottom, lo < bottom, "bottom"), (hi, top, hi > top, "top")):
                if past:
                    ax.annotate(f"{end:.2f}", (x, edge), xytext=(0, 10 if va == "bottom" else -10), textcoords="offset points",
                                ha="center", va=va, fontsize=7, color=drawn[0].get_color(),
                                arrowprops={"arrowstyle": "->", "color": drawn[0].get_color(), "lw": 0.8})
    ax.axhline(0, color="grey", lw=0.8)
    ax.axhline(1, color="grey", lw=0.8, ls="--")
    ax.set_ylim(bottom - 0.05, top + 0.05)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{s:.0f}M" if s < 1000 else f"{s / 1000:.1f}B" for s in sizes], fontsize=8)
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel(f"{role} model parameters")
    ax.set_ylabel(f"PGR, 95% interval (view {bottom:g} to {top:g})")
    ax.set_title(f"{title}: PGR vs {role} model size\n{_subtitle(runs)}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return True


def accuracy_vs_rating(metrics: dict[str, float], players: list[str], title: str, path: Path) -> None:
    """Each player at (Elo, judge accuracy in its self-play) with both intervals; the judge alone as a line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for p in players:
        x, y = metrics[f"{p}_elo"], metrics[f"{p}_selfplay_judge_acc"]
        xerr = [[x - metrics[f"{p}_elo_lo"]], [metrics[f"{p}_elo_hi"] - x]] if not math.isnan(metrics[f"{p}_elo_lo"]) else None
        yerr = [[y - metrics[f"{p}_selfplay_judge_acc_lo"]], [metrics[f"{p}_selfplay_judge_acc_hi"] - y]]
        ax.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt="o", capsize=3, label=p)
    ax.axhline(metrics["direct_judge_acc"], color="grey", ls="--", lw=0.8, label="judge alone")
    ax.axhline(0.5, color="black", lw=0.6)
    ax.set_xlabel("debater Elo (cross-play, 95% interval)")
    ax.set_ylabel("judge accuracy in self-play (95% interval)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
