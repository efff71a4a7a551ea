"""The standard weak-to-strong tasks by hub id, binarised the way the W2S papers do.

Burns et al. (2023) and EleutherAI/w2s turn every task into binary classification of one text. A
classification set keeps its own label: boolq's answer, amazon_polarity's sentiment. A multiple-choice
item becomes one text that pairs the question with its correct answer (label `correct`) or with
one of its distractors (label `incorrect`). A seeded coin per item decides which, so each item
appears once. anthropic_hh shows the chosen or the rejected reply of a pair, by the same coin.
Classes are balanced by `data.balance` (on by default), as those papers balance to 50/50.

Each preset calls `datasets.load_dataset(path, split=...)` on the preset's hub id, or on
`data.path`, which may be a local folder of files in that dataset's schema. The tests run that
real loading path offline on fixtures. `data.revision` pins a hub dataset to a branch, tag or commit.
Rows the task cannot use (an empty text) are dropped and counted. A cosmos_qa item whose right answer
is "None of the above choices." is kept, as Burns et al. keep it: shown with one of its listed
answers, all wrong, and labelled `incorrect`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from oversight.data.catalog import DATASETS, DataConfig
from oversight.data.dataset import TextDataset
from oversight.errors import DataError

Row = dict[str, Any]
Example = tuple[str, str]  # (text, class name)
CHOICE = ["incorrect", "correct"]  # the classes of a binarised multiple-choice task


@dataclass
class W2STaskConfig(DataConfig):
    """A standard W2S task: read from its hub id (or `path`) and binarised by the preset."""

    path: str = ""  # hub id or local folder in the dataset's schema ("" = the preset's hub id)
    split: str = "train"  # which split to read
    revision: str = ""  # hub dataset revision: branch, tag or commit ("" = the default branch)


@dataclass(frozen=True)
class Task:
    hub_id: str
    classes: list[str]
    example: Callable[[Row, random.Random], Example | None]  # one row → (text, class), or None to drop it


def _pick(rng: random.Random, correct: str, distractors: list[str]) -> Example:
    """The coin: the correct answer (→ correct) or one distractor (→ incorrect)."""
    if rng.random() < 0.5 or not distractors:
        return correct, "correct"
    return rng.choice(distractors), "incorrect"


def _sciq(row: Row, rng: random.Random) -> Example:
    answer, label = _pick(rng, row["correct_answer"], [row["distractor1"], row["distractor2"], row["distractor3"]])
    return f"Q: {row['question']} A: {answer}", label


def _boolq(row: Row, rng: random.Random) -> Example:
    return f"Passage: {row['passage']}\nQuestion: {row['question']}?", "true" if row["answer"] else "false"


def _cosmos_qa(row: Row, rng: random.Random) -> Example:
    answers = [row[f"answer{i}"] for i in range(4)]
    correct = answers[int(row["label"])]
    wrong = [a for a in answers if a != correct]
    if correct.strip().lower().startswith("none of the above"):
        answer, label = rng.choice(wrong), CHOICE[0]  # as Burns et al.: every listed answer is wrong, so show one
    else:
        answer, label = _pick(rng, correct, wrong)
    return f"Context: {row['context']}\nQuestion: {row['question']}\nAnswer: {answer}", label


def _anthropic_hh(row: Row, rng: random.Random) -> Example:
    return (row["chosen"], "chosen") if rng.random() < 0.5 else (row["rejected"], "rejected")


def _amazon_polarity(row: Row, rng: random.Random) -> Example:
    return f"{row['title']} {row['content']}".strip(), ["negative", "positive"][int(row["label"])]


def _quartz(row: Row, rng: random.Random) -> Example:
    """QuaRTz: two-choice qualitative science questions with a supporting passage."""
    texts, keys = list(row["choices"]["text"]), list(row["choices"]["label"])
    correct = texts[keys.index(row["answerKey"])]
    answer, label = _pick(rng, correct, [t for t in texts if t != correct])
    return f"Passage: {row['para']}\nQ: {row['question']} A: {answer}", label


TASKS: dict[str, Task] = {
    "sciq": Task("allenai/sciq", CHOICE, _sciq),
    "boolq": Task("google/boolq", ["false", "true"], _boolq),
    "cosmos_qa": Task("allenai/cosmos_qa", CHOICE, _cosmos_qa),
    "anthropic_hh": Task("Anthropic/hh-rlhf", ["rejected", "chosen"], _anthropic_hh),
    "amazon_polarity": Task("fancyzhx/amazon_polarity", ["negative", "positive"], _amazon_polarity),
    "quartz_hub": Task("allenai/quartz", CHOICE, _quartz),  # `quartz` is the offline A/B version (OpenAI evals)
}


def read_rows(name: str, hub_id: str, cfg: W2STaskConfig, subset: str = ""):
    """(where, rows): `datasets.load_dataset` on `cfg.path` or the hub id (its `subset` config, if
    named), one split; a failure is a one-line DataError."""
    import datasets  # heavy: imported only when a preset is used

    where = cfg.path or hub_id
    try:
        return where, datasets.load_dataset(where, subset or None, split=cfg.split, revision=cfg.revision or None)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise DataError(f"{name}: cannot load {where} split {cfg.split!r}: {type(err).__name__}: {first}") from err


def load_task(name: str, cfg: W2STaskConfig) -> TextDataset:
    """Read the preset's rows and binarise them, one seeded coin per row (`data.seed`)."""
    task = TASKS[name]
    where, rows = read_rows(name, task.hub_id, cfg)
    rng = random.Random(f"{name}/{cfg.seed}")
    texts, labels, dropped = [], [], 0
    for i, row in enumerate(rows):
        try:
            example = task.example(row, rng)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise DataError(f"{name}: row {i} of {where} does not have the {task.hub_id} schema ({type(err).__name__}: {err})") from err
        if example is None or not example[0].strip():
            dropped += 1
            continue
        texts.append(example[0])
        labels.append(example[1])
    if dropped:
        print(f"{name}: dropped {dropped} of {len(rows)} rows that cannot be binarised (no right answer, or empty)", flush=True)
    if not texts:
        raise DataError(f"{name}: no usable rows in {where} split {cfg.split!r}")
    return TextDataset.from_raw_labels(name, texts, labels, None, task.classes)


for _name, _task in TASKS.items():
    DATASETS.add(_name, partial(load_task, _name), f"W2S task {_name} ({_task.hub_id}), binarised", config=W2STaskConfig)
