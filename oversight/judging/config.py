"""`JudgingConfig`: the roles and rules every judging protocol shares (one section, reused by the
`judging` protocol and by `w2s.supervision`), and the test items a judge supervising a student is
scored on, so its accuracy sits on the same examples as the student's and the ceiling's."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    test_items: int = 200  # test examples every supervising judge is also scored on (a fixed subsample of split.test, 0 = all): the headline's weak, student and ceiling accuracies are all on them

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ConfigError(f"rounds must be >= 1, got {self.rounds}")
        if self.debate_mode not in ("simultaneous", "sequential"):
            raise ConfigError(f"debate_mode must be simultaneous | sequential, got {self.debate_mode!r}")
        if not 0 <= self.planted_fraction <= 1 or self.quote_words < 1 or self.bootstrap < 0 or self.test_items < 0:
            raise ConfigError("need 0 <= planted_fraction <= 1, quote_words >= 1, bootstrap >= 0, test_items >= 0")

    def role(self, name: str) -> LMConfig:
        return {"debater": self.debater, "critic": self.critic}[name]


def judged_test_items(test: np.ndarray, k: int, data_seed: int) -> np.ndarray:
    """The fixed subsample of the test split a supervising judge is scored on (all of it for k = 0 or k >= len).

    Drawn by the data seed, like the test split itself, so every run seed shares it (paired seeds).
    """
    test = np.asarray(test)
    if k == 0 or k >= len(test):
        return test
    return np.sort(np.random.default_rng([data_seed, 4099]).permutation(test)[:k])
