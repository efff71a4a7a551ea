"""`JudgingConfig`: the roles and rules every judging protocol shares (one section, reused by the
`judging` protocol and by `w2s.supervision`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from oversight.errors import ConfigError
from oversight.judging.items import ItemsConfig
from oversight.judging.judge import JudgeConfig
from oversight.judging.lm import LMConfig


@dataclass
class JudgingConfig:
    items: ItemsConfig = field(default_factory=ItemsConfig)  # how rows become question / answers / hidden passage
    judge: JudgeConfig = field(default_factory=JudgeConfig)  # the weak judge
    debater: LMConfig = field(default_factory=LMConfig)  # debaters and the consultant (read the passage)
    critic: LMConfig = field(default_factory=LMConfig)  # the critic (reads the passage)
    rounds: int = 2  # debate and consultancy rounds
    debate_mode: str = "simultaneous"  # simultaneous | sequential
    planted_fraction: float = 0.5  # critique: share of candidate answers tampered with a planted error
    quote_words: int = 30  # critique: words of the passage the candidate answer quotes
    bootstrap: int = 1000  # resamples for the judge-accuracy 95% interval

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ConfigError(f"rounds must be >= 1, got {self.rounds}")
        if self.debate_mode not in ("simultaneous", "sequential"):
            raise ConfigError(f"debate_mode must be simultaneous | sequential, got {self.debate_mode!r}")
        if not 0 <= self.planted_fraction <= 1 or self.quote_words < 1 or self.bootstrap < 0:
            raise ConfigError("need 0 <= planted_fraction <= 1, quote_words >= 1, bootstrap >= 0")

    def role(self, name: str) -> LMConfig:
        return {"debater": self.debater, "critic": self.critic}[name]
