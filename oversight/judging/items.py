"""Judging items: a question, two candidate answers, and a passage only the strong roles read.

`ItemsConfig` says how a dataset row becomes an item: which column is the passage (the hidden
evidence), which is the question, and how much of the passage the judge may see (`judge_words`:
the first k words, as the sparse-pixel judge of Irving et al. 2018 sees k pixels). Binary datasets
debate their two classes; with more classes the gold answer faces one distractor drawn per item.
A dataset whose answers differ per row (QuALITY's options) names two columns in `answer_columns`:
their texts are argued over and listed as (A) and (B), by the position each is listed at, and the
verdict names the letter, so a long answer is not scored against a short one by the likelihood of
its words, and listing the answers in both orders cancels a preference for a letter as it does
one for a position (Khan et al. 2024 swap their answers the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oversight.data import TextDataset
from oversight.errors import ConfigError, DataError
from oversight.keys import keyed_if_set

ANSWER_PREFIX = "The correct answer is"  # how a role's reply opens when its answer is scored (judge, open pick, ranker)


@dataclass
class ItemsConfig:
    passage_column: str = ""  # column holding the hidden passage ("" = the example text itself)
    question_column: str = ""  # column filling {question} in the template ("" = no per-item question)
    question_template: str = "Which is correct: {answers}?"  # what every role is asked; {answers} = "a or b", {question} = the column
    passage_label: str = "Text"  # how the passage is introduced, e.g. "Review", "Evidence"
    judge_words: int = 0  # the judge also sees the passage's first k words (0 = nothing of it)
    verdict_prefix: str = ANSWER_PREFIX  # opening of the judge's reply; the answer word follows
    answer_columns: list[str] = keyed_if_set(default_factory=list)  # two columns with each row's own answer texts, shown as (A) and (B); the dataset's two classes say which is right ([] = the classes are the answers)
    answer_letters: bool = keyed_if_set(True)  # with answer_columns: list them as (A) and (B) and have a verdict name the letter; false: it names the answer's own words (short answers, small judges)


@dataclass
class Item:
    index: int  # dataset row
    question: str  # the filled question template
    passage: str  # hidden from the judge
    judge_view: str  # the line showing what of the passage the judge sees ("" = nothing)
    passage_line: str  # the passage as the strong roles read it ("Review: ...")
    answers: list[str]  # the two answers argued over, in canonical order
    classes: list[int]  # class index of each answer
    correct: int  # position of the gold answer in `answers`
    lettered: bool = False  # listed as (A) and (B) by position, and a verdict names the letter (per-row answers)


def build_items(ds: TextDataset, indices: np.ndarray, cfg: ItemsConfig, seed: int) -> list[Item]:
    """Items for `indices`; for > 2 classes the distractor is drawn from a seed fixed per row."""
    passages = _column(ds, cfg.passage_column) if cfg.passage_column else ds.texts
    questions = _column(ds, cfg.question_column) if cfg.question_column else None
    if "{question}" in cfg.question_template and questions is None:
        raise ConfigError("items.question_template uses {question} but items.question_column is empty")
    if cfg.answer_columns and (len(cfg.answer_columns) != 2 or len(ds.classes) != 2):
        raise ConfigError(f"items.answer_columns names two columns of a two-class dataset (which one is right), "
                          f"got {cfg.answer_columns} on {len(ds.classes)} classes")
    own = [_column(ds, c) for c in cfg.answer_columns]
    items = []
    for i in map(int, indices):
        gold = int(ds.labels[i])
        if len(ds.classes) == 2:
            classes = [0, 1]
        else:
            others = [c for c in range(len(ds.classes)) if c != gold]
            distractor = others[np.random.default_rng([seed, i]).integers(len(others))]
            classes = sorted([gold, distractor])
        passage = str(passages[i])
        if not passage.strip():
            raise DataError(f"{ds.name}: row {i} has an empty passage")
        question = cfg.question_template.format(question=questions[i] if questions is not None else "", answers="{answers}")
        words = passage.split()
        view = " ".join(words[: cfg.judge_words]) + (" ..." if len(words) > cfg.judge_words else "") if cfg.judge_words else ""
        answers = [str(column[i]) for column in own] if own else [ds.classes[c] for c in classes]
        items.append(Item(i, question, passage, f"{cfg.passage_label}: {view}" if view else "", f"{cfg.passage_label}: {passage}",
                          answers, classes, classes.index(gold), bool(own) and cfg.answer_letters))
    return items


LETTERS = ("A", "B")  # the names of per-row answers, by the position they are listed at


def named(item: Item, order: tuple[int, int] = (0, 1)) -> list[str]:
    """What a verdict names for each answer (in canonical order) when they are listed in `order`:
    the answer itself, or the letter of the position it is listed at."""
    return [LETTERS[order.index(k)] for k in (0, 1)] if item.lettered else list(item.answers)


def shown(item: Item, k: int, order: tuple[int, int] = (0, 1)) -> str:
    """Answer k as the judge reads it when the answers are listed in `order`: its text, after the
    letter of its position where answers are lettered (so an argued answer names the letter a verdict names)."""
    return f"({LETTERS[order.index(k)]}) {item.answers[k]}" if item.lettered else item.answers[k]


def ask(item: Item, order: tuple[int, int] = (0, 1), letters: bool = True) -> str:
    """The question with the answers listed in `order` (each after its letter, where answers have one
    and `letters`: the strong roles, whose words the judge reads in both orders, get none)."""
    first, second = (shown(item, k, order) if letters else item.answers[k] for k in order)
    listed = f"{first} or {second}"
    return item.question.replace("{answers}", listed) if "{answers}" in item.question else f"{item.question} ({listed})"


def _column(ds: TextDataset, name: str) -> list:
    if name not in ds.columns:
        raise DataError(f"{ds.name} has no column {name!r} (columns: {sorted(ds.columns)})")
    return ds.columns[name]
