"""The judge: reads the question, what it may see of the passage and a protocol's material, and
picks one of two answers, once per presentation order.

Every item is judged twice, answers (and the sides arguing for them) listed in canonical and in
swapped order; both verdicts are kept and the item's probabilities are their mean, which cancels
a position preference. `verdict: logprob` scores the answer words after `verdict_prefix` (never
unparsable); `verdict: generate` lets the judge write and parses the first answer it names, and a
run whose unparsable share exceeds `max_parse_failure` stops with an error instead of reporting.
`calibrate` centres the pool's log-odds (contextual calibration; assumes balanced gold answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from oversight.errors import ConfigError, OversightError
from oversight.judging.backends import LMBackend
from oversight.judging.items import LETTERS, Item, ask, named
from oversight.judging.lm import Conversation, LMConfig
from oversight.training.config import ClassifierConfig, TrainConfig

ORDERS = ((0, 1), (1, 0))  # canonical, swapped


@dataclass
class JudgeConfig:
    kind: str = "lm"  # lm: a chat LM judges | classifier: a small classifier trained on split.weak_train's gold (trained_judge.py)
    lm: LMConfig = field(default_factory=lambda: LMConfig(max_new_tokens=8))  # kind=lm: the judge's model
    verdict: str = "logprob"  # kind=lm: logprob scores the answers (on a backend without logprobs: parsed, said at run time) | generate writes a verdict that is parsed
    calibrate: bool = True  # subtract the pool's mean log-odds (removes a constant preference for one answer)
    max_parse_failure: float = 0.2  # generate: a larger share of unparsable verdicts fails the run
    classifier: ClassifierConfig = field(default_factory=lambda: ClassifierConfig(model="minilm-l3", max_length=256))  # kind=classifier
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=20, lr=1e-3, batch_size=16, weight_decay=1.0))  # kind=classifier

    def __post_init__(self) -> None:
        if self.kind not in ("lm", "classifier"):
            raise ConfigError(f"judge.kind must be lm | classifier, got {self.kind!r}")
        if self.verdict not in ("logprob", "generate"):
            raise ConfigError(f"judge.verdict must be logprob | generate, got {self.verdict!r}")
        if not 0 <= self.max_parse_failure <= 1:
            raise ConfigError(f"judge.max_parse_failure must be in [0, 1], got {self.max_parse_failure}")


@dataclass
class Verdicts:
    probs: np.ndarray  # (n, 2) P(answer) in canonical answer order, after order averaging (and calibration)
    order_probs: np.ndarray  # (n, 2 orders, 2) raw per-order probabilities, canonical answer order
    failed: np.ndarray  # (n, 2 orders) verdicts that could not be parsed (generate only)
    replies: list[list[str]]  # (n, 2 orders) the judge's words (generate) or "" (logprob)


def judge_conversation(item: Item, material: str, order: tuple[int, int]) -> Conversation:
    """The question (answers listed in `order`), then the protocol's material: all the judge reads."""
    parts = [ask(item, order), material]
    return [{"role": "user", "content": "\n".join(p for p in parts if p)}]


def parse_verdict(reply: str, answers: list[str]) -> int | None:
    """Position (in `answers`) of the first answer named in `reply`, or None."""
    found = [(m.start(), k) for k, a in enumerate(answers)
             for m in [re.search(rf"(?<!\w){re.escape(a.lower())}(?!\w)", reply.lower())] if m]
    return min(found)[1] if found else None


LEADING_LETTER = re.compile(r"^\W*\(?([AB])\)?(?![A-Za-z])")  # "A", " (B).", '"A"' opening the reply
BRACKETED_LETTER = re.compile(r"\(([AB])\)")  # "(B)" anywhere


def parse_pick(reply: str, item: Item, order: tuple[int, int] = (0, 1)) -> int | None:
    """The answer (canonical position) `reply` picks: for lettered answers listed in `order`, the letter
    opening the reply or the first bracketed one; else, or failing that, the first answer text it names."""
    if item.lettered and (m := LEADING_LETTER.match(reply) or BRACKETED_LETTER.search(reply)):
        return order[LETTERS.index(m.group(1))]
    return parse_verdict(reply, item.answers)


def judge_items(cfg: JudgeConfig, lm: LMBackend, items: list[Item], materials: list[list[str]],
                prefix: str, seed: int, label: str) -> Verdicts:
    """Judge every item in both orders; `materials[i][o]` is the judge-facing text for order o."""
    n = len(items)
    order_probs = np.zeros((n, 2, 2))
    failed = np.zeros((n, 2), dtype=bool)
    replies = [["", ""] for _ in range(n)]
    verdict = cfg.verdict
    if verdict == "logprob" and not lm.scores_options:
        print(f"note: {label}: judge {lm.cfg.model} on backend {lm.cfg.backend.name} cannot score answers by logprob "
              "(an openai backend needs logprobs and prefill); its verdicts are parsed from generated replies", flush=True)
        verdict = "generate"
    for o, order in enumerate(ORDERS):
        convs = [judge_conversation(item, materials[i][o], order) for i, item in enumerate(items)]
        if verdict == "logprob":
            answers = [named(item, order) for item in items]
            order_probs[:, o] = score_answers(lm, convs, answers, prefix)
        else:
            texts = lm.generate(convs, seed=seed, assistant_prefix=prefix)
            for i, (item, text) in enumerate(zip(items, texts)):
                replies[i][o] = text
                pick = parse_pick(text, item, order)
                failed[i, o] = pick is None
                order_probs[i, o] = [0.5, 0.5] if pick is None else np.eye(2)[pick]
    rate = float(failed.mean()) if n else 0.0
    if rate > cfg.max_parse_failure:
        example = next(r for i in range(n) for o in range(2) for r in [replies[i][o]] if failed[i, o])
        raise OversightError(f"{label}: {rate:.0%} of judge verdicts name no answer (limit "
                             f"{cfg.max_parse_failure:.0%}), e.g. {example[:80]!r}; raise judge.lm.max_new_tokens or use judge.verdict=logprob")
    probs = order_probs.mean(axis=1)
    if cfg.calibrate:
        probs = calibrate(probs)
    return Verdicts(probs, order_probs, failed, replies)


def score_answers(lm: LMBackend, convs: list[Conversation], answers: list[list[str]], prefix: str) -> np.ndarray:
    """Score each conversation's own two answers; items sharing an answer pair go in one call."""
    out = np.zeros((len(convs), 2))
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, pair in enumerate(answers):
        groups.setdefault(tuple(pair), []).append(i)
    for pair, rows in groups.items():
        out[rows] = lm.option_probs([convs[i] for i in rows], list(pair), assistant_prefix=prefix)
    return out


def calibrate(probs: np.ndarray) -> np.ndarray:
    """Shift every item's log-odds by the pool mean, so the pool has no net preference."""
    logit = np.log(np.clip(probs[:, 1], 1e-9, 1)) - np.log(np.clip(probs[:, 0], 1e-9, 1))
    shifted = logit - logit.mean()
    p1 = 1 / (1 + np.exp(-shifted))
    return np.stack([1 - p1, p1], axis=1)
