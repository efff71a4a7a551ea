"""Assisted judging, the parts that need no model: quote verification, verdict parsing, planted
errors, item building, bootstrap intervals, and the judge's view of both presentation orders."""

from __future__ import annotations

import numpy as np
import pytest

from oversight.config import load_config
from oversight.data import TextDataset
from oversight.errors import ConfigError, DataError
from oversight.judging.base import judge_material
from oversight.judging.items import ItemsConfig, build_items
from oversight.judging.judge import ORDERS, calibrate, judge_conversation, parse_verdict
from oversight.judging.planted import names_error, plant_error
from oversight.judging.quotes import is_verified, mark_quotes
from oversight.judging.schemes.debate import _debater_turn, transcript
from oversight.metrics import bootstrap_ci

PASSAGE = "The hotel was clean, and the staff were friendly. We paid 120 dollars per night."


def test_quotes_verified_by_normalized_match():
    assert is_verified("the STAFF were   friendly", PASSAGE)  # case, whitespace, punctuation ignored
    assert is_verified("hotel was clean", PASSAGE)
    assert not is_verified("the staff were rude", PASSAGE)
    assert not is_verified("otel was", PASSAGE)  # whole words only
    text, verified, total = mark_quotes('It says "the staff were friendly" and "the room was dirty".', PASSAGE)
    assert (verified, total) == (1, 2)
    assert '"the staff were friendly" (verified quote)' in text
    assert '"the room was dirty" (UNVERIFIED: not in the passage)' in text
    assert mark_quotes("no quotes here", PASSAGE) == ("no quotes here", 0, 0)


def test_parse_verdict_takes_the_first_answer_named():
    answers = ["positive", "negative"]
    assert parse_verdict("Negative, clearly. Not positive.", answers) == 1
    assert parse_verdict("positive", answers) == 0
    assert parse_verdict("nonpositive vibes", answers) is None  # whole words only
    assert parse_verdict("I cannot tell.", answers) is None


def test_planted_number_edit_is_known_and_nameable():
    edit = plant_error("We paid 120 dollars per night.", np.random.default_rng(0))
    assert edit.kind == "number" and edit.original == "120" and edit.changed != "120"
    assert edit.tampered == f"We paid {edit.changed} dollars per night."
    assert names_error('The text says "We paid 120 dollars", not more.', edit)
    assert not names_error(f"It says {edit.changed} dollars.", edit)


def test_planted_negation_and_antonym_edits():
    kinds = {plant_error("The staff were friendly.", np.random.default_rng(s)).kind for s in range(20)}
    assert kinds == {"negation", "antonym"}
    for s in range(20):
        edit = plant_error("The staff were friendly.", np.random.default_rng(s))
        if edit.kind == "negation":
            assert edit.tampered == "The staff were not friendly." and edit.original == "were friendly."
        else:
            assert edit.tampered == "The staff were rude." and edit.original == "friendly."
    assert plant_error("Lovely sunsets everywhere", np.random.default_rng(0)) is None


def _dataset(classes=("negative", "positive")) -> TextDataset:
    texts = ["awful food and rude staff", "a lovely quiet room", "nothing worked at all", "great value"]
    labels = [classes[0], classes[-1], classes[0], classes[1 % len(classes)]]
    return TextDataset.from_raw_labels("tiny", texts, labels, {"claim": ["c1", "c2", "c3", "c4"]}, classes)


def test_items_binary_and_partial_view():
    items = build_items(_dataset(), np.arange(4), ItemsConfig(judge_words=2), seed=0)
    assert [it.answers for it in items] == [["negative", "positive"]] * 4
    assert [it.correct for it in items] == [0, 1, 0, 1]
    assert items[0].judge_view == "Text: awful food ..." and items[3].judge_view == "Text: great value"
    assert items[0].passage_line == "Text: awful food and rude staff"


def test_items_multiclass_pick_gold_and_one_distractor():
    ds = _dataset(("a", "b", "c"))
    items = build_items(ds, np.arange(4), ItemsConfig(), seed=3)
    for it in items:
        assert len(it.answers) == 2 and it.classes == sorted(it.classes)
        assert it.classes[it.correct] == ds.labels[it.index]
    again = build_items(ds, np.arange(4), ItemsConfig(), seed=3)
    assert [it.answers for it in again] == [it.answers for it in items]


def test_items_errors_name_the_problem():
    with pytest.raises(DataError, match="no column 'evidence'"):
        build_items(_dataset(), np.arange(2), ItemsConfig(passage_column="evidence"), 0)
    with pytest.raises(ConfigError, match="question_column is empty"):
        build_items(_dataset(), np.arange(2), ItemsConfig(question_template="Is {question} true?"), 0)


def test_judge_sees_answers_and_sides_in_both_orders():
    item = build_items(_dataset(), np.arange(1), ItemsConfig(judge_words=1, passage_label="Review"), 0)[0]
    first, swapped = (judge_conversation(item, judge_material(item), order)[0]["content"] for order in ORDERS)
    assert first == "Which is correct: negative or positive?\nReview: awful ..."  # the judge never reads the rest
    assert swapped == "Which is correct: positive or negative?\nReview: awful ..."
    turns = [["neg says", "pos says"]]
    assert "Debater 1 (argues negative): neg says" in transcript(item, turns, (0, 1))
    assert "Debater 1 (argues positive): pos says" in transcript(item, turns, (1, 0))


def test_sequential_second_speaker_hears_the_first():
    item = build_items(_dataset(), np.arange(1), ItemsConfig(), 0)[0]
    second = _debater_turn(item, 1, [], ["my point", ""], 0)[0]["content"]
    first = _debater_turn(item, 0, [], ["", ""], 0)[0]["content"]
    assert "opponent: my point" in second and "opponent" not in first
    assert f"Text: {item.passage}" in first and "Which is correct: negative or positive?" in first  # the whole passage


def test_calibrate_removes_a_constant_preference():
    p1 = np.array([0.9, 0.8, 0.95, 0.7])
    out = calibrate(np.stack([1 - p1, p1], 1))
    logit = np.log(out[:, 1] / out[:, 0])
    assert abs(logit.mean()) < 1e-9 and np.all(np.diff(np.argsort(out[:, 1])) == np.diff(np.argsort(p1)))


def test_bootstrap_interval():
    xs = np.array([1.0] * 70 + [0.0] * 30)
    lo, hi = bootstrap_ci(xs, 2000, seed=0)
    assert lo < 0.7 < hi and 0.05 < hi - lo < 0.25  # binomial: ±1.96·sqrt(.21/100) ≈ ±0.09
    assert bootstrap_ci(np.ones(5), 100, 0) == (1.0, 1.0)
    assert all(np.isnan(bootstrap_ci(xs, 0, 0)))


def test_option_logprobs_reads_the_first_token_alternatives():
    from oversight.judging.backends.openai_api import option_logprobs

    top = [(" positive", -0.1), ("Positive", -3.0), (" neg", -2.5), ("The", -4.0), ("p", -6.0)]
    got = option_logprobs(top, ["positive", "negative"])
    assert np.isclose(got[0], np.logaddexp(np.logaddexp(-0.1, -3.0), -6.0))  # every listed spelling of the option's start counts
    assert np.isclose(got[1], -2.5)
    shared = option_logprobs([("pos", -0.5), ("x", -9.0)], ["positive", "positively"])  # a token both options start with tells nothing
    assert np.allclose(shared, [-9.0, -9.0])  # neither listed: both get the lowest listed logprob, an upper bound
    alone = option_logprobs([(" positive", -0.1)], ["positive", "negative"])  # a server that lists one alternative
    assert np.isclose(alone[1], np.log(1 - np.exp(-0.1)))  # the unlisted answer gets at most the mass left over


def test_sampling_seeds_follow_the_conversation_and_prefixes_strip_by_case():
    from oversight.judging.backends.openai_api import _strip_prefix, conversation_seed

    a, b = [{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]
    assert conversation_seed(0, a) == conversation_seed(0, a) != conversation_seed(1, a) and conversation_seed(0, a) != conversation_seed(0, b)
    assert _strip_prefix("the answer is: yes", "The answer is:") == "yes"
    assert _strip_prefix("STRASSE ok", "straße") == "STRASSE ok"  # case-folding changes length: compared on the raw prefix


@pytest.mark.parametrize("setting, message", [
    ("base_url=ftp://host/v1", r"must be an http\(s\) URL"),
    ("base_url='http://user:pw@host/v1'", "must not hold credentials"),
    ("api_key_env=sk-live-123", "names an environment variable"),
    ("base_url='https://host/v1?api-key=x'", "must not hold credentials or a query"),
    ("api_key_env=OPENAI_API_KEY", "a key would travel unencrypted to 10.0.0.9"),
    ("concurrency=0", "concurrency >= 1"),
])
def test_openai_backend_settings_are_checked_at_load(setting, message):
    with pytest.raises(ConfigError, match=message):
        load_config("configs/w2s_debate.yaml", ["w2s.judged.judge.lm.backend=openai", "w2s.judged.judge.lm.backend.base_url=http://10.0.0.9/v1",
                                                f"w2s.judged.judge.lm.backend.{setting}"])


def test_where_a_server_lives_is_not_in_stage_keys():
    from oversight.keys import key_dict

    def scheme(*overrides):
        exp = load_config("configs/w2s_debate.yaml", ["w2s.judged.scheme.debater.backend=openai", *overrides])
        return key_dict(exp.protocol.judged.scheme)

    base = scheme()
    assert scheme("w2s.judged.scheme.debater.backend.base_url=https://10.0.0.2:9000/v1", "w2s.judged.scheme.debater.backend.concurrency=64",
                  "w2s.judged.scheme.debater.backend.max_retries=1", "w2s.judged.scheme.debater.backend.api_key_env=OTHER") == base
    assert scheme("w2s.judged.scheme.debater.backend.revision=abc123") != base
    assert scheme("w2s.judged.scheme.debater.backend.logprobs=false") != base
    assert scheme("w2s.judged.scheme.debater.model=other") != base


def test_a_deceptive_consultant_lies_only_on_its_hidden_topic_and_the_judges_doubt_is_scored_as_a_detector():
    from oversight.judging.base import SCHEMES, Material
    from oversight.judging.judge import Verdicts
    from oversight.judging.schemes.consultancy import consultancy_metrics, honest_on

    items = build_items(_dataset(), np.arange(4), ItemsConfig(), seed=0)
    deceptive = SCHEMES.config("consultancy", assign="topic", topic=["staff", "ROOM"])
    assert honest_on(items, deceptive, seed=0) == [False, False, True, True]  # whole words, any case
    for bad in ({"assign": "topic"}, {"topic": ["staff"]}, {"assign": "sometimes"}):
        with pytest.raises(ConfigError, match="consultancy"):
            SCHEMES.config("consultancy", **bad)
    from oversight.keys import key_dict  # transcripts cached before the deceptive consultant existed keep their keys
    assert "assign" not in key_dict(SCHEMES.config("consultancy")) and key_dict(deceptive)["topic"] == ["staff", "ROOM"]
    honest = [False, False, True, True]
    argued = [1 - it.correct if not h else it.correct for it, h in zip(items, honest)]
    materials = [Material(["", ""], {"honest": h, "verified_quotes": 0, "quotes": 0}) for h in honest]
    # the judge believes the argued answer with 0.9, 0.6 (lies) and 0.8, 0.95 (truths), so it is fooled every time
    belief = [0.9, 0.6, 0.8, 0.95]
    probs = np.array([[b, 1 - b] if k == 0 else [1 - b, b] for b, k in zip(belief, argued)])
    verdicts = Verdicts(probs, np.stack([probs, probs], 1), np.zeros((4, 2), bool), [["", ""]] * 4)
    m = consultancy_metrics(items, materials, verdicts)
    assert m["dishonest_frac"] == 0.5 and m["acc_dishonest_consultant"] == 0.0 and m["acc_honest_consultant"] == 1.0
    assert m["doubt_auroc"] == pytest.approx(0.75)  # yet doubts 0.1, 0.4 (lies) vs 0.2, 0.05 (truths): 3 of 4 pairs ranked right


def test_a_deceptive_critics_hidden_subset_is_scored_apart():
    from oversight.judging.base import SCHEMES, Material
    from oversight.judging.judge import Verdicts
    from oversight.judging.schemes.critique import detection_metrics
    from oversight.keys import key_dict

    assert "conceal" not in key_dict(SCHEMES.config("critique"))  # honest critiques cached before keep their keys
    assert key_dict(SCHEMES.config("critique", conceal=["staff"]))["conceal"] == ["staff"]
    items = build_items(_dataset(), np.arange(4), ItemsConfig(), seed=0)  # gold: 0, 1, 0, 1
    # four tampered candidates (the wrong answer); the first two on the critic's hidden topic
    records = [{"tampered": True, "candidate_answer": 1 - it.correct, "concealed": k < 2} for k, it in enumerate(items)]
    picks = np.array([1, 1, 0, 1])  # the judge accepts the first (concealed) candidate, rejects the other three
    probs = np.eye(2)[picks] * 0.8 + 0.1
    verdicts = Verdicts(probs, np.stack([probs, probs], 1), np.zeros((4, 2), bool), [["", ""]] * 4)
    m = detection_metrics(items, [Material(["", ""], r) for r in records], verdicts)
    assert m["detection_rate"] == 0.75 and m["detection_rate_concealed"] == 0.5 and m["detection_rate_open"] == 1.0
    # doubt in the candidate: 0.1, 0.9 on the hidden topic against 0.9, 0.9 off it: 2 pairs tied, 2 ranked wrong
    assert m["concealed_frac"] == 0.5 and m["doubt_auroc"] == pytest.approx(0.25)
    honest = detection_metrics(items, [Material(["", ""], {k: v for k, v in r.items() if k != "concealed"}) for r in records], verdicts)
    assert "detection_rate_concealed" not in honest


def test_a_deceptive_debater_defects_only_on_its_hidden_topic_and_is_scored_apart():
    from oversight.judging.base import SCHEMES, Material
    from oversight.judging.judge import Verdicts
    from oversight.judging.schemes.debate import _debater_turn, debate_metrics
    from oversight.keys import key_dict

    assert "defect" not in key_dict(SCHEMES.config("debate"))  # honest debates cached before keep their keys
    assert key_dict(SCHEMES.config("debate", defect=["staff"]))["defect"] == ["staff"]
    items = build_items(_dataset(), np.arange(4), ItemsConfig(), seed=0)  # gold: 0, 1, 0, 1
    it = items[0]
    said = lambda conv: conv[-1]["content"]  # noqa: E731
    defecting = said(_debater_turn(it, it.correct, [], ["", ""], 0, defect=True))
    assert f'secretly want "{it.answers[1 - it.correct]}"' in defecting and f'assigned to defend "{it.answers[it.correct]}"' in defecting
    assert "secretly" not in said(_debater_turn(it, it.correct, [], ["", ""], 0))
    # the judge sides with the truth on both open items and on one of the two defected ones; its doubt is higher on the defected
    belief_in_gold = [0.45, 0.85, 0.9, 0.8]
    probs = np.array([[b, 1 - b] if item.correct == 0 else [1 - b, b] for b, item in zip(belief_in_gold, items)])
    verdicts = Verdicts(probs, np.stack([probs, probs], 1), np.zeros((4, 2), bool), [["", ""]] * 4)
    record = {"honest_verified_quotes": 0, "honest_quotes": 0, "dishonest_verified_quotes": 0, "dishonest_quotes": 0}
    m = debate_metrics(items, [Material(["", ""], record | {"defected": k < 2}) for k in range(4)], verdicts)
    assert m["honest_win_rate_defected"] == 0.5 and m["honest_win_rate_open"] == 1.0 and m["defected_frac"] == 0.5
    assert m["doubt_auroc"] == pytest.approx(0.75)  # doubts 0.45, 0.15 (defected) vs 0.1, 0.2: 3 of 4 pairs ranked right
    assert "doubt_auroc" not in debate_metrics(items, [Material(["", ""], record)] * 4, verdicts)


@pytest.fixture(scope="module")
def sampling_lm():
    """The real packaged SmolLM2-135M-Instruct, sampling, 8 tokens a turn: loaded once for the tests that speak."""
    from oversight.judging.lm import LMConfig, connect

    return connect(LMConfig(max_new_tokens=8, temperature=1.0))


def test_an_open_consultant_argues_for_the_answer_it_believes(sampling_lm):
    """Open consultancy on the real packaged SmolLM2: each argued answer is the one the model scores
    higher on its own (one item per call, not the grouped path the scheme takes)."""
    from oversight.judging.base import SCHEMES
    from oversight.judging.items import ANSWER_PREFIX
    from oversight.judging.judge import Verdicts
    from oversight.judging.schemes.consultancy import consultancy, consultancy_metrics, pick_prompt

    items = build_items(_dataset(), np.arange(4), ItemsConfig(), seed=0)
    lm = sampling_lm
    cfg = SCHEMES.config("consultancy", assign="open", rounds=1)
    materials = consultancy(items, {"consultant": lm}, cfg, seed=0)
    clear = 0
    for it, m in zip(items, materials):
        own = lm.option_probs([pick_prompt(it)], it.answers, ANSWER_PREFIX)[0]
        if abs(own[0] - own[1]) > 0.05:  # batched and single scoring differ by rounding: compare where the pick is clear
            clear += 1
            assert m.record["argued"] == it.answers[int(np.argmax(own))] and m.record["honest"] == (int(np.argmax(own)) == it.correct)
    assert clear >= 2
    probs = np.full((4, 2), 0.5)
    verdicts = Verdicts(probs, np.stack([probs, probs], 1), np.zeros((4, 2), bool), [["", ""]] * 4)
    metrics = consultancy_metrics(items, materials, verdicts)
    assert metrics["consultant_acc"] == np.mean([m.record["honest"] for m in materials])
    assert "consultant_acc" not in consultancy_metrics(items, consultancy(items, {"consultant": lm}, SCHEMES.config("consultancy", rounds=1), 0), verdicts)


def test_best_of_n_keeps_the_candidate_turn_the_ranker_finds_most_convincing(sampling_lm):
    """On the real packaged SmolLM2 (sampling debaters, 3 candidates per turn): every kept turn is
    the candidate its ranker scored highest, re-drawn here with the same seeds."""
    from oversight.judging.base import SCHEMES, roles_of
    from oversight.judging.best_of import best_turns
    from oversight.judging.lm import LMConfig
    from oversight.judging.schemes.debate import _heard, debate
    from oversight.keys import key_dict

    assert "ranker" not in roles_of(SCHEMES.config("debate")) and "best_of" not in key_dict(SCHEMES.config("debate"))
    with pytest.raises(ConfigError, match="best_of=3.*sampling debater"):
        SCHEMES.config("debate", best_of=3)
    cfg = SCHEMES.config("debate", best_of=3, rounds=1, debater=LMConfig(max_new_tokens=8, temperature=1.0))
    assert set(roles_of(cfg)) == {"debater", "ranker"}
    items = build_items(_dataset(), np.arange(2), ItemsConfig(judge_words=1), seed=0)
    roles = {"debater": sampling_lm, "ranker": sampling_lm}  # one model in both roles, loaded once
    materials = debate(items, roles, cfg, seed=0)
    jobs = [(i, k) for i in range(2) for k in (0, 1)]
    convs = [_debater_turn(items[i], k, [], ["", ""], 0) for i, k in jobs]
    candidates = [roles["debater"].generate(convs, seed=0 * 1000 + j) for j in range(3)]  # the scheme's seeds: (seed * 100 + round) * 1000 + j
    views = [(items[i], k, _heard(items[i], [], ["", ""], k), k) for i, k in jobs]
    kept, scores = best_turns(roles["debater"], roles["ranker"], convs, views, 3, 0)
    for q, (i, k) in enumerate(jobs):
        recorded = materials[i].record["candidate_scores"][0][k]
        np.testing.assert_allclose(recorded, scores[q], rtol=1e-5)
        assert materials[i].record["turns"][0][k] == kept[q] == candidates[int(np.argmax(recorded))][q]
    assert len({c[0] for c in candidates}) > 1  # the candidates differ, so the choice means something


def test_interactive_consultancy_puts_the_questioners_question_between_turns_and_never_shows_it_the_passage(sampling_lm):
    from oversight.judging.base import SCHEMES, roles_of
    from oversight.judging.schemes.consultancy import _question_prompt, consultancy

    assert "questioner" not in roles_of(SCHEMES.config("consultancy"))
    with pytest.raises(ConfigError, match="interactive=true needs rounds >= 2"):
        SCHEMES.config("consultancy", interactive=True, rounds=1)
    cfg = SCHEMES.config("consultancy", interactive=True, rounds=2)
    assert set(roles_of(cfg)) == {"consultant", "questioner"}
    items = build_items(_dataset(), np.arange(2), ItemsConfig(), seed=0)  # the judge sees nothing of the passage
    materials = consultancy(items, {"consultant": sampling_lm, "questioner": sampling_lm}, cfg, seed=0)
    for it, m in zip(items, materials):
        (question,) = m.record["questions"]
        assert len(m.record["turns"]) == 2 and question.strip()
        assert "Round 1: " in m.views[0] and f"The judge asks: {question}\nRound 2: " in m.views[0]
        asked = _question_prompt(it, m.record["argued"], ["It is clearly so."], [])[0]["content"]
        assert it.passage not in asked and "Round 1: It is clearly so." in asked  # the judge's view and the argument, not the text
    plain = consultancy(items, {"consultant": sampling_lm}, SCHEMES.config("consultancy", rounds=2), seed=0)
    assert "questions" not in plain[0].record and "The judge asks" not in plain[0].views[0]


def test_open_debate_records_the_protagonists_pick_and_scores_the_judge_on_right_and_wrong_picks(sampling_lm):
    from oversight.judging.base import SCHEMES, Material
    from oversight.judging.items import ANSWER_PREFIX
    from oversight.judging.judge import Verdicts
    from oversight.judging.schemes.consultancy import pick_prompt
    from oversight.judging.schemes.debate import debate, debate_metrics
    from oversight.keys import key_dict

    assert "open" not in key_dict(SCHEMES.config("debate"))
    items = build_items(_dataset(), np.arange(4), ItemsConfig(), seed=0)
    materials = debate(items, {"debater": sampling_lm}, SCHEMES.config("debate", open=True, rounds=1), seed=0)
    clear = 0
    for it, m in zip(items, materials):
        own = sampling_lm.option_probs([pick_prompt(it)], it.answers, ANSWER_PREFIX)[0]
        if abs(own[0] - own[1]) > 0.05:  # compare where the pick is clear of rounding
            clear += 1
            assert m.record["protagonist"] == int(np.argmax(own))
    assert clear >= 2
    record = {"honest_verified_quotes": 0, "honest_quotes": 0, "dishonest_verified_quotes": 0, "dishonest_quotes": 0}
    picked = [items[0].correct, items[1].correct, 1 - items[2].correct, 1 - items[3].correct]  # right, right, wrong, wrong
    follows = np.eye(2)[picked] * 0.8 + 0.1  # the judge sides with the protagonist every time
    verdicts = Verdicts(follows, np.stack([follows, follows], 1), np.zeros((4, 2), bool), [["", ""]] * 4)
    m = debate_metrics(items, [Material(["", ""], record | {"protagonist": p}) for p in picked], verdicts)
    assert m["protagonist_acc"] == 0.5 and m["acc_protagonist_right"] == 1.0 and m["acc_protagonist_wrong"] == 0.0


def test_critique_then_refine_rewrites_each_turn_from_its_draft_and_a_critique_that_read_the_passage(sampling_lm):
    """On the real packaged SmolLM2 (sampling, one round): every judged turn is the debater's rewrite
    of its recorded draft given its recorded critique, re-drawn here with the same seeds; the critic
    read the passage and the draft; the judge reads the rewrites only."""
    from oversight.judging.base import SCHEMES, roles_of
    from oversight.judging.lm import LMConfig
    from oversight.judging.schemes.debate import critique_prompt, debate, refine_prompt
    from oversight.keys import key_dict

    assert "critic" not in roles_of(SCHEMES.config("debate")) and "refine" not in key_dict(SCHEMES.config("debate"))
    sampling = LMConfig(max_new_tokens=8, temperature=1.0)
    cfg = SCHEMES.config("debate", refine=True, rounds=1, debater=sampling, critic=sampling)
    assert set(roles_of(cfg)) == {"debater", "critic"}
    items = build_items(_dataset(), np.arange(2), ItemsConfig(judge_words=1), seed=0)
    materials = debate(items, {"debater": sampling_lm, "critic": sampling_lm}, cfg, seed=0)
    jobs = [(i, k) for i in range(2) for k in (0, 1)]
    convs = [_debater_turn(items[i], k, [], ["", ""], 0) for i, k in jobs]
    drafts = sampling_lm.generate(convs, seed=0)
    prompts = [critique_prompt(items[i], items[i].answers[k], d) for (i, k), d in zip(jobs, drafts)]
    critiques = sampling_lm.generate(prompts, seed=0)
    finals = sampling_lm.generate([refine_prompt(c, d, q) for c, d, q in zip(convs, drafts, critiques)], seed=0)
    for q, (i, k) in enumerate(jobs):
        record = materials[i].record
        assert (record["drafts"][0][k], record["critiques"][0][k], record["turns"][0][k]) == (drafts[q], critiques[q], finals[q])
        assert items[i].passage in prompts[q][0]["content"] and drafts[q] in prompts[q][0]["content"]
        assert finals[q] in materials[i].views[0] and (drafts[q] == finals[q] or drafts[q] not in materials[i].views[0])
    assert finals != drafts  # the rewrite is a new turn
    plain = debate(items, {"debater": sampling_lm}, SCHEMES.config("debate", rounds=1), seed=0)
    assert "drafts" not in plain[0].record


def test_the_vllm_backend_is_refused_at_load_where_vllm_is_not_installed_and_reads_prompt_logprobs_by_position():
    """On this CPU machine vllm is absent: a role on it fails when the config loads, naming the extra.
    The score of an answer is the sum of the prompt log-probabilities at its own tokens' positions."""
    import importlib.util
    from types import SimpleNamespace

    from oversight.judging.backends.vllm_engine import option_logprob

    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(ConfigError, match=r"backend vllm: vllm is not installed \(pip install 'oversight\[vllm\]'"):
            load_config("configs/debate_sarcasm.yaml", ["assisted_judging.schemes.debate.debater.backend.name=vllm"])
    with pytest.raises(ConfigError, match="backend vllm: dtype must be"):
        load_config("configs/debate_sarcasm.yaml", ["assisted_judging.judge.lm.backend={name: vllm, dtype: int8}"])
    ids = [5, 7, 9, 11]  # prompt 5, 7; answer 9, 11
    logprobs = [None, {7: SimpleNamespace(logprob=-0.5)}, {9: SimpleNamespace(logprob=-1.0), 3: SimpleNamespace(logprob=-0.1)},
                {11: SimpleNamespace(logprob=-2.0)}]
    assert option_logprob(logprobs, ids, 2) == -3.0 and option_logprob(logprobs, ids, 1) == -2.0

