"""The ToMi judging preset on the real evals-registry file: two answers per question, the story hidden."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from oversight.data import data_config, load_dataset_from_config
from oversight.data.sources.tomi import question_type, tomi_item
from oversight.errors import ConfigError, DataError
from oversight.judging.items import ItemsConfig, ask, build_items, named
from oversight.keys import key_dict

STORY = ("Mila entered the den. Owen entered the den. The scarf is in the red_box. Owen exited the den. "
         "Mila moved the scarf to the blue_crate.")


@pytest.mark.parametrize("question, gold, kind", [
    ("Where is the scarf really?", "blue_crate", "reality"),
    ("Where was the scarf at the beginning?", "red_box", "memory"),
    ("Where will Owen look for the scarf?", "red_box", "first_order"),
    ("Where does Mila think that Owen searches for the scarf?", "red_box", "second_order"),
])
def test_a_question_becomes_the_gold_container_against_the_other_one(question: str, gold: str, kind: str) -> None:
    letters = set()
    for seed in range(12):  # the coin puts the gold answer first for some seeds and second for others
        item = tomi_item(f"{STORY} {question}", gold, seed)
        pair = [item["answer_a"], item["answer_b"]]
        assert sorted(pair) == ["blue_crate", "red_box"]
        assert pair["AB".index(item["label"])] == gold
        assert (item["passage"], item["question"], item["question_type"]) == (STORY, question, kind)
        assert item["text"] == f"{STORY}\nQuestion: {question}\n(A) {pair[0]}\n(B) {pair[1]}"
        letters.add(item["label"])
    assert letters == {"A", "B"}
    assert question_type(question) == kind


def test_text_that_is_not_a_tomi_item_is_a_data_error() -> None:
    with pytest.raises(DataError, match="does not end in a 'Where"):
        tomi_item(f"{STORY} Who moved the scarf?", "Mila", 0)
    with pytest.raises(DataError, match="not in two containers"):
        tomi_item(f"{STORY} Where is the scarf really?", "attic", 0)


def test_the_preset_reads_every_registry_question_and_keeps_one_per_story_by_default() -> None:
    every = load_dataset_from_config(data_config("tomi", max_per_story=0))
    assert len(every) == 5_993
    assert Counter(every.columns["question_type"]) == {"first_order": 1998, "second_order": 1997, "memory": 999, "reality": 999}
    ds = load_dataset_from_config(data_config("tomi"))
    assert len(ds) == len(set(ds.columns["passage"])) == 999  # one question of each story: pool and test stories differ
    assert len(set(ds.columns["question_type"])) == 4
    assert 0.45 < ds.labels.mean() < 0.55  # the coin balances A and B
    for story, a, b, question, text in zip(*(ds.columns[k] for k in ("passage", "answer_a", "answer_b", "question")), ds.texts):
        assert f"the {a}" in story and f"the {b}" in story and a != b  # both answers are containers the story names
        assert question not in story and text.startswith(story)
    again = load_dataset_from_config(data_config("tomi"))
    assert again.texts == ds.texts  # the draw is seeded
    assert load_dataset_from_config(data_config("tomi", seed=1)).texts != ds.texts


def test_question_types_select_and_an_unknown_one_is_named() -> None:
    easy = load_dataset_from_config(data_config("tomi", question_types=["reality", "memory"]))
    assert set(easy.columns["question_type"]) == {"reality", "memory"} and len(easy) == 999
    with pytest.raises(ConfigError, match=r"unknown \['belief'\]"):
        load_dataset_from_config(data_config("tomi", question_types=["belief"]))


def test_without_letters_a_verdict_names_the_containers_themselves() -> None:
    ds = load_dataset_from_config(data_config("tomi", max_examples=8))
    rows = np.arange(len(ds))
    lettered = build_items(ds, rows, ItemsConfig(answer_columns=["answer_a", "answer_b"]), seed=0)
    plain = build_items(ds, rows, ItemsConfig(answer_columns=["answer_a", "answer_b"], answer_letters=False), seed=0)
    for a, b, row in zip(lettered, plain, rows):
        pair = [ds.columns["answer_a"][row], ds.columns["answer_b"][row]]
        assert a.answers == b.answers == pair and a.correct == b.correct == int(ds.labels[row])
        assert named(a, (1, 0)) == ["B", "A"] and f"(A) {pair[1]} or (B) {pair[0]}?" in ask(a, (1, 0))
        assert named(b, (1, 0)) == pair and f": {pair[1]} or {pair[0]}?" in ask(b, (1, 0))
    assert "answer_letters" not in key_dict(ItemsConfig()) and key_dict(ItemsConfig(answer_letters=False))["answer_letters"] is False
