"""Classifier-only debate on 8×8 digits (Irving, Christiano & Amodei 2018, "AI safety via debate", §3.1).

For each k in `ks`, a judge trained on k random nonzero pixels is scored alone (k random pixels)
and with debate: an honest player and a liar, precommitted to their labels, reveal k pixels
between them, and each image counts for debate only if honesty beats all nine liars. The data
(scikit-learn's digits) come with the protocol; the `data:` section is not read.

Headline keys, for `headline_k`: weak_acc = the judge alone; student_acc = the judge with debate
between the last (strongest) agent in `agents`; ceiling_acc = the judge's network trained and
tested on full images; pgr = (student - weak) / (ceiling - weak), the gap debate recovers.
Per k: k{k}_judge_acc, and per agent k{k}_debate_acc_{agent} and k{k}_honest_win_rate_{agent}.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from oversight.debate.digits import Digits, Judge, JudgeConfig, judge_accuracy, load_digits_data, split_digits, train_judge
from oversight.debate.digits_game import debate_outcomes, make_agent, move_order, play, precommit_games
from oversight.errors import ConfigError
from oversight.metrics import pgr
from oversight.protocols.base import register_protocol
from oversight.stages import StageResult, digest

AGENTS = ("greedy", "search", "random")


@dataclass
class DigitsDebateConfig:
    ks: list[int] = field(default_factory=lambda: [4, 6])  # pixels revealed in all; one judge and one debate per k
    headline_k: int = 6  # the k whose numbers fill weak_acc / student_acc / ceiling_acc / pgr
    agents: list[str] = field(default_factory=lambda: ["greedy", "search"])  # debaters (both sides); greedy | search | random
    liar: str = ""  # the liar's agent if it should differ from the honest one ("" = the same); keys follow the honest agent
    beam: int = 3  # search: moves considered at each non-final turn (the final move searches all pixels)
    honest_first: bool = True  # the honest player reveals the first pixel (so the liar reveals the last when k is even)
    test_size: int = 500  # held-out images, fixed by data_seed; the judges train on the other 1,297
    n_debate: int = 200  # test images scored alone and debated (each against all nine liars)
    judge_draws: int = 10  # random k-pixel draws per image when scoring the judge alone
    data_seed: int = 0  # chooses the test images (the run seed moves only training)
    judge: JudgeConfig = field(default_factory=JudgeConfig)  # the judge's network and training (also the ceiling's)

    def __post_init__(self) -> None:  # checked when the config is loaded, before any work
        if not self.ks or any(not 1 <= k <= 16 for k in self.ks):  # every digit has at least 16 nonzero pixels
            raise ConfigError(f"digits_debate.ks must be 1..16 pixels, got {self.ks}")
        if self.headline_k not in self.ks:
            raise ConfigError(f"digits_debate.headline_k={self.headline_k} is not in ks={self.ks}")
        unknown = [a for a in [*self.agents, *([self.liar] if self.liar else [])] if a not in AGENTS]
        if not self.agents or unknown:
            raise ConfigError(f"digits_debate.agents {self.agents} / liar {self.liar!r}: choose from {list(AGENTS)}")
        if not 0 < self.n_debate <= self.test_size < 1797 or self.beam < 1:  # the digits set has 1,797 images
            raise ConfigError("digits_debate needs 0 < n_debate <= test_size < 1797 and beam >= 1")


@contextmanager
def one_thread() -> Iterator[None]:
    """Tiny MLPs gain nothing from intra-op threads, and lose a lot to them on a shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def judge_stage(ctx, data: Digits, train_idx: np.ndarray, k: int | None, seed: int) -> tuple[Judge, StageResult]:
    """Train (or reuse) the judge on k random pixels; k=None trains the full-image ceiling."""
    cfg: JudgeConfig = ctx.protocol_cfg.judge
    spec = {"data": data.fingerprint(), "train_idx": digest(np.asarray(train_idx, dtype="<i8")), "k": k, "judge": asdict(cfg), "seed": seed}

    def compute(workdir: Path):
        start = time.time()
        judge = train_judge(data, train_idx, k, cfg, seed)
        torch.save(judge.state_dict(), workdir / "model.pt")
        return {"seconds": time.time() - start, "seed": seed}, {}

    kind = "digits_ceiling" if k is None else "digits_judge"
    result = _stage(ctx, kind, spec, compute, seed)
    judge = Judge(cfg.hidden)
    judge.load_state_dict(torch.load(result.path / "model.pt", weights_only=True))
    return judge.eval(), result


def debate_stage(ctx, data: Digits, idx: np.ndarray, judge: Judge, trained: StageResult, k: int, agent: str,
                 seed: int) -> dict[str, float]:
    """Every debated image against all nine liars, honest played by `agent`; moves kept as arrays."""
    cfg: DigitsDebateConfig = ctx.protocol_cfg
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

    meta = _stage(ctx, f"digits_debate_{agent}", spec, compute, seed).meta
    return {"debate_acc": meta["debate_acc"], "honest_win_rate": meta["honest_win_rate"]}




def _stage(ctx, kind: str, spec: dict, compute, seed: int) -> StageResult:
    result = ctx.store.run(kind, spec, compute)
    summary = {k: v for k, v in result.meta.items() if isinstance(v, float)}
    if ctx.ws.log:
        ctx.ws.log({**summary, "reused": result.reused}, f"seed{seed}/{kind}")
    print(f"[seed {seed}] {kind:<20} {'reused' if result.reused else 'done':<6} "
          + "  ".join(f"{k}={v:.4g}" for k, v in summary.items()), flush=True)
    return result


@register_protocol("digits_debate", DigitsDebateConfig, uses_dataset=False)
def run_digits_debate(ctx, seed: int) -> dict[str, float]:
    """Debate on 8×8 digits (Irving et al. 2018): sparse-pixel judge alone vs with greedy/search debaters."""
    cfg: DigitsDebateConfig = ctx.protocol_cfg
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
