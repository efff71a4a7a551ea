"""ToMi (Le et al. 2019, after Nematzadeh et al. 2018): a story the judge does not read, offline.

Each item is a short story (about 45 words) of people moving an object between two containers,
and one question about it: where the object is **really**, where it was **at the beginning**
(memory), where someone **will look** for it (first-order belief) or where someone **thinks**
another will look (second-order). Read from the OpenAI evals registry
(`theory_of_mind/tomi/test.jsonl`, 5,993 questions on 999 stories), so it runs offline.

Why it is here: a hidden-passage judging task that the packaged 135M-1.5B roles can read. As
Khan et al. (2024) debate QuALITY, each question becomes two answers, the gold container against
the other container the story puts the object in (every story names exactly two); a seeded coin
per question (`data.seed`, the story and question) puts the gold answer first or second, so the
classes are `A` and `B`, and `items.answer_columns: [answer_a, answer_b]` has the judge name a
letter. The story is the `passage` column the strong roles read and quote; the judge has the
`question` and the two answers. `question_type` names the kind of question (reality, memory,
first_order, second_order), for slicing and for an organism's or a deceptive role's topic.
The text a student classifies is the whole item: story, question and both answers.

Filters: `question_types` keeps those kinds ([] = all); `max_per_story` keeps at most that many
questions of one story, drawn by the seeded coin (1, the default, keeps train and test stories
apart: ToMi asks six questions of each story; 0 = all).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from oversight.data.catalog import DATASETS, DataConfig
from oversight.data.dataset import TextDataset
from oversight.data.sources.openai_evals import EvalsData, read_samples, resolve, sample_fields
from oversight.errors import ConfigError, DataError

QUESTION_TYPES = ("reality", "memory", "first_order", "second_order")
_ITEM = re.compile(r"(?P<story>.*?)\s*(?P<question>Where (?:is|was|will|does) [^?]*?the (?P<object>[\w-]+)(?: really| at the beginning)?\?)\s*",
                   re.DOTALL)


@dataclass
class ToMiConfig(DataConfig):
    """ToMi from the evals registry, two answers per question."""

    question_types: list[str] = field(default_factory=list)  # keep these kinds: reality, memory, first_order, second_order ([] = all)
    max_per_story: int = 1  # questions kept per story, drawn by the seeded coin (0 = all)


def question_type(question: str) -> str:
    if question.endswith("really?"):
        return "reality"
    if question.endswith("at the beginning?"):
        return "memory"
    return "second_order" if " think that " in question else "first_order"


def containers(story: str, obj: str) -> list[str]:
    """The containers the story puts `obj` in, in order of first mention."""
    found: list[str] = []
    for m in re.finditer(rf"(?:The {re.escape(obj)} is in the|moved the {re.escape(obj)} to the) ([\w-]+)", story):
        if m.group(1) not in found:
            found.append(m.group(1))
    return found


def tomi_item(text: str, gold: str, seed: int) -> dict[str, Any]:
    """One question as a two-answer item (text, label and columns); DataError if it does not read as ToMi."""
    m = _ITEM.fullmatch(text)
    if not m:
        raise DataError(f"tomi: {text[-80:]!r} does not end in a 'Where ... the <object>?' question")
    story, question = m["story"], m["question"]
    places = containers(story, m["object"])
    if len(places) != 2 or gold not in places:
        raise DataError(f"tomi: the story puts {m['object']!r} in {places}, not in two containers with the answer {gold!r}")
    wrong = places[1 - places.index(gold)]
    correct_first = random.Random(f"tomi/{seed}/{story}/{question}").random() < 0.5
    pair = [gold, wrong] if correct_first else [wrong, gold]
    return {"text": f"{story}\nQuestion: {question}\n(A) {pair[0]}\n(B) {pair[1]}", "label": "A" if correct_first else "B",
            "passage": story, "question": question, "answer_a": pair[0], "answer_b": pair[1],
            "question_type": question_type(question)}


@DATASETS.register("tomi", ToMiConfig, "ToMi stories (evals registry): where is the object, or where will someone look; the story hidden from the judge")
def tomi(cfg: ToMiConfig) -> TextDataset:
    unknown = sorted(set(cfg.question_types) - set(QUESTION_TYPES))
    if unknown:
        raise ConfigError(f"data.question_types: unknown {unknown}; choose from {list(QUESTION_TYPES)}")
    data = EvalsData()
    rel = resolve(data, "theory_of_mind/tomi/test")
    by_story: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in read_samples(data, rel):
        text, _, gold = sample_fields(rel, row)
        item = tomi_item(text, gold, cfg.seed)
        if not cfg.question_types or item["question_type"] in cfg.question_types:
            by_story[item["passage"]].append(item)
    items = []
    for story, questions in by_story.items():
        if cfg.max_per_story and len(questions) > cfg.max_per_story:
            questions = random.Random(f"tomi/{cfg.seed}/{story}").sample(questions, cfg.max_per_story)
        items.extend(questions)
    if not items:
        raise DataError(f"tomi: no question of types {cfg.question_types} in {rel}")
    columns = {k: [item[k] for item in items] for k in items[0] if k not in ("text", "label")}
    return TextDataset.from_raw_labels("tomi", [k["text"] for k in items], [k["label"] for k in items], columns, ["A", "B"])
