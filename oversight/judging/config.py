"""What every use of a weak judge shares (`JudgeSetup`: how rows become items, the judge, its
interval and the test items it is scored on), and `JudgedSupervision`, the section that makes a
judge assisted by one scheme the supervisor of a W2S student (`w2s.judged:`).

A supervising judge is also scored on a fixed subsample of the test split, so its accuracy sits
on the same examples as its student's and the ceiling's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oversight.errors import ConfigError
from oversight.judging.base import SCHEMES, SchemeConfig
from oversight.judging.items import ItemsConfig
from oversight.judging.judge import JudgeConfig


@dataclass
class JudgeSetup:
    items: ItemsConfig = field(default_factory=ItemsConfig)  # how rows become question / answers / hidden passage
    judge: JudgeConfig = field(default_factory=JudgeConfig)  # the weak judge
    bootstrap: int = 1000  # resamples for the judge-accuracy 95% interval
    test_items: int = 200  # test examples every supervising judge is also scored on (a fixed subsample of split.test, 0 = all): the headline's weak, student and ceiling accuracies are all on them

    def __post_init__(self) -> None:
        if self.bootstrap < 0 or self.test_items < 0:
            raise ConfigError("need bootstrap >= 0 and test_items >= 0")

    def check_run(self, run) -> None:
        if self.judge.kind == "classifier" and run.split.weak_train == 0:
            raise ConfigError("judge.kind=classifier learns from the gold labels of split.weak_train's items, disjoint "
                              "from the pool it labels; set split.weak_train > 0")


@dataclass
class JudgedSupervision(JudgeSetup):
    """A weak judge assisted by `scheme` labels the student's training pool instead of a weak model."""

    scheme: SchemeConfig = field(default_factory=lambda: SCHEMES.config("debate"))  # the judging scheme and its roles


def judged_test_items(test: np.ndarray, k: int, data_seed: int) -> np.ndarray:
    """The fixed subsample of the test split a supervising judge is scored on (all of it for k = 0 or k >= len).

    Drawn by the data seed, like the test split itself, so every run seed shares it (paired seeds).
    """
    test = np.asarray(test)
    if k == 0 or k >= len(test):
        return test
    return np.sort(np.random.default_rng([data_seed, 4099]).permutation(test)[:k])
