"""Detection across adversarial-testing runs: `oversight compare` lines up the detection tables of
organisms runs (oversight/protocols/organisms.py), organism × detector, the way a stress test of
oversight techniques is read: which technique caught which planted flaw, and how often it cries wolf.

One row per organism run: what was planted (the organism and its settings that differ from the
defaults, or the blind draw's candidates), the suspect model, how far the suspect really
misbehaves (its accuracy on the flawed and on the clean audited inputs), and per detector its
detection AUROC with the 95% interval over seeds and, in parentheses, the same detector's AUROC on
the untampered control (the false-alarm baseline: 0.5 means it flags nothing in particular). The
TPR at 5% FPR table has the same shape. `detection.csv` keeps the numbers apart, one row per run and
detector: mean and interval of each measure on the suspect and on the control, and the suspect's
flawed and clean accuracy; compare.json holds every run's whole summary, per-seed values included.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING

from oversight.config import read_yaml
from oversight.errors import ConfigError

if TYPE_CHECKING:
    from oversight.compare import RunSummary

MEASURES = {"auroc": "detection AUROC", "tpr_at_5fpr": "TPR at 5% FPR"}


def is_organisms(run: RunSummary) -> bool:
    return run.protocol == "organisms"


def _section(run: RunSummary) -> dict:
    return read_yaml(run.path / "config.yaml").get("organisms") or {}


def changed_settings(registry, section: dict) -> str:
    """`k=v, ...`: a component section's settings that differ from its registered defaults (all of
    them for a component this install does not register)."""
    values = dict(section)
    name = str(values.pop("name", "?"))
    try:
        defaults = asdict(registry.config(name))
    except ConfigError:
        defaults = {}
    return ", ".join(f"{k}={v}" for k, v in values.items() if k not in defaults or defaults[k] != v)


def organism_label(run: RunSummary) -> str:
    """`backdoor (trigger=|X|)`: the organism and its settings that differ from its defaults; or the blind draw."""
    from oversight.organisms import ORGANISMS

    section = _section(run)
    if section.get("blind"):
        return "blind draw of " + ", ".join(str(c.get("name")) for c in section.get("candidates") or [])
    organism = section.get("organism") or {}
    changed = changed_settings(ORGANISMS, organism)
    return f"{organism.get('name', '?')} ({changed})" if changed else str(organism.get("name", "?"))


def by_label(runs: list[RunSummary]) -> list[tuple[RunSummary, str]]:
    """(run, organism label) sorted by label, each run's config read once."""
    return sorted(((r, organism_label(r)) for r in runs), key=lambda pair: pair[1])


def detector_settings(run: RunSummary) -> str:
    """`latent_knowledge depth=0.3; ...`: the run's detectors whose settings differ from their defaults."""
    from oversight.detectors import DETECTORS

    parts = [f"{d.get('name')} {changed}" for d in _section(run).get("detectors") or [] if (changed := changed_settings(DETECTORS, d))]
    return "; ".join(parts)


def detectors_of(runs: list[RunSummary]) -> list[str]:
    """Every detector scored in any of the runs, in first-seen order."""
    from oversight.protocols.organisms import detectors_in

    return list(dict.fromkeys(d for r in runs for d in detectors_in(r.summary)))


def _cell(run: RunSummary, key: str, control: bool = True) -> str:
    mean, lo, hi = run.stat(key)
    if math.isnan(mean):
        return "—"
    text = f"{mean:.2f}" if math.isnan(lo) or lo == hi else f"{mean:.2f} [{lo:.2f}, {hi:.2f}]"
    if control:
        base = run.stat(f"control_{key}")[0]
        text += f" ({base:.2f})" if not math.isnan(base) else " (—)"
    return text


def display_rows(runs: list[RunSummary], measure: str) -> tuple[list[str], list[list[str]]]:
    """Formatted cells of one measure: organism, suspect, its flawed/clean accuracy, one column per detector."""
    labelled = by_label(runs)
    runs = [r for r, _ in labelled]
    detectors = detectors_of(runs)
    columns = ["organism", "suspect", "detector settings", "seeds", "flawed acc", "clean acc", *detectors]
    rows = [[label, f"{r.strong} ({r.strong_mode})" if r.strong_mode else r.strong, detector_settings(r), str(len(r.seeds)),
             _cell(r, "suspect_flawed_acc", control=False), _cell(r, "suspect_clean_acc", control=False),
             *(_cell(r, f"{d}_{measure}") for d in detectors)] for r, label in labelled]
    if not any(row[2] for row in rows):  # every detector at its defaults: no column for it
        columns, rows = columns[:2] + columns[3:], [row[:2] + row[3:] for row in rows]
    return columns, rows


def numeric_rows(runs: list[RunSummary]) -> tuple[list[str], list[list]]:
    """Long format, numbers only (None where undefined): one row per run and detector."""
    from oversight.detectors import DETECTORS

    accuracies = ("suspect_flawed_acc", "suspect_clean_acc")
    columns = ["run", "organism", "suspect", "mode", "detector", "settings", "n_seeds"]
    columns += [f"{pre}{m}_{part}" for pre in ("", "control_") for m in MEASURES for part in ("mean", "ci_lo", "ci_hi")]
    columns += [f"{a}_{part}" for a in accuracies for part in ("mean", "ci_lo", "ci_hi")]
    rows = []
    for r, label in by_label(runs):
        settings = {d.get("name"): changed_settings(DETECTORS, d) for d in _section(r).get("detectors") or []}
        for d in detectors_of([r]):
            keys = [f"{pre}{d}_{m}" for pre in ("", "control_") for m in MEASURES] + list(accuracies)
            stats = [None if math.isnan(v) else v for k in keys for v in r.stat(k)]
            rows.append([r.name, label, r.strong, r.strong_mode, d, settings.get(d, ""), len(r.seeds), *stats])
    return columns, rows
