"""Assisted judging compared, and transferred: a weak judge labels a pool of items alone, with the
passage, after consultancy, after debate, and from a candidate answer with and without a critique;
a strong student then trains on each protocol's judged labels.

The pool is the seed's `strong_train` split; students and the ceiling (strong model on gold
labels of the pool) are scored on `test`. Headline: weak_acc = the judge alone (`direct`) on the
pool, student_acc = the student trained on `headline`'s judged labels, pgr = the gap between them
and the ceiling that the student closes. Per protocol p: p_judge_acc (with 95% bootstrap bounds
p_judge_acc_lo/hi), p_parse_failure_rate, its own extras, and for transferred ones p_student_acc
and p_pgr.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from oversight.errors import ConfigError
from oversight.judging import protocols as _registered  # noqa: F401  (fills JUDGING)
from oversight.judging.base import JUDGING
from oversight.judging.config import JudgingConfig
from oversight.judging.run import run_judging
from oversight.metrics import accuracy, pgr
from oversight.protocols.base import register_protocol
from oversight.protocols.w2s import ceiling_stage, student_on_labels
from oversight.training.losses import LossConfig

ALL = ["direct", "direct_passage", "consultancy", "debate", "candidate", "critique"]


@dataclass
class JudgingProtocolConfig(JudgingConfig):
    protocols: list[str] = field(default_factory=lambda: list(ALL))  # judging protocols to run (`oversight list`)
    transfer: list[str] = field(default_factory=lambda: ["direct", "debate"])  # whose judged labels train a student
    headline: str = "debate"  # the transferred protocol reported as student_acc / pgr
    student_loss: LossConfig = field(default_factory=lambda: LossConfig(name="xent"))  # student loss on judged labels
    hard_labels: bool = True  # students learn the judge's verdicts (argmax), not its uncalibrated probabilities

    def __post_init__(self) -> None:
        super().__post_init__()
        unknown = [p for p in [*self.protocols, *self.transfer] if p not in JUDGING]
        if unknown:
            raise ConfigError(f"judging: unknown protocols {unknown}; registered: {JUDGING.names()}")
        if "direct" not in self.protocols:
            raise ConfigError("judging.protocols must include direct (the judge alone is the floor)")
        if not set(self.transfer) <= set(self.protocols) or (self.transfer and self.headline not in self.transfer):
            raise ConfigError("judging.transfer must be protocols that run, and include headline")


@register_protocol("judging", JudgingProtocolConfig, summary_table=lambda summary: protocol_table(summary, title="mean over seeds"))
def run_judging_protocols(ctx, seed: int) -> dict[str, float]:
    """Direct QA, consultancy, debate, critique: a weak LLM judge assisted; judged labels train a strong student."""
    cfg: JudgingProtocolConfig = ctx.protocol_cfg
    split = ctx.split(seed)
    metrics: dict[str, float] = {}
    judged = {}
    for name in cfg.protocols:
        judged[name] = run_judging(ctx, name, cfg, split.strong_train, seed)
        metrics.update({f"{name}_{k}": v for k, v in judged[name].metrics.items()})
    test_labels = ctx.dataset.labels[split.test]
    weak = metrics["direct_judge_acc"]
    if cfg.transfer:
        metrics["ceiling_acc"] = accuracy(ceiling_stage(ctx, split, seed).arrays()["test_probs"], test_labels)
        for name in cfg.transfer:
            student = student_on_labels(ctx, judged[name].probs, split, seed, cfg.student_loss, cfg.hard_labels, f"student_{name}")
            metrics[f"{name}_student_acc"] = accuracy(student.arrays()["test_probs"], test_labels)
            metrics[f"{name}_pgr"] = pgr(weak, metrics[f"{name}_student_acc"], metrics["ceiling_acc"])
    head = {"weak_acc": weak, "student_acc": metrics.get(f"{cfg.headline}_student_acc", math.nan),
            "ceiling_acc": metrics.get("ceiling_acc", math.nan), "pgr": metrics.get(f"{cfg.headline}_pgr", math.nan)}
    print(protocol_table({k: {"mean": v} for k, v in metrics.items()}, cfg.protocols, f"seed {seed}"), flush=True)
    return {**head, **metrics}


COLUMNS = [("judge_acc", "judge acc"), ("judge_acc_lo", "lo"), ("judge_acc_hi", "hi"), ("honest_win_rate", "honest win"),
           ("parse_failure_rate", "unparsed"), ("student_acc", "student"), ("pgr", "PGR")]


def protocol_table(summary: dict[str, dict], protocols: list[str] | None = None, title: str = "") -> str:
    """One row per judging protocol: judge accuracy and interval, honest win rate, parse failures, transfer."""
    if protocols is None:
        protocols = [p for p in ALL + sorted(JUDGING.names()) if f"{p}_judge_acc" in summary]
        protocols = list(dict.fromkeys(protocols))
    head = f"{'protocol':<15}" + "".join(f"{label:>11}" for _, label in COLUMNS)
    lines = [f"judging protocols{' — ' + title if title else ''}", head, "-" * len(head)]
    for p in protocols:
        cells = []
        for key, _ in COLUMNS:
            value = summary.get(f"{p}_{key}", {}).get("mean", math.nan)
            cells.append(f"{'—' if value is None or math.isnan(value) else f'{value:.3f}':>11}")
        lines.append(f"{p:<15}" + "".join(cells))
    return "\n".join(lines)
