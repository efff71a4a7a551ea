"""Run one judging scheme on a pool of items as two cached stages, then score it.

Stage `transcripts` (the strong roles speak) is keyed by the items and the scheme's own config
(its settings and role models); stage `verdicts` by the transcripts and the judge. Changing only the judge reuses every
transcript. The verdict stage writes `transcripts.jsonl` (one line per item: what each role said,
what the judge read and decided); a copy lands in the run directory and a wandb table.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from oversight.atomic import atomic_write_bytes
from oversight.errors import ConfigError
from oversight.judging.base import SCHEMES, Material, SchemeConfig, roles_of
from oversight.judging.config import JudgeSetup
from oversight.judging.items import Item, ask, build_items
from oversight.judging.judge import ORDERS, Verdicts, judge_items
from oversight.judging.lm import connect, lm_identity
from oversight.judging.trained_judge import classifier_verdicts
from oversight.keys import as_plain, key_dict
from oversight.metrics import bootstrap_ci
from oversight.stages import digest
from oversight.training import distributed as dist

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context

TABLE_COLUMNS = ["protocol", "index", "gold", "judge_pick", "p_gold", "judge_view", "transcript"]


@dataclass
class Judged:
    protocol: str
    items: list[Item]
    probs: np.ndarray  # (n, n_classes) judged class probabilities, mass on the two debated answers
    metrics: dict[str, float]
    records: list[dict] = field(default_factory=list)  # per item, the scheme's transcript record (who argued what)


def run_judging(ctx: Context, scheme: SchemeConfig, cfg: JudgeSetup, indices: np.ndarray, seed: int,
                judge_train: np.ndarray | None = None, tag: str = "") -> Judged:
    """Judge the items at `indices` under `scheme`. A classifier judge learns from the scheme's
    transcripts of the `judge_train` items (gold answers), disjoint from `indices`. `tag` tells
    published transcripts of other item sets apart (`debate-test-seed0.jsonl`)."""
    name, spec = scheme.name, SCHEMES.get(scheme.name)
    items, materials, made = transcripts(ctx, scheme, cfg, indices, seed, tag)
    judge_spec = {"transcripts": made.key, "judge": key_dict(cfg.judge), "prefix": cfg.items.verdict_prefix}
    if cfg.judge.kind == "lm":
        judge_spec["judge_model"] = lm_identity(cfg.judge.lm, ctx.ws.offline)
    if cfg.judge.kind == "classifier":
        if judge_train is None or len(judge_train) == 0:
            raise ConfigError("judge.kind=classifier trains on the items of split.weak_train; set split.weak_train > 0")
        if np.intersect1d(judge_train, indices).size:
            raise ConfigError("the classifier judge's training items overlap the items it judges")
        train_items, train_materials, train_made = transcripts(ctx, scheme, cfg, judge_train, seed, "-judge_train")
        judge_spec["judge_train"] = train_made.key

    def decide(workdir: Path):
        start = time.time()
        views = [m.views for m in materials]
        if cfg.judge.kind == "classifier":
            verdicts = classifier_verdicts(cfg.judge, ctx.ws, train_items, [m.views for m in train_materials], items, views,
                                           seed, workdir)
        else:
            lm = connect(cfg.judge.lm, ctx.ws.device, ctx.ws.offline)
            verdicts = judge_items(cfg.judge, lm, items, views, cfg.items.verdict_prefix + " ", seed, label=f"{name} (seed {seed})")
        _write_transcripts(workdir / "transcripts.jsonl", name, items, materials, verdicts)
        acc = float((verdicts.probs.argmax(-1) == [it.correct for it in items]).mean())
        usage = lm.usage.as_metrics("judge") if cfg.judge.kind == "lm" else {}
        return ({"judge_acc": acc, "seconds": time.time() - start, "seed": seed, **usage},
                {"probs": verdicts.probs, "order_probs": verdicts.order_probs, "failed": verdicts.failed})

    decided = ctx.run_stage(f"verdicts_{name}", judge_spec, decide, seed, label=f"verdicts_{name}{tag}")
    arrays = decided.arrays()
    verdicts = Verdicts(arrays["probs"], arrays["order_probs"], arrays["failed"], [])
    metrics = score(items, materials, verdicts, spec, cfg.bootstrap, seed)
    speakers = {"judge": {**as_plain(cfg.judge), "verdict_prefix": cfg.items.verdict_prefix}, **{r: as_plain(lm) for r, lm in roles_of(scheme).items()}}
    _publish(ctx, decided.path / "transcripts.jsonl", name + tag, seed, items, speakers)
    probs = np.zeros((len(items), len(ctx.dataset.classes)), dtype=np.float32)
    for i, it in enumerate(items):
        probs[i, it.classes] = verdicts.probs[i]
    return Judged(name, items, probs, metrics, [m.record for m in materials])


def transcripts(ctx: Context, scheme: SchemeConfig, cfg: JudgeSetup, indices: np.ndarray, seed: int, tag: str = ""):
    """(items, materials, stage): what the scheme's strong roles said about each item, a cached stage
    (logged with `tag`, which names the item set)."""
    name, spec = scheme.name, SCHEMES.get(scheme.name)
    items = build_items(ctx.dataset, indices, cfg.items, seed)
    gen_spec = {"data": ctx.fingerprint, "indices": digest(np.asarray(indices, dtype="<i8")), "scheme": key_dict(scheme),
                "items": key_dict(cfg.items), "seed": seed,
                "models": {r: lm_identity(lm, ctx.ws.offline) for r, lm in roles_of(scheme).items()}}
    if cfg.items.answer_columns:  # lettered answers: strong roles read them unlettered, the judge each order's letters (since views v2)
        gen_spec["lettered_views"] = 2

    def make(workdir: Path):
        start = time.time()
        roles = {r: connect(lm, ctx.ws.device, ctx.ws.offline) for r, lm in roles_of(scheme).items()}
        made = spec.make(items, roles, scheme, seed)
        with open(workdir / "materials.jsonl", "w") as f:
            for m in made:
                f.write(json.dumps({"views": m.views, "record": m.record}) + "\n")
        usage = {k: v for r, lm in roles.items() for k, v in lm.usage.as_metrics(r).items()}
        return {"seconds": time.time() - start, "n": len(items), "seed": seed, **usage}, {}

    stage = ctx.run_stage(f"transcripts_{name}", gen_spec, make, seed, label=f"transcripts_{name}{tag}")
    materials = [Material(**json.loads(line)) for line in (stage.path / "materials.jsonl").read_text().splitlines()]
    return items, materials, stage


def score(items: list[Item], materials: list[Material], verdicts: Verdicts, spec, reps: int, seed: int) -> dict[str, float]:
    gold = np.array([it.correct for it in items])
    correct = (verdicts.probs.argmax(-1) == gold).astype(np.float64)
    raw = (verdicts.order_probs.mean(1).argmax(-1) == gold).astype(np.float64)
    lo, hi = bootstrap_ci(correct, reps, seed)
    out = {"judge_acc": float(correct.mean()), "judge_acc_lo": lo, "judge_acc_hi": hi, "judge_acc_raw": float(raw.mean()),
           "parse_failure_rate": float(verdicts.failed.mean())}
    if spec.extra_metrics is not None:
        out.update(spec.extra_metrics(items, materials, verdicts))
    return out


def _write_transcripts(path: Path, name: str, items: list[Item], materials: list[Material], verdicts: Verdicts) -> None:
    with open(path, "w") as f:
        for i, (it, m) in enumerate(zip(items, materials)):
            row = {"protocol": name, "index": it.index, "question": it.question, "answers": it.answers,
                   "gold": it.answers[it.correct], "judge_view": it.judge_view, "passage": it.passage,
                   "judge_reads": m.views, "verdict_probs": verdicts.probs[i].tolist(),
                   "order_probs": verdicts.order_probs[i].tolist(), "parse_failed": verdicts.failed[i].tolist(),
                   "judge_replies": verdicts.replies[i], **m.record}
            f.write(json.dumps(row) + "\n")


def _publish(ctx: Context, path: Path, name: str, seed: int, items: list[Item], speakers: dict[str, dict]) -> None:
    """Copy the transcripts into the run directory, each row with the question as the judge was asked
    it in each order (`judge_asked`) and every role's model, backend and sampling (`roles`: the judge
    and the strong roles), and log them as a wandb table."""
    if not dist.is_main() or ctx.ws.run_dir is None:
        return
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    out = Path(ctx.ws.run_dir) / "transcripts" / f"{name}-seed{seed}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**row, "judge_asked": [ask(it, order) for order in ORDERS], "roles": speakers} for row, it in zip(rows, items)]
    atomic_write_bytes(out, "".join(json.dumps(row) + "\n" for row in rows).encode())
    if ctx.ws.table is not None:
        table = [[name, r["index"], r["gold"], r["answers"][int(np.argmax(r["verdict_probs"]))],
                  r["verdict_probs"][it.correct], r["judge_view"], r["judge_reads"][0]] for r, it in zip(rows, items)]
        ctx.ws.table(f"transcripts/{name}/seed{seed}", TABLE_COLUMNS, table)
