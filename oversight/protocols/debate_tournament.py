"""A debater tournament (Khan et al. 2024): do more persuasive debaters make a weak judge more accurate?

Each player is a debater configuration (its model, sampling, best-of-N, critique-then-refine).
Every pair of players debates every pool item in cross-play, each arguing the correct answer on a
seeded half of the items, drawn anew for each pairing (`debate cross=true`), and the judge's
verdicts on these cross-play matches rate the players on the Elo scale (judging/ratings.py: one
Bradley-Terry fit with a shared honest-side advantage, intervals by bootstrap over items). Every player also debates itself (self-play, the ordinary debate scheme):
the judge's accuracy there is what that debater's debates are worth to the judge. The tournament's
question is whether self-play accuracy rises with rating, plotted per seed as
`tournament-seed<k>.png` in the run directory; the judge alone (`direct`) is the floor.

Transcripts and verdicts are the debate scheme's cached stages, so a self-play debate shares its
stages with an assisted_judging run of the same debater, and adding a player runs only its matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from oversight.errors import ConfigError
from oversight.headline import SeedResult
from oversight.judging.base import SCHEMES
from oversight.judging.config import JudgeSetup
from oversight.judging.lm import LMConfig
from oversight.judging.schemes.debate import DebateConfig
from oversight.protocols.base import register_protocol
from oversight.tables import render

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context


@dataclass
class PlayerConfig:
    name: str = ""  # the player's name in tables and metric keys (letters, digits, - and _)
    debater: LMConfig = field(default_factory=LMConfig)  # its model and how it samples
    best_of: int = 1  # candidate turns per turn, ranked by the tournament's debate.ranker (needs debater.temperature > 0)
    refine: bool = False  # critique-then-refine each turn with the tournament's debate.critic


def _default_players() -> list[PlayerConfig]:
    speaker = {"max_new_tokens": 40}
    return [PlayerConfig("greedy", LMConfig(**speaker)), PlayerConfig("sampled", LMConfig(temperature=0.7, **speaker))]


@dataclass
class TournamentConfig(JudgeSetup):
    players: list[PlayerConfig] = field(default_factory=_default_players)  # two or more debaters, each playing every other and itself
    debate: DebateConfig = field(default_factory=lambda: SCHEMES.config("debate", rounds=1))  # what every match shares: rounds, mode, the ranker and critic (its own debater, best_of and refine are each player's)

    def __post_init__(self) -> None:
        super().__post_init__()
        names = [p.name for p in self.players]
        if len(names) < 2 or len(set(names)) != len(names) or not all(n and n.replace("-", "").replace("_", "").isalnum() for n in names):
            raise ConfigError(f"debate_tournament.players needs two or more players with distinct names of letters, digits, - and _, got {names}")
        if {"direct", "honest_advantage"} & set(names) or any("_vs_" in n or "-vs-" in n for n in names):
            raise ConfigError(f"debate_tournament.players: the names direct and honest_advantage, and names holding _vs_ or -vs-, "
                              f"are taken by the tournament's own results, got {names}")
        shared = SCHEMES.config("debate", rounds=self.debate.rounds, mode=self.debate.mode, ranker=self.debate.ranker, critic=self.debate.critic)
        if self.debate != shared:
            raise ConfigError("debate_tournament.debate sets what every match shares (rounds, mode, ranker, critic); "
                              "a player's debater, best_of and refine belong in its players entry, and cross, open and defect are not for tournaments")
        for p in self.players:
            self.match(p)  # each player's settings checked as a debate's

    def match(self, a: PlayerConfig, b: PlayerConfig | None = None) -> DebateConfig:
        """The debate scheme for `a` in self-play, or `a` against `b` in cross-play."""
        own = replace(self.debate, debater=a.debater, best_of=a.best_of, refine=a.refine)
        return own if b is None else replace(own, cross=True, opponent=b.debater, opponent_best_of=b.best_of, opponent_refine=b.refine)


@register_protocol("debate_tournament", TournamentConfig, sections=("data", "split"),
                   summary_table=lambda summary: tournament_table(summary, "mean over seeds"),
                   summary_rows=lambda summary: ("tournament", *tournament_rows(summary)))
def run_tournament(ctx: Context, seed: int) -> SeedResult:
    """Debater tournament: cross-play Elo ratings against the judge's accuracy in each debater's self-play."""
    from oversight.judging.ratings import Matches, fit_ratings, rating_intervals
    from oversight.judging.run import run_judging

    cfg: TournamentConfig = ctx.protocol_cfg
    split = ctx.split(seed)
    pool = split.strong_train
    gold = ctx.dataset.labels[pool]

    def judge(scheme, tag: str, kept: str, prefix: str):
        """The scheme judged on the pool, and its metrics starting with `kept`, renamed with `prefix`."""
        judged = run_judging(ctx, scheme, cfg, pool, seed, judge_train=split.weak_train, tag=tag)
        return judged, {f"{prefix}{k}": v for k, v in judged.metrics.items() if k.startswith(kept)}

    metrics = judge(SCHEMES.config("direct"), "", "judge_acc", "direct_")[1]
    for player in cfg.players:
        metrics |= judge(cfg.match(player), f"-{player.name}", "judge_acc", f"{player.name}_selfplay_")[1]
    rows: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # cross-play: (player A, player B, A honest per item, honest side won per item)
    for (p, a), (q, b) in combinations(enumerate(cfg.players), 2):
        judged, rates = judge(cfg.match(a, b), f"-{a.name}-vs-{b.name}", "a_win_rate", f"{a.name}_vs_{b.name}_")
        rows.append((p, q, np.array([r["a_honest"] for r in judged.records]), judged.probs.argmax(-1) == gold))
        metrics |= rates
    matches = Matches(*(np.concatenate(parts) for parts in zip(*[
        (np.where(honest, p, q), np.where(honest, q, p), right.astype(np.float64), np.arange(len(pool))) for p, q, honest, right in rows])))
    elo, advantage = fit_ratings(matches, len(cfg.players))
    lo, hi = rating_intervals(matches, len(cfg.players), cfg.bootstrap, seed)
    metrics["honest_advantage_elo"] = advantage  # in Elo points, from cross-play
    for p, player in enumerate(cfg.players):
        won, played = matches.wins(p)
        metrics |= {f"{player.name}_elo": float(elo[p]), f"{player.name}_elo_lo": float(lo[p]), f"{player.name}_elo_hi": float(hi[p]),
                    f"{player.name}_crossplay_win_rate": won / played}
    print(tournament_table({k: {"mean": v} for k, v in metrics.items()}, f"seed {seed}"), flush=True)
    if ctx.ws.run_dir is not None:
        from oversight.plots import accuracy_vs_rating
        from oversight.training import distributed as dist

        if dist.is_main():
            accuracy_vs_rating(metrics, [p.name for p in cfg.players], f"debate tournament, seed {seed}, {len(pool)} items",
                               ctx.ws.run_dir / f"tournament-seed{seed}.png")
    return SeedResult(metrics)


COLUMNS = [("elo", "Elo"), ("elo_lo", "lo"), ("elo_hi", "hi"), ("crossplay_win_rate", "cross-play wins"),
           ("selfplay_judge_acc", "judge acc, self-play"), ("selfplay_judge_acc_lo", "lo"), ("selfplay_judge_acc_hi", "hi")]


def tournament_rows(summary: dict[str, dict]) -> tuple[list[str], list[list]]:
    players = [key.removesuffix("_crossplay_win_rate") for key in summary if key.endswith("_crossplay_win_rate")]
    value = lambda key: summary.get(key, {}).get("mean", math.nan)  # noqa: E731
    return ["player", *(label for _, label in COLUMNS)], [[p, *(value(f"{p}_{key}") for key, _ in COLUMNS)] for p in players]


def tournament_table(summary: dict[str, dict], title: str) -> str:
    """One row per player, by rating: Elo and its interval, cross-play win rate, the judge's accuracy in its self-play."""
    columns, rows = tournament_rows(summary)
    rows.sort(key=lambda row: -row[1] if not math.isnan(row[1]) else math.inf)
    cells = [[row[0], *("—" if math.isnan(v) else f"{v:.0f}" if i < 3 else f"{v:.3f}" for i, v in enumerate(row[1:]))] for row in rows]
    direct = summary.get("direct_judge_acc", {}).get("mean", math.nan)
    advantage = summary.get("honest_advantage_elo", {}).get("mean", math.nan)
    return (f"debate tournament — {title} (the judge alone: {direct:.3f}; arguing the correct answer is worth {advantage:+.0f} Elo)\n"
            + render(columns, cells, numeric_from=1))
