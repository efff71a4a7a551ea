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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from oversight.digits.config import PixelJudgeConfig
from oversight.errors import ConfigError
from oversight.protocols.base import register_protocol

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context

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
    judge: PixelJudgeConfig = field(default_factory=PixelJudgeConfig)  # the judge's network and training (also the ceiling's)

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


@register_protocol("digits_debate", DigitsDebateConfig, sections=())
def run_digits_debate(ctx: Context, seed: int) -> dict[str, float]:
    """Debate on 8×8 digits (Irving et al. 2018): sparse-pixel judge alone vs with greedy/search debaters."""
    from oversight.digits.run import run_seed  # torch: imported only when the protocol runs

    return run_seed(ctx, seed)
