"""One seed of the digits debate as cached stages: the sparse-pixel judge and the full-image ceiling,
then every debate of each agent against all nine liars (see the `digits_debate` protocol)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from oversight.digits.config import PixelJudgeConfig
from oversight.digits.game import debate_outcomes, make_agent, move_order, play, precommit_games
from oversight.digits.pixels import Digits, PixelJudge, judge_accuracy, load_digits_data, split_digits, train_judge
from oversight.metrics import pgr
from oversight.stages import StageResult, digest
from oversight.training.weights import load_checked, save_tensors

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context


@contextmanager
def one_thread() -> Iterator[None]:
    """Tiny MLPs gain nothing from intra-op threads, and lose a lot to them on a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def judge_stage(ctx: Context, data: Digits, train_idx: np.ndarray, k: int | None, seed: int) -> tuple[PixelJudge, StageResult]:
    """Train (or reuse) the judge on k random pixels; k=None trains the full-image ceiling."""
    cfg: PixelJudgeConfig = ctx.protocol_cfg.judge
    spec = {"data": data.fingerprint(), "train_idx": digest(np.asarray(train_idx, dtype="<i8")), "k": k, "judge": asdict(cfg), "seed": seed}

    def compute(workdir: Path):
        start = time.time()
        judge = train_judge(data, train_idx, k, cfg, seed)
        save_tensors(workdir / "model.pt", judge.state_dict())
        return {"seconds": time.time() - start, "seed": seed}, {}

    kind = "digits_ceiling" if k is None else "digits_judge"
    result = ctx.run_stage(kind, spec, compute, seed)
    judge = PixelJudge(cfg.hidden)
    load_checked(judge, result.path / "model.pt")
    return judge.eval(), result


def debate_stage(ctx: Context, data: Digits, idx: np.ndarray, judge: PixelJudge, trained: StageResult, k: int, agent: str,
                 seed: int) -> dict[str, float]:
    """Every debated image against all nine liars, honest played by `agent`; moves kept as arrays."""
    cfg = ctx.protocol_cfg
    liar = cfg.liar or agent
    spec = {"judge": trained.key, "images": digest(np.asarray(idx, dtype="<i8")), "k": k, "agent": agent, "honest_first": cfg.honest_first,
            "beam": cfg.beam if "search" in (agent, liar) else None, "seed": seed if "random" in (agent, liar) else None}
    if liar != agent:  # only then, so that caches of same-agent debates stay valid
        spec["liar"] = liar

    def compute(workdir: Path):
        start = time.time()
        honest, liar_agent = (make_agent(kind, beam=cfg.beam, seed=seed) for kind in (agent, liar))
        games = precommit_games(data.images[idx], data.labels[idx], data.allowed[idx])
        record = play(judge, games, move_order(k, cfg.honest_first), honest, liar_agent)
        meta = {**debate_outcomes(record, len(idx)), "seconds": time.time() - start, "seed": seed}
        return meta, {"claims": record.claims, "moves": record.moves, "choice": record.choice, "margin": record.margin}

    meta = ctx.run_stage(f"digits_debate_{agent}", spec, compute, seed).meta
    return {"debate_acc": meta["debate_acc"], "honest_win_rate": meta["honest_win_rate"]}


def run_seed(ctx: Context, seed: int) -> dict[str, float]:
    cfg = ctx.protocol_cfg
    data = load_digits_data()
    train_idx, test_idx = split_digits(len(data.labels), cfg.test_size, cfg.data_seed)
    idx = test_idx[: cfg.n_debate]
    metrics: dict[str, float] = {}
    with one_thread():
        ceiling, _ = judge_stage(ctx, data, train_idx, None, seed)
        metrics["ceiling_acc"] = judge_accuracy(ceiling, data, idx, None, 1, seed)
        for k in cfg.ks:
            judge, trained = judge_stage(ctx, data, train_idx, k, seed)
            metrics[f"k{k}_judge_acc"] = judge_accuracy(judge, data, idx, k, cfg.judge_draws, seed)
            for agent in cfg.agents:
                outcome = debate_stage(ctx, data, idx, judge, trained, k, agent, seed)
                metrics.update({f"k{k}_{name}_{agent}": value for name, value in outcome.items()})
            metrics[f"k{k}_pgr"] = pgr(metrics[f"k{k}_judge_acc"], metrics[f"k{k}_debate_acc_{cfg.agents[-1]}"],
                                       metrics["ceiling_acc"])
    head = cfg.headline_k
    return {"weak_acc": metrics[f"k{head}_judge_acc"], "student_acc": metrics[f"k{head}_debate_acc_{cfg.agents[-1]}"],
            "ceiling_acc": metrics["ceiling_acc"], "pgr": metrics[f"k{head}_pgr"], **metrics}
