"""The standard W2S task presets, offline: each reads a fixture folder written in its hub dataset's
real schema through the real `datasets.load_dataset` path, and binarises it as the W2S papers do."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight.data import data_config, load_dataset_from_config
from oversight.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "w2s_tasks"


def load(name: str, **values):
    return load_dataset_from_config(data_config(name, path=str(FIXTURES / name), balance=False, dedup=False, **values))


@pytest.mark.parametrize("name, classes, n", [
    ("sciq", ["incorrect", "correct"], 8), ("boolq", ["false", "true"], 8), ("cosmos_qa", ["incorrect", "correct"], 8),
    ("anthropic_hh", ["rejected", "chosen"], 8), ("amazon_polarity", ["negative", "positive"], 8),
    ("quartz_hub", ["incorrect", "correct"], 8),
])
def test_preset_reads_its_schema_and_binarises(name, classes, n):
    ds = load(name)
    assert ds.classes == classes and len(ds) == n
    assert min(ds.class_counts().values()) > 0 and all(t.strip() for t in ds.texts)  # both classes, no empty text
    again = load(name)
    assert again.texts == ds.texts and again.labels.tolist() == ds.labels.tolist()  # the coin is seeded (data.seed)


def test_the_coin_follows_data_seed():
    assert load("sciq", seed=0).labels.tolist() != load("sciq", seed=1).labels.tolist()


def test_multiple_choice_items_pair_the_question_with_its_answer_or_a_distractor():
    ds = load("sciq")
    for text, label in zip(ds.texts, ds.labels):
        question, answer = text.removeprefix("Q: ").split(" A: ")
        row = next(r for r in FIXTURE_SCIQ if r["question"] == question)
        assert (answer == row["correct_answer"]) == (ds.classes[label] == "correct")
        assert answer in (row["correct_answer"], row["distractor1"], row["distractor2"], row["distractor3"])
    boolq = load("boolq")
    assert boolq.texts[0] == "Passage: The Sun is the star at the center of the Solar System.\nQuestion: is the sun a star?"
    assert boolq.classes[boolq.labels[0]] == "true"


def test_a_cosmos_qa_item_answered_none_of_the_above_shows_a_listed_answer_as_incorrect():
    """Burns et al.'s binarisation: the item stays, with one of its (all wrong) listed answers."""
    ds = load("cosmos_qa")
    for row in _rows("cosmos_qa"):
        if row[f"answer{row['label']}"].startswith("None of the above"):
            shown = [(t, ds.classes[y]) for t, y in zip(ds.texts, ds.labels) if t.startswith(f"Context: {row['context']}")]
            assert len(shown) == 1 and shown[0][1] == "incorrect"
            answer = shown[0][0].rsplit("Answer: ", 1)[1]
            assert answer in [row[f"answer{i}"] for i in range(4) if i != row["label"]]


def test_a_file_in_another_schema_is_a_one_line_error(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"text": "hello", "label": 1}\n')
    with pytest.raises(DataError, match=r"^sciq: row 0 of .* does not have the allenai/sciq schema \(KeyError"):
        load_dataset_from_config(data_config("sciq", path=str(tmp_path)))


def _rows(name: str) -> list[dict]:
    import json

    return [json.loads(line) for line in (FIXTURES / name / "train.jsonl").read_text().splitlines()]


FIXTURE_SCIQ = _rows("sciq")
