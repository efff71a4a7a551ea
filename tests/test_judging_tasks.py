"""The hidden-passage judging presets, offline: QuALITY (tasksource/QuALITY's schema) filtered and
made two-answer as Khan et al. (2024) debate it, and BoolQ with its passage as a column, each read
from a fixture through the real `datasets.load_dataset` path; items whose answers differ per row
are shown and judged by letter, here with the real packaged SmolLM2 judge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oversight.data import data_config, load_dataset_from_config
from oversight.errors import ConfigError, DataError
from oversight.judging.items import ItemsConfig, ask, build_items
from oversight.judging.judge import ORDERS, judge_conversation

FIXTURES = Path(__file__).parent / "fixtures"
QUALITY = FIXTURES / "judging_tasks" / "quality"
ROWS = {r["question_unique_id"]: r for f in ("train", "validation")
        for r in map(json.loads, (QUALITY / f"{f}.jsonl").read_text().splitlines())}
ITEMS = ItemsConfig(passage_column="passage", question_column="question", question_template="{question} Is it {answers}?",
                    passage_label="Story", answer_columns=["answer_a", "answer_b"])
LOOSE = {"max_per_story": 0, "max_answerability": 0}  # every question of a story, however its annotators rated it


def quality(**values):
    return load_dataset_from_config(data_config("quality", path=str(QUALITY), balance=False, dedup=False, **values))


def kept(ds) -> list[str]:
    by_question = {r["question"]: q for q, r in ROWS.items()}
    return [by_question[t.removeprefix("Question: ").split("\n")[0]] for t in ds.texts]


def test_quality_keeps_hard_unanimous_arguable_questions_and_pairs_gold_with_the_best_distractor():
    ds = quality(**LOOSE)
    # dropped: q3 not hard, q4 an untimed annotator disagreed, q5 not Gutenberg, q6 gold is "All of the above",
    # q10 its writer chose another answer, q11 a sentence of the story answers it; q9 is in the validation split
    assert kept(ds) == ["q1", "q2", "q7", "q8", "q9"]
    best = {"q1": "The crew", "q2": "Io", "q7": "By winter", "q8": "Calm", "q9": "He lit a fire"}  # most votes (q2: a tie, the first option)
    for i, q in enumerate(kept(ds)):
        row = ROWS[q]
        pair = [ds.columns["answer_a"][i], ds.columns["answer_b"][i]]
        assert pair[ds.labels[i]] == row["options"][row["gold_label"] - 1] and pair[1 - ds.labels[i]] == best[q]
        assert ds.texts[i] == f"Question: {row['question']}\n(A) {pair[0]}\n(B) {pair[1]}"
    story = ds.columns["passage"][kept(ds).index("q1")]
    assert story == "The ship drifted past Ganymede.\nCaptain Orr & his crew slept while the beacon failed.\n\nOnly the cook stayed awake."
    assert ds.classes == ["A", "B"]


def test_quality_filters_are_settings_with_khan_et_al_defaults():
    assert kept(quality()) == ["q1", "q7", "q9"]  # one question per story; q8's annotators saw several right answers
    assert len(quality(**LOOSE | {"max_answerability": 1.0})) == 4
    for loosened in ({"hard_only": False}, {"sources": []}, {"min_untimed_accuracy": 0.6}, {"writer_agrees": False}, {"min_context": 0}):
        assert len(quality(**LOOSE | loosened)) == 6, loosened  # brings back q3, q5, q4 (2 of 3 right), q10, q11
    assert kept(quality(**LOOSE | {"split": "train"})) == ["q1", "q2", "q7", "q8"]
    with pytest.raises(DataError, match=r"^quality: no question of .* passes the filters"):
        quality(sources=["Nowhere"])


def test_quality_order_coin_follows_data_seed_per_question():
    seeds = [quality(**LOOSE | {"seed": s}).labels.tolist() for s in range(6)]
    assert seeds[0] == quality(**LOOSE | {"seed": 0}).labels.tolist() and len({tuple(s) for s in seeds}) > 1
    from oversight.data.sources.judging_tasks import QualityConfig, quality_row

    alone = quality_row(ROWS["q9"], QualityConfig(**LOOSE))  # the coin is the question's, not its row's: q9 alone draws as among all
    every = quality(**LOOSE)
    assert every.classes[every.labels[kept(every).index("q9")]] == alone["label"]


def test_a_question_without_annotations_or_with_an_unarguable_distractor_is_dropped():
    from oversight.data.sources.judging_tasks import QualityConfig, quality_row

    cfg = QualityConfig(max_per_story=0, max_answerability=0)
    row = ROWS["q1"]
    assert quality_row(row, cfg)["answer_a"] in row["options"]
    assert quality_row(row | {"speed_validation": []}, cfg) is None  # no speed share to check: never kept
    assert quality_row(row | {"options": ["The captain", "The navigator", "None of these", "The cook"]}, cfg) is None
    assert quality_row(row | {"options": ["The captain", "The navigator", "Neither Orr nor his crew", "The cook"]}, cfg) is not None


def test_a_file_in_another_schema_is_a_one_line_error(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"question": "q", "options": ["a", "b"]}\n')
    with pytest.raises(DataError, match=r"^quality: row 0 of .* does not have the tasksource/QuALITY schema \(KeyError"):
        load_dataset_from_config(data_config("quality", path=str(tmp_path), split="train"))
    with pytest.raises(DataError, match=r"^boolq_passage: .* does not have the google/boolq schema"):
        load_dataset_from_config(data_config("boolq_passage", path=str(tmp_path)))


def test_boolq_passage_keeps_the_passage_for_the_strong_roles_only():
    ds = load_dataset_from_config(data_config("boolq_passage", path=str(FIXTURES / "w2s_tasks" / "boolq"), balance=False, dedup=False))
    assert ds.classes == ["false", "true"] and ds.columns["question"][0] == "is the sun a star?"
    items = build_items(ds, np.arange(2), ItemsConfig(passage_column="passage", question_column="question",
                                                       question_template="Question: {question} Is the answer {answers}?"), seed=0)
    conv = judge_conversation(items[0], "", ORDERS[0])[0]["content"]
    assert conv == "Question: is the sun a star? Is the answer false or true?" and "Solar System" not in conv
    assert "Solar System" in items[0].passage_line


def test_per_row_answers_are_lettered_by_position_in_both_orders_and_a_reply_names_the_letter():
    from oversight.judging.items import named
    from oversight.judging.judge import parse_pick

    ds = quality(**LOOSE)
    items = build_items(ds, np.arange(len(ds)), ITEMS, seed=0)
    item = items[0]
    a, b = item.answers
    assert item.lettered and item.answers == [ds.columns["answer_a"][0], ds.columns["answer_b"][0]]
    assert item.correct == ds.labels[0] and item.judge_view == ""
    assert ask(item) == item.question.replace("{answers}", f"(A) {a} or (B) {b}")
    assert f"(A) {b} or (B) {a}" in judge_conversation(item, "", ORDERS[1])[0]["content"]  # swapped: letters follow positions
    assert named(item, ORDERS[0]) == ["A", "B"] and named(item, ORDERS[1]) == ["B", "A"]  # per answer, canonical order
    assert parse_pick(" B.", item, ORDERS[0]) == 1 and parse_pick(" B.", item, ORDERS[1]) == 0
    assert parse_pick('"(A)" because the cook', item, ORDERS[0]) == 0 and parse_pick("I pick (B), clearly", item, ORDERS[0]) == 1
    assert parse_pick(f"it is {b.lower()}", item, ORDERS[1]) == 1
    plain = build_items(ds, np.arange(1), ItemsConfig(), seed=0)[0]
    assert not plain.lettered and named(plain, ORDERS[1]) == plain.answers == ["A", "B"]  # the classes themselves
    from oversight.judging.schemes.debate import transcript

    said = [["first side", "second side"]]  # argued answers carry the letter the judge names, in each order
    assert f"Debater 1 (argues (A) {a}): first side" in transcript(item, said, ORDERS[0], marks=False)
    assert f"Debater 1 (argues (A) {b}): second side" in transcript(item, said, ORDERS[1], marks=False)
    assert f"Debater 2 (argues (B) {a}): first side" in transcript(item, said, ORDERS[1], marks=False)
    assert "(argues A): first side" in transcript(plain, said, ORDERS[0], marks=False)  # unlettered answers as before
    with pytest.raises(ConfigError, match="answer_columns names two columns"):
        build_items(ds, np.arange(2), ItemsConfig(answer_columns=["answer_a"]), seed=0)


def test_the_answer_columns_field_is_in_stage_keys_only_when_set():
    from oversight.keys import key_dict

    assert "answer_columns" not in key_dict(ItemsConfig()) and key_dict(ITEMS)["answer_columns"] == ["answer_a", "answer_b"]


class Recording:
    """The real judge backend, passing every call through and keeping the options it was asked to score."""

    def __init__(self, lm) -> None:
        self.lm, self.options = lm, []

    def __getattr__(self, name):
        return getattr(self.lm, name)

    def option_probs(self, conversations, options, assistant_prefix=""):
        self.options.append(list(options))
        return self.lm.option_probs(conversations, options, assistant_prefix)


def test_the_packaged_judge_scores_the_letters_of_per_row_answers():
    """Judge alone and judge with the story (real SmolLM2, logprob verdicts, both orders): it is asked
    to score the letters, by position, never the answer texts; reading the story changes its verdicts."""
    from oversight.judging.judge import JudgeConfig, judge_items
    from oversight.judging.lm import connect

    ds = quality(**LOOSE)
    items = build_items(ds, np.arange(len(ds)), ITEMS, seed=0)
    judge = Recording(connect(JudgeConfig().lm))
    prefix = ITEMS.verdict_prefix + " "  # as a run passes it
    alone = judge_items(JudgeConfig(calibrate=False), judge, items, [["", ""]] * len(items), prefix, 0, "alone")
    told = judge_items(JudgeConfig(calibrate=False), judge, items, [[it.passage_line] * 2 for it in items], prefix, 0, "story")
    assert sorted(map(tuple, judge.options)) == sorted([("A", "B"), ("B", "A")] * 2)  # one call per order and letter order
    for verdicts in (alone, told):
        assert np.allclose(verdicts.order_probs.sum(-1), 1) and np.all(verdicts.order_probs > 0)
    assert not np.allclose(alone.probs, told.probs)


def test_the_shipped_quality_config_runs_debate_and_consultancy_on_the_fixture(tmp_path):
    """configs/debate_quality.yaml end to end on the fixture (real SmolLM2 roles, a few tokens a turn):
    the judge reads letters and never the story, debaters read it, every scheme is scored."""
    from oversight.config import load_config
    from oversight.experiment import run_directory, run_experiment

    exp = load_config("configs/debate_quality.yaml", [
        f"data.path={QUALITY}", "data.max_per_story=0", "data.max_answerability=0", "data.balance=false",
        "split.strong_train=3", "split.test=2", "assisted_judging.test_items=2", "assisted_judging.bootstrap=50",
        "assisted_judging.schemes.consultancy.consultant.max_new_tokens=4", "assisted_judging.schemes.consultancy.rounds=1",
        "assisted_judging.schemes.debate.debater.max_new_tokens=4", "assisted_judging.schemes.debate.rounds=1", f"out_dir={tmp_path}"])
    summary = {k: v["mean"] for k, v in run_experiment(exp)["summary"].items()}
    for scheme in ("direct", "direct_passage", "consultancy", "debate"):
        assert 0 <= summary[f"{scheme}_judge_acc"] <= 1 and summary[f"{scheme}_parse_failure_rate"] == 0
    rows = [json.loads(line) for line in (run_directory(exp) / "transcripts" / "debate-seed0.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    for row in rows:
        question = ROWS[kept(quality(**LOOSE))[row["index"]]]
        assert set(row["answers"]) < set(question["options"]) and row["gold"] == question["options"][question["gold_label"] - 1]
        assert row["passage"][:40] not in "".join(row["judge_reads"])  # the story stays with the debaters
        for order, read in zip(((0, 1), (1, 0)), row["judge_reads"]):  # each side labelled with the letter its answer has in that order
            assert all(f"(argues ({'AB'[order.index(k)]}) {row['answers'][k]})" in read for k in (0, 1))
    for row in map(json.loads, (run_directory(exp) / "transcripts" / "consultancy-seed0.jsonl").read_text().splitlines()):
        k = row["answers"].index(row["argued"])
        assert f'argues for "(A) {row["argued"]}"' in row["judge_reads"][k] and f'argues for "(B) {row["argued"]}"' in row["judge_reads"][1 - k]


GPQA = FIXTURES / "judging_tasks" / "gpqa"


def gpqa(**values):
    return load_dataset_from_config(data_config("gpqa", path=str(GPQA), balance=False, dedup=False, **values))


def test_gpqa_pairs_the_correct_answer_with_a_drawn_wrong_one_and_keeps_the_explanation_for_the_strong_roles():
    import datasets

    released = {r["Record ID"]: r for r in datasets.load_dataset(str(GPQA), "gpqa_main", split="train")}
    assert len(gpqa()) == 4 and len(gpqa(subset="gpqa_main")) == 5  # the subset is the hub config
    ds = gpqa(subset="gpqa_main")
    for i, question in enumerate(ds.columns["question"]):
        row = next(r for r in released.values() if r["Question"] == question)
        pair = [ds.columns["answer_a"][i], ds.columns["answer_b"][i]]
        assert pair[ds.labels[i]] == row["Correct Answer"]  # the label names the correct answer's letter
        assert pair[1 - ds.labels[i]] in [row[f"Incorrect Answer {k}"] for k in (1, 2, 3)]
        assert ds.columns["passage"][i] == row["Explanation"]
    draws = {tuple(gpqa(seed=s).columns["answer_a"]) for s in range(8)}
    assert len(draws) > 1  # the wrong answer and the order follow data.seed ...
    diamond, main = gpqa(), gpqa(subset="gpqa_main")
    assert main.columns["answer_a"][:4] == diamond.columns["answer_a"]  # ... per question, not per row or file
    closed = gpqa(expert_view=False)
    assert closed.columns["passage"] == closed.texts and closed.labels.tolist() == diamond.labels.tolist()  # closed QA: nothing hidden
    items = build_items(diamond, np.arange(4), ItemsConfig(passage_column="passage", question_column="question",
                                                           question_template="{question} Which is correct, {answers}?",
                                                           answer_columns=["answer_a", "answer_b"]), seed=0)
    from oversight.judging.base import strong_prompt

    for it, explanation in zip(items, diamond.columns["passage"]):
        assert explanation not in judge_conversation(it, "", ORDERS[0])[0]["content"]  # the judge never reads the explanation
        assert explanation in strong_prompt(it, "Argue.")[0]["content"]  # the strong roles do
    with pytest.raises(DataError, match=r"^gpqa: cannot load .* split 'train'"):
        gpqa(subset="gpqa_nowhere")


def test_gpqa_rows_not_in_the_released_schema_are_named(tmp_path):
    (tmp_path / "train.csv").write_text("Question,Correct Answer\nq,a\n")
    with pytest.raises(DataError, match=r"^gpqa: row 0 of .* does not have the Idavidrein/gpqa schema \(KeyError"):
        load_dataset_from_config(data_config("gpqa", path=str(tmp_path), subset=""))


def test_the_gpqa_config_runs_on_the_fixture_and_the_judge_never_reads_the_explanation(tmp_path):
    """configs/debate_gpqa.yaml end to end on the fixture (real SmolLM2 roles, a few tokens a turn)."""
    from oversight.config import load_config
    from oversight.experiment import run_directory, run_experiment

    exp = load_config("configs/debate_gpqa.yaml", [
        f"data.path={GPQA}", "data.balance=false", "split.strong_train=2", "split.test=2", "assisted_judging.test_items=2",
        "assisted_judging.bootstrap=50", "assisted_judging.schemes=[direct,debate]",
        "assisted_judging.schemes.debate.debater.max_new_tokens=4", "assisted_judging.schemes.debate.rounds=1", f"out_dir={tmp_path}"])
    summary = {k: v["mean"] for k, v in run_experiment(exp)["summary"].items()}
    assert 0 <= summary["debate_judge_acc"] <= 1 and summary["debate_parse_failure_rate"] == 0
    rows = [json.loads(line) for line in (run_directory(exp) / "transcripts" / "debate-seed0.jsonl").read_text().splitlines()]
    explanations = gpqa().columns["passage"]
    for row in rows:
        assert row["passage"] in explanations and row["passage"][:40] not in "".join(row["judge_reads"] + row["judge_asked"])
