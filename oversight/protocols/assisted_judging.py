"""Assisted judging compared, and transferred: a weak judge labels a pool of items alone, with the
passage, after consultancy, after debate, and from a candidate answer with and without a critique
(each a judging scheme, oversight/judging/schemes/); a strong student then trains on each
transferred scheme's judged labels.

The pool is the seed's `strong_train` split; students and the ceiling (strong model on gold
labels of the pool) are scored on `test`. Every supervising judge (the judge alone, and the judge
under each transferred protocol) is also scored on a fixed subsample of the test split
(`test_items`), so a supervisor, its student and the ceiling are measured on the same examples.
Headline, for the `headline` protocol p: weak_acc = the p-assisted judge on those test items (the
supervisor of that student, the same number `w2s.supervision: p` reports), student_acc and
ceiling_acc on the same items, pgr the gap the student closes. Per protocol p: p_judge_acc on the
pool (with 95% bootstrap bounds p_judge_acc_lo/hi), p_parse_failure_rate, its own extras, and for
transferred ones p_judge_test_acc, p_student_acc (test items), p_student_full_test_acc and p_pgr.

The table is also Bowman et al.'s (2022) sandwich: the judge alone (`direct`, the non-expert),
the strong model alone (`model`: the role named by `model_alone`, e.g. the debater's model,
answering from the whole passage with the judge's verdict scoring), the judge assisted by each
scheme, and the expert (gold labels, 1.000 by construction). p_minus_model is the assisted judge's
accuracy minus the model's on the same pool items, with a paired bootstrap interval: a scheme
passes the sandwich test where the assisted judge beats the model alone as well as the judge alone.
Where a scheme's assistant is deceptive on some items, the gap between its judge and the model alone
is scored as a blind detector of them (p_belief_gap_auroc, oversight/judging/belief_gap.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from oversight.errors import ConfigError
from oversight.headline import SeedResult
from oversight.judging.base import SCHEMES, SchemeConfig, roles_of
from oversight.judging.belief_gap import belief_gap
from oversight.judging.config import JudgeSetup
from oversight.judging.lm import LMConfig
from oversight.metrics import accuracy, bootstrap_ci
from oversight.protocols.base import register_protocol
from oversight.protocols.w2s import judge_on_test, judged_headline, student_training
from oversight.tables import render
from oversight.training.config import TrainConfig
from oversight.training.selection import check_selection
from oversight.transfer_stats import seed_pgr

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context


@dataclass
class AssistedJudgingConfig(JudgeSetup):
    schemes: list[SchemeConfig] = field(default_factory=lambda: [SCHEMES.config(n) for n in SCHEMES.names()])  # schemes to run, each with its settings and roles; a name alone keeps an earlier layer's settings (`oversight list`)
    transfer: list[str] = field(default_factory=lambda: ["direct", "debate"])  # schemes whose judged labels train a student
    headline: str = "debate"  # the transferred scheme reported as student_acc / pgr
    student: TrainConfig = field(default_factory=lambda: student_training("xent"))  # students' training on judged labels; unset fields follow strong.train
    hard_labels: bool = True  # students learn the judge's verdicts (argmax), not its uncalibrated probabilities
    model_alone: str = "auto"  # the sandwich's "model" row: <scheme>.<role> whose model answers alone from the whole passage; auto = the headline's (else the first) scheme's first role; none = no row

    def __post_init__(self) -> None:
        super().__post_init__()
        check_selection(self.student.select, gold_targets=False, where="assisted_judging.student.select")
        names = [s.name for s in self.schemes]
        if len(set(names)) != len(names):
            raise ConfigError(f"assisted_judging.schemes repeats a scheme: {names}")
        if "direct" not in names:
            raise ConfigError("assisted_judging.schemes must include direct (the judge alone is the floor)")
        if not set(self.transfer) <= set(names) or (self.transfer and self.headline not in self.transfer):
            raise ConfigError("assisted_judging.transfer must be schemes that run, and include headline")
        if self.model_alone not in ("auto", "none") and self.model_lm() is None:
            raise ConfigError(f"assisted_judging.model_alone={self.model_alone!r}: name <scheme>.<role> of a scheme that runs "
                              f"(roles: {', '.join(self._roles()) or 'none'}), auto or none")

    def _roles(self) -> dict[str, LMConfig]:
        """Every strong role of the schemes that run, as `<scheme>.<role>`, in the schemes' order."""
        return {f"{s.name}.{r}": lm for s in self.schemes for r, lm in roles_of(s).items()}

    def model_lm(self) -> tuple[str, LMConfig] | None:
        """(which role, its model) for the sandwich's model-alone row, or None for no row."""
        roles = self._roles()
        if self.model_alone != "auto":
            return (self.model_alone, roles[self.model_alone]) if self.model_alone in roles else None
        ordered = sorted(roles, key=lambda name: not name.startswith(self.headline + "."))  # the headline's roles first
        return (ordered[0], roles[ordered[0]]) if ordered else None

    def scheme(self, name: str) -> SchemeConfig:
        return next(s for s in self.schemes if s.name == name)


@register_protocol("assisted_judging", AssistedJudgingConfig, sections=("data", "split", "strong"),
                   summary_table=lambda summary: scheme_table(summary, title="mean over seeds"))
def run_assisted_judging(ctx: Context, seed: int) -> SeedResult:
    """Direct QA, consultancy, debate, critique: a weak LLM judge assisted; judged labels train a strong student."""
    from oversight.judging.run import run_judging  # torch: imported only when the protocol runs

    cfg: AssistedJudgingConfig = ctx.protocol_cfg
    split = ctx.split(seed)
    metrics: dict[str, float] = {}
    judged = {}
    for scheme in cfg.schemes:
        name = scheme.name
        judged[name] = run_judging(ctx, scheme, cfg, split.strong_train, seed, judge_train=split.weak_train)
        metrics.update({f"{name}_{k}": v for k, v in judged[name].metrics.items()})
    metrics.update(model_alone(ctx, cfg, judged, split, seed))
    on_test = {name: judge_on_test(ctx, cfg.scheme(name), cfg, split, seed) for name in dict.fromkeys(["direct", *cfg.transfer])}
    metrics.update({f"{name}_judge_test_acc": judged_test.metrics["judge_acc"] for name, (_, judged_test) in on_test.items()})
    headlines = {}
    if cfg.transfer:
        ceiling = ctx.ceiling(split, seed)
        test_labels = ctx.dataset.labels[split.test]
        metrics["ceiling_full_test_acc"] = accuracy(ceiling.arrays()["test_probs"], test_labels)
        for name in cfg.transfer:
            student = ctx.student(judged[name].probs, split, seed, cfg.student, cfg.hard_labels, f"student_{name}")
            test_items, judged_test = on_test[name]
            h = headlines[name] = judged_headline(ctx, split, test_items, judged_test, student, ceiling, name)
            metrics[f"{name}_student_acc"] = float(h.student.mean())  # on the judged test items, like its judge
            metrics[f"{name}_student_full_test_acc"] = accuracy(student.arrays()["test_probs"], test_labels)
            metrics[f"{name}_pgr"] = seed_pgr(h.weak, h.student, h.ceiling, h.test_ids, seed=seed)
    rows = [s.name for s in cfg.schemes] + (["model"] if "model_judge_acc" in metrics else [])
    print(scheme_table({k: {"mean": v} for k, v in metrics.items()}, rows, f"seed {seed}"), flush=True)
    return SeedResult(metrics, headlines.get(cfg.headline))


def model_alone(ctx: Context, cfg: AssistedJudgingConfig, judged: dict, split, seed: int) -> dict[str, float]:
    """The sandwich's model row: the strong role's model (and backend) answers every pool item from
    the whole passage, scored as the judge scores (verdict, both orders, calibration, its sampling
    and token budget); each scheme's assisted judge minus it, paired over the same items. Adds
    `judged["model"]`."""
    from oversight.judging.run import run_judging

    chosen = cfg.model_lm()
    if chosen is None:
        return {}
    role, lm = chosen
    lm = replace(lm, max_new_tokens=cfg.judge.lm.max_new_tokens, temperature=cfg.judge.lm.temperature, top_p=cfg.judge.lm.top_p)
    setup = replace(cfg, judge=replace(cfg.judge, kind="lm", lm=lm))  # the role's model, speaking as the judge speaks
    judged["model"] = run_judging(ctx, SCHEMES.config("direct_passage"), setup, split.strong_train, seed, tag="-model")
    print(f"sandwich: the model alone is {role} ({lm.model}) reading the whole passage", flush=True)
    gold = ctx.dataset.labels[split.strong_train]
    right = {name: (j.probs.argmax(-1) == gold).astype(np.float64) for name, j in judged.items()}
    out = {f"model_{k}": v for k, v in judged["model"].metrics.items()}
    alone = judged["model"]
    for name, assisted in judged.items():
        if name != "model":
            diff = right[name] - right["model"]
            lo, hi = bootstrap_ci(diff, cfg.bootstrap, seed)
            out |= {f"{name}_minus_model": float(diff.mean()), f"{name}_minus_model_lo": lo, f"{name}_minus_model_hi": hi}
            assert [it.index for it in assisted.items] == [it.index for it in alone.items], "the model row judges the pool in its order"
            if gap := belief_gap(assisted.probs, alone.probs, assisted.records):
                out |= {f"{name}_{k}": v for k, v in gap.items()}
                print(f"blind detector: {name}'s judge parting from {role} alone flags its deceptive items with AUROC "
                      f"{gap['belief_gap_auroc']:.3f}, TPR {gap['belief_gap_tpr_at_5fpr']:.3f} at 5% FPR", flush=True)
    return out


COLUMNS = [("judge_acc", "pool acc"), ("judge_acc_lo", "lo"), ("judge_acc_hi", "hi"), ("minus_model", "- model"),
           ("minus_model_lo", "lo"), ("minus_model_hi", "hi"), ("judge_test_acc", "test acc"),
           ("honest_win_rate", "honest win"), ("parse_failure_rate", "unparsed"), ("student_acc", "student"), ("pgr", "PGR")]


def scheme_table(summary: dict[str, dict], schemes: list[str] | None = None, title: str = "") -> str:
    """One row per judging scheme (and `model`, the strong model alone): judge accuracy and interval,
    minus the model alone (paired), honest win rate, parse failures, transfer. Expert = gold labels."""
    if schemes is None:  # the order they ran in: the summary keeps the per-seed metrics' order
        schemes = [key.removesuffix("_judge_acc") for key in summary if key.endswith("_judge_acc")]
    def cell(value) -> str:
        return "—" if value is None or math.isnan(value) else f"{value:.3f}"

    rows = [[p, *(cell(summary.get(f"{p}_{key}", {}).get("mean", math.nan)) for key, _ in COLUMNS)] for p in schemes]
    table = render(["scheme", *(label for _, label in COLUMNS)], rows, numeric_from=1)
    return f"judging schemes{' — ' + title if title else ''} (the sandwich: direct = judge alone, model = strong model alone, expert = gold)\n{table}"
