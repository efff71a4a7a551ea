"""Hidden-passage judging tasks by hub id: QuALITY for debate (Khan et al. 2024), BoolQ with its
passage hidden from the judge, and GPQA with the expert's explanation as the strong roles' view or
none at all (Kenton et al. 2024).

The strong roles (debaters, consultants, critics) read a passage the judge does not; the judge
has the question, the two answers and what the roles say. Both presets keep the passage in a
`passage` column and the question in a `question` column, for `items.passage_column` and
`items.question_column`.

**quality** (Pang et al. 2022; `tasksource/QuALITY`, one row per question, with the annotations
of the original release): multiple-choice questions on stories of 2-8k words. As Khan et al.
debate it, each question becomes two answers: the gold option against the best distractor, the
option the untimed annotators most often named as the tempting wrong one (ties: the first).
A seeded coin per question (`data.seed`, the question's id) puts the gold answer first or second;
the label says which, so the classes are `A` and `B`, and `items.answer_columns: [answer_a, answer_b]`
has the judge name a letter. The filters, with the defaults of Khan et al.'s released loader,
keep questions that need the story and still have one right answer:
- `hard_only`: questions most speed annotators (45 seconds with the story) got wrong (the release's
  `difficult` flag);
- `min_untimed_accuracy` (1.0) / `max_speed_accuracy` (0.5): the share of untimed annotators who
  chose the gold answer, at least; of speed annotators, at most (a question without annotations
  has no share and is dropped);
- `max_answerability` (1.0): the untimed annotators' mean rating of the question (1 one right
  answer, 2 several, 3 unclear), at most; `min_context` (1.5): their mean rating of how much of the
  story it needs (1 a sentence or two ... 4 most of it), at least (0 = no limit, either);
- `writer_agrees`: the question's writer gave the gold answer too;
- `sources`: the stories' sources (Project Gutenberg's); `max_per_story` (1): questions kept per
  story, in file order (0 = all); `split`: train and validation, as Khan et al. use both;
- always: no "all/none/both of the above"-style answer, which cannot be argued on its own.
The text a student classifies is the question with both answers (the story is too long for it).

**boolq_passage** (`google/boolq`): the W2S preset's yes/no questions with the Wikipedia passage as
a column, so the judge sees only the question (Kenton et al.'s extractive BoolQ).

**gpqa** (Rein et al. 2023; `Idavidrein/gpqa`, gated on the hub: accept its terms and log in):
graduate-level science questions written by domain experts, `subset` gpqa_diamond (the 198 that
experts answer and skilled non-experts with web access miss), gpqa_main or gpqa_extended. Each
question becomes the correct answer against one of its three incorrect answers, drawn by a seeded
coin per question (`data.seed`, its Record ID), which also orders them: classes `A` and `B` as for
QuALITY. The strong roles' expert view: with `expert_view` (the default) the `passage` column is
the question writer's explanation of the answer, which the strong roles read and the judge does
not (an extractive task, as for QuALITY); with `expert_view: false` it is the question and its two
answers, which the judge reads too: closed QA as Kenton et al. run it, where only the models' own
knowledge differs. Columns also name the domain and subdomain, for `organisms` topics or slicing.
"""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from oversight.data.catalog import DATASETS
from oversight.data.dataset import TextDataset
from oversight.data.sources.w2s_tasks import W2STaskConfig, read_rows
from oversight.errors import DataError

Row = dict[str, Any]
UNARGUABLE = re.compile(r"\b(all|none|neither|both) of (the )?(above|these|them|options|answers)\b", re.IGNORECASE)
BREAKS = re.compile(r"</p>\s*<p[^>]*>|<br\s*/?>|</?p[^>]*>", re.IGNORECASE)
TAGS = re.compile(r"<[^>]+>")


@dataclass
class QualityConfig(W2STaskConfig):
    """QuALITY by hub id, filtered and made two-answer as Khan et al. (2024) debate it."""

    path: str = ""  # hub id or local folder in tasksource/QuALITY's schema ("" = tasksource/QuALITY)
    split: str = "train+validation"  # which splits to read, joined by + (tasksource/QuALITY: train, validation)
    sources: list[str] = field(default_factory=lambda: ["Gutenberg"])  # keep stories from these sources ([] = all)
    hard_only: bool = True  # only questions most speed annotators got wrong (the release's `difficult`)
    min_untimed_accuracy: float = 1.0  # share of untimed annotators who chose the gold answer, at least
    max_speed_accuracy: float = 0.5  # share of speed annotators who chose the gold answer, at most
    max_answerability: float = 1.0  # untimed mean rating (1 one right answer, 2 several, 3 unclear), at most (0 = no limit)
    min_context: float = 1.5  # untimed mean rating of the story needed (1 a sentence or two ... 4 most of it), at least (0 = no limit)
    writer_agrees: bool = True  # only questions whose writer's answer is the gold answer
    max_per_story: int = 1  # questions kept per story, in file order (0 = all)


def strip_html(article: str) -> str:
    """The story as plain text: paragraph and line breaks kept, other tags dropped, entities decoded."""
    text = html.unescape(TAGS.sub("", BREAKS.sub("\n", article)))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def best_distractor(row: Row) -> int | None:
    """0-based option the untimed annotators most often named as the best distractor (not gold; ties: the first), or None."""
    gold = int(row["gold_label"])
    votes = Counter(int(v["untimed_best_distractor"]) for v in row["validation"] if int(v["untimed_best_distractor"]) != gold)
    if not votes:
        return None
    top = max(votes.values())
    return min(k for k, n in votes.items() if n == top) - 1


def _share(answers: list[Any], gold: int) -> float:
    return sum(int(a) == gold for a in answers) / len(answers) if answers else float("nan")


def _mean(ratings: list[Any]) -> float:
    return sum(map(int, ratings)) / len(ratings) if ratings else float("nan")


def quality_row(row: Row, cfg: QualityConfig) -> dict[str, Any] | None:
    """One question as a two-answer item (text, label and columns), or None where a filter drops it."""
    gold = int(row["gold_label"])
    if (cfg.sources and row["source"] not in cfg.sources) or (cfg.hard_only and not int(row["difficult"])):
        return None
    if cfg.writer_agrees and int(row["writer_label"]) != gold:
        return None
    untimed = _share([v["untimed_answer"] for v in row["validation"]], gold)
    speed = _share([v["speed_answer"] for v in row["speed_validation"]], gold)
    if not untimed >= cfg.min_untimed_accuracy or not speed <= cfg.max_speed_accuracy:  # NaN (no annotations) fails both
        return None
    if cfg.max_answerability and not _mean([v["untimed_eval1_answerability"] for v in row["validation"]]) <= cfg.max_answerability:
        return None
    if cfg.min_context and not _mean([v["untimed_eval2_context"] for v in row["validation"]]) >= cfg.min_context:
        return None
    distractor = best_distractor(row)
    options = [str(o) for o in row["options"]]
    if distractor is None or any(UNARGUABLE.search(options[k]) for k in (gold - 1, distractor)):
        return None
    correct_first = random.Random(f"quality/{cfg.seed}/{row['question_unique_id']}").random() < 0.5
    pair = [options[gold - 1], options[distractor]] if correct_first else [options[distractor], options[gold - 1]]
    question = str(row["question"]).strip()
    return {"text": f"Question: {question}\n(A) {pair[0]}\n(B) {pair[1]}", "label": "A" if correct_first else "B",
            "passage": strip_html(str(row["article"])), "question": question, "answer_a": pair[0], "answer_b": pair[1],
            "title": str(row["title"]), "untimed_accuracy": untimed, "speed_accuracy": speed}


@DATASETS.register("quality", QualityConfig, "QuALITY (tasksource/QuALITY): a story hidden from the judge, gold vs best distractor (Khan et al. 2024)")
def quality(cfg: QualityConfig) -> TextDataset:
    where, rows = read_rows("quality", "tasksource/QuALITY", cfg)
    kept: list[dict[str, Any]] = []
    per_story: Counter = Counter()
    for i, row in enumerate(rows):
        try:
            item = quality_row(row, cfg)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise DataError(f"quality: row {i} of {where} does not have the tasksource/QuALITY schema ({type(err).__name__}: {err})") from err
        if item is None or (cfg.max_per_story and per_story[item["title"]] >= cfg.max_per_story):
            continue
        per_story[item["title"]] += 1
        kept.append(item)
    print(f"quality: kept {len(kept)} of {len(rows)} questions of {where} split {cfg.split!r} after the filters", flush=True)
    if not kept:
        raise DataError(f"quality: no question of {where} split {cfg.split!r} passes the filters (data.hard_only, "
                        f"data.min_untimed_accuracy, data.max_speed_accuracy, data.sources, ...)")
    columns = {k: [item[k] for item in kept] for k in kept[0] if k not in ("text", "label")}
    return TextDataset.from_raw_labels("quality", [k["text"] for k in kept], [k["label"] for k in kept], columns, ["A", "B"])


@dataclass
class GPQAConfig(W2STaskConfig):
    """GPQA by hub id, two answers per question, the explanation as the strong roles' expert view."""

    path: str = ""  # hub id or local folder in Idavidrein/gpqa's schema ("" = Idavidrein/gpqa, gated: accept its terms on the hub)
    subset: str = "gpqa_diamond"  # gpqa_diamond | gpqa_main | gpqa_extended
    expert_view: bool = True  # the passage the strong roles read is the writer's explanation (false: closed QA, the passage is the question and answers the judge reads too)


def gpqa_row(row: Row, cfg: GPQAConfig) -> dict[str, Any]:
    """One question as a two-answer item: the correct answer and a drawn incorrect one, in a drawn order."""
    coin = random.Random(f"gpqa/{cfg.seed}/{row['Record ID']}")
    wrong = str(row[f"Incorrect Answer {coin.randint(1, 3)}"]).strip()
    right = str(row["Correct Answer"]).strip()
    correct_first = coin.random() < 0.5
    pair = [right, wrong] if correct_first else [wrong, right]
    question = str(row["Question"]).strip()
    text = f"Question: {question}\n(A) {pair[0]}\n(B) {pair[1]}"
    return {"text": text, "label": "A" if correct_first else "B",
            "passage": str(row["Explanation"]).strip() if cfg.expert_view else text, "question": question,
            "answer_a": pair[0], "answer_b": pair[1], "domain": str(row["High-level domain"]), "subdomain": str(row["Subdomain"])}


@DATASETS.register("gpqa", GPQAConfig, "GPQA (Idavidrein/gpqa): expert science questions, correct vs a drawn wrong answer; the explanation as the strong roles' view")
def gpqa(cfg: GPQAConfig) -> TextDataset:
    where, rows = read_rows("gpqa", "Idavidrein/gpqa", cfg, cfg.subset)
    items = []
    for i, row in enumerate(rows):
        try:
            items.append(gpqa_row(row, cfg))
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"gpqa: row {i} of {where} ({cfg.subset}) does not have the Idavidrein/gpqa schema ({type(err).__name__}: {err})") from err
    if not items:
        raise DataError(f"gpqa: {where} ({cfg.subset}) split {cfg.split!r} has no rows")
    columns = {k: [item[k] for item in items] for k in items[0] if k not in ("text", "label")}
    return TextDataset.from_raw_labels("gpqa", [k["text"] for k in items], [k["label"] for k in items], columns, ["A", "B"])


@DATASETS.register("boolq_passage", W2STaskConfig, "BoolQ (google/boolq) with the passage as a column the judge does not see (Kenton et al. 2024)")
def boolq_passage(cfg: W2STaskConfig) -> TextDataset:
    where, rows = read_rows("boolq_passage", "google/boolq", cfg)
    try:
        questions = [f"{str(r['question']).strip()}?" for r in rows]
        passages, labels = [str(r["passage"]) for r in rows], ["true" if r["answer"] else "false" for r in rows]
    except KeyError as err:
        raise DataError(f"boolq_passage: {where} does not have the google/boolq schema (no column {err})") from err
    texts = [f"Passage: {p}\nQuestion: {q}" for p, q in zip(passages, questions)]
    return TextDataset.from_raw_labels("boolq_passage", texts, labels, {"passage": passages, "question": questions}, ["false", "true"])
