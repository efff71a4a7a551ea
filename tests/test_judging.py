"""Every judging protocol end to end on a real tiny chat model (SmolLM2-135M-Instruct, packaged),
real news headlines (openai-evals sarcasm), real offline wandb; a few items and a few tokens per turn.

Checks the invariants rather than the quality a 135M model reaches: both presentation orders
judged and kept, quotes marked, transcripts saved and logged, the parse-failure guard, stage
reuse, and judged labels feeding the weak-to-strong student with one config line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from oversight.config import load_config
from oversight.data import load_dataset_from_config
from oversight.errors import ConfigError
from oversight.experiment import run_directory, run_experiment
from oversight.judging.quotes import find_quotes, is_verified
from oversight.protocols.splits import make_split
from oversight.stages import digest

CONFIG = "configs/debate_sarcasm.yaml"
RUN = ["data.max_examples=200", "split.strong_train=6", "split.test=40", "strong.model.model=minilm-l3",
       "strong.train.epochs=2"]
ROLES = ["schemes.consultancy.consultant.max_new_tokens=6", "schemes.debate.debater.max_new_tokens=6",
         "schemes.critique.critic.max_new_tokens=12", "bootstrap=200", "test_items=8"]
TINY = RUN + [f"assisted_judging.{r}" for r in ROLES]
ALL = ["direct", "direct_passage", "consultancy", "debate", "candidate", "critique"]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("judging")
    exp = load_config(CONFIG, [*TINY, f"out_dir={out}", "assisted_judging.transfer=[direct,debate]"])
    return out, run_directory(exp), run_experiment(exp)


def test_every_protocol_reports_accuracy_interval_and_transfer(finished):
    _, _, results = finished
    s = {k: v["mean"] for k, v in results["summary"].items()}
    for p in ALL:
        assert 0 <= s[f"{p}_judge_acc_lo"] <= s[f"{p}_judge_acc"] <= s[f"{p}_judge_acc_hi"] <= 1
        assert s[f"{p}_parse_failure_rate"] == 0  # logprob verdicts always parse
    # one baseline: the headline's supervisor (the debate-assisted judge), its student and the ceiling on the same 8 test items
    assert s["weak_acc"] == s["debate_judge_test_acc"] and results["statistics"]["n_test"] == [8]
    assert results["statistics"]["baseline"] == "debate-assisted judge on 8 test items"
    for p in ("direct", "debate"):
        assert 0 <= s[f"{p}_student_acc"] <= 1 and 0 <= s[f"{p}_student_full_test_acc"] <= 1
        assert 0 <= s[f"{p}_judge_test_acc"] <= 1
    assert s["student_acc"] == s["debate_student_acc"]
    assert 0 <= s["debate_honest_win_rate"] <= 1 and 0 <= s["debate_order_consistency"] <= 1
    assert "consultancy_acc_honest_consultant" in s and "critique_detection_rate" in s
    # the sandwich: the debaters' model alone, on the whole passage, beside every scheme's judge (paired on the pool)
    assert 0 <= s["model_judge_acc_lo"] <= s["model_judge_acc"] <= s["model_judge_acc_hi"] <= 1
    for p in ALL:
        assert s[f"{p}_minus_model"] == pytest.approx(s[f"{p}_judge_acc"] - s["model_judge_acc"])
        assert s[f"{p}_minus_model_lo"] <= s[f"{p}_minus_model"] <= s[f"{p}_minus_model_hi"]


def test_the_model_alone_reads_the_whole_passage_as_the_debaters_model(finished):
    _, run_dir, _ = finished
    rows = lines(run_dir / "transcripts" / "direct_passage-model-seed0.jsonl")
    assert len(rows) == 6 and all(r["judge_reads"] == [f"Headline: {r['passage']}"] * 2 for r in rows)


def test_model_alone_names_a_role_of_a_scheme_that_runs():
    with pytest.raises(ConfigError, match=r"model_alone='debate.judge'.*roles: consultancy.consultant"):
        load_config(CONFIG, ["assisted_judging.model_alone=debate.judge"])
    chosen = load_config(CONFIG, ["assisted_judging.model_alone=critique.critic"]).protocol.model_lm()
    assert chosen[0] == "critique.critic" and chosen[1].model == "smollm2-135m"
    assert load_config(CONFIG, ["assisted_judging.model_alone=none"]).protocol.model_lm() is None
    assert load_config(CONFIG, []).protocol.model_lm()[0] == "debate.debater"  # auto: the headline's role


def test_transcripts_keep_both_orders_and_mark_quotes(finished):
    _, run_dir, _ = finished
    for p in ALL:
        rows = lines(run_dir / "transcripts" / f"{p}-seed0.jsonl")
        assert len(rows) == 6
        for r in rows:
            order = np.array(r["order_probs"])
            assert order.shape == (2, 2) and np.allclose(order.sum(1), 1)
            assert len(r["judge_reads"]) == 2
            if p == "direct":  # the judge alone reads no material, only the question and its partial view
                assert r["judge_reads"] == [r["judge_view"]] * 2 and r["judge_view"].startswith("Headline: ")
    for r in lines(run_dir / "transcripts" / "debate-seed0.jsonl"):
        assert len(r["turns"]) == 2 and all(len(rnd) == 2 for rnd in r["turns"])  # rounds × sides
        first, swapped = r["judge_reads"]
        assert f"Debater 1 (argues {r['answers'][0]})" in first and f"Debater 1 (argues {r['answers'][1]})" in swapped
        for rnd in r["turns"]:
            for text in rnd:
                for _, _, quote in find_quotes(text):
                    mark = "(verified quote)" if is_verified(quote, r["passage"]) else "(UNVERIFIED"
                    assert f'"{quote}" {mark}' in first
    consult = lines(run_dir / "transcripts" / "consultancy-seed0.jsonl")
    for r in consult:
        assert (r["argued"] == r["gold"]) == r["honest"]
    for r in lines(run_dir / "transcripts" / "critique-seed0.jsonl"):
        assert r["tampered"] == (r["edit"] is not None)
        assert (r["answers"][r["candidate_answer"]] == r["gold"]) != r["tampered"]
        assert r["critique"] and (r["names_error"] is None) == (not r["tampered"])


def test_transcripts_logged_to_offline_wandb(finished):
    _, run_dir, _ = finished
    (wandb_run,) = (run_dir / "wandb").glob("offline-run-*")
    for p in ALL:
        (table,) = (wandb_run / "files" / "media" / "table" / "transcripts" / p).glob("seed0_*.table.json")
        data = json.loads(table.read_text())
        assert data["columns"][:3] == ["protocol", "index", "gold"] and len(data["data"]) == 6


def test_w2s_supervision_debate_is_one_line_and_reuses_transcripts(finished, capsys):
    out, _, judged = finished
    capsys.readouterr()
    judged_roles = ["w2s.judged.scheme.debater.max_new_tokens=6", "w2s.judged.bootstrap=200", "w2s.judged.test_items=8"]
    results = run_experiment(load_config("configs/w2s_debate.yaml", [*RUN, *judged_roles, f"out_dir={out}"]))
    shown = capsys.readouterr().out
    assert "transcripts_debate reused" in shown and "verdicts_debate reused" in shown  # the pool
    assert "transcripts_debate-test reused" in shown and "verdicts_debate-test reused" in shown  # the test items, logged apart
    s = {k: v["mean"] for k, v in results["summary"].items()}
    j = {k: v["mean"] for k, v in judged["summary"].items()}
    # the same run's supervisor, student and ceiling: both protocols report the same headline
    for key in ("weak_acc", "student_acc", "ceiling_acc", "pgr", "debate_judge_acc", "debate_judge_test_acc"):
        assert s[key] == j[key], key


def test_sequential_debate_and_a_new_judge_reuse_nothing_they_should_not(finished, capsys):
    out, _, _ = finished
    capsys.readouterr()
    exp = load_config(CONFIG, [*TINY, f"out_dir={out}", "assisted_judging.schemes=[direct,debate]", "assisted_judging.transfer=[]",
                               "assisted_judging.schemes.debate.mode=sequential", "assisted_judging.judge.calibrate=false"])
    results = run_experiment(exp)
    shown = capsys.readouterr().out
    assert "transcripts_direct reused" in shown and "verdicts_direct done" in shown  # only the judge changed
    assert "transcripts_debate done" in shown
    assert re.search(r"^\S+: \d+ replies, [1-9]\d* tokens in [\d.]+ s \(\d+ tokens/s\)$", shown, re.M)  # generation's own line
    rows = lines(run_directory(exp) / "transcripts" / "debate-seed0.jsonl")
    assert {r["mode"] for r in rows} == {"sequential"} and {r["first_speaker"] for r in rows} <= {0, 1}
    s = results["summary"]
    probs = np.array([r["verdict_probs"] for r in rows])
    order = np.array([r["order_probs"] for r in rows])
    assert np.allclose(probs, order.mean(1))  # uncalibrated: the item's verdict is the mean of both orders
    assert s["debate_judge_acc"]["mean"] == np.mean(probs.argmax(1) == [r["answers"].index(r["gold"]) for r in rows])


def _cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "disabled"}
    return subprocess.run([sys.executable, "-m", "oversight.cli", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_generated_verdicts_are_parsed_and_unparsable_ones_fail_loudly(tmp_path):
    common = ["run", str(Path(CONFIG).resolve()), *TINY, f"out_dir={tmp_path}", "assisted_judging.schemes=[direct]",
              "assisted_judging.transfer=[]", "assisted_judging.judge.verdict=generate", "wandb.mode=disabled"]
    ok = _cli(*common, "assisted_judging.judge.lm.max_new_tokens=4", "assisted_judging.judge.max_parse_failure=1.0", cwd=Path.cwd())
    assert ok.returncode == 0, ok.stderr[-2000:]
    (run,) = [p for p in tmp_path.iterdir() if p.name.startswith("assisted_judging-")]
    rows = lines(run / "transcripts" / "direct-seed0.jsonl")
    assert all(len(r["judge_replies"]) == 2 for r in rows)
    rate = json.loads((run / "results.json").read_text())["summary"]["direct_parse_failure_rate"]["mean"]
    assert rate == np.mean([f for r in rows for f in r["parse_failed"]])
    from inspect_ai.log import read_eval_log  # the Inspect export shows a written verdict as the judge wrote it

    assert _cli("export", str(run), cwd=Path.cwd()).returncode == 0
    log = read_eval_log(str(next((run / "inspect").glob("*direct-seed0.eval"))))
    prefix = "This headline is"
    for sample, row in zip(log.samples, rows):
        for message, reply in zip(sample.messages[1::2], row["judge_replies"]):
            assert message.content == (f"{prefix} {reply}" if reply else "(no verdict named)")

    bad = _cli(*common, "assisted_judging.items.verdict_prefix=Well,", "assisted_judging.judge.lm.max_new_tokens=1",
               "assisted_judging.judge.max_parse_failure=0.0", "name=bad", cwd=Path.cwd())
    assert bad.returncode == 2
    (line,) = [ln for ln in bad.stderr.splitlines() if ln.startswith("error:")]
    assert "of judge verdicts name no answer (limit 0%)" in line
    assert not (tmp_path / "bad" / "results.json").exists()
    assert len(list((tmp_path / "_stages" / "verdicts_direct").glob("*/.complete"))) == 2  # the good run's (pool, test items)


def test_bad_judging_config_names_the_key(tmp_path):
    for override, message in [("assisted_judging.schemes=[debate]", "must include direct"),
                              ("assisted_judging.schemes=[direct,duel]", "unknown judging scheme 'duel'"),
                              ("assisted_judging.schemes.debate.mode=parallel", "debate mode must be simultaneous | sequential"),
                              ("assisted_judging.judge.verdict=vote", "judge.verdict must be logprob | generate"),
                              ("w2s.judged.scheme.name=debat", "unknown judging scheme 'debat'; registered: candidate, consultancy, critique, "
                               "debate, direct, direct_passage; did you mean 'debate'?")]:
        args = ["run", CONFIG, override, f"out_dir={tmp_path}"]
        if override.startswith("w2s"):
            args = ["run", "configs/w2s_default.yaml", override, f"out_dir={tmp_path}"]
        done = _cli(*args, "--print-config", cwd=Path.cwd())
        assert done.returncode == 2 and message in done.stderr, (override, done.stderr[-500:])


def test_trained_classifier_judge_learns_on_its_own_gold_slice(finished, capsys):
    out, _, _ = finished
    capsys.readouterr()
    args = [*TINY, f"out_dir={out}", "assisted_judging.schemes=[direct,debate]", "assisted_judging.transfer=[]",
            "assisted_judging.judge.kind=classifier", "assisted_judging.judge.train.epochs=3"]
    with pytest.raises(ConfigError, match="classifier learns from the gold labels of split.weak_train"):
        load_config(CONFIG, args)  # no slice of its own: refused before any stage runs
    exp = load_config(CONFIG, [*args, "split.weak_train=6"])
    results = run_experiment(exp)
    shown = capsys.readouterr().out
    # the judge's own training items get transcripts of their own, logged apart from the pool's; its verdicts are new
    assert re.search(r"transcripts_debate-judge_train +(done|reused)", shown) and re.search(r"transcripts_debate +(done|reused)", shown)
    assert "verdicts_debate done" in shown
    split = make_split(len(load_dataset_from_config(exp.run.data)), exp.run.split, exp.run.data.seed, 0)
    assert not set(split.weak_train) & set(split.strong_train)  # disjoint from the pool it labels
    stages = out / "_stages"
    specs = [json.loads(m.read_text())["spec"] for m in (stages / "verdicts_debate").glob("*/meta.json")]
    (trained,) = [sp for sp in specs if "judge_train" in sp and sp["transcripts"] != sp["judge_train"]
                  and json.loads((stages / "transcripts_debate" / sp["judge_train"] / "meta.json").read_text())["spec"]["indices"]
                  == digest(np.asarray(split.weak_train, dtype="<i8"))][:1]
    assert trained["judge"]["kind"] == "classifier"
    rows = lines(run_directory(exp) / "transcripts" / "debate-seed0.jsonl")
    order = np.array([r["order_probs"] for r in rows])
    assert order.shape == (6, 2, 2) and np.allclose(order.sum(-1), 1)
    assert 0 <= results["summary"]["debate_judge_acc"]["mean"] <= 1


def test_hf_backend_sampling_is_seeded_and_plain_rendering_works():
    from oversight.judging.backends import BACKENDS
    from oversight.judging.lm import LMConfig, connect

    lm = connect(LMConfig(temperature=1.0, max_new_tokens=8))
    convs = [[{"role": "user", "content": "Say something about cats."}]] * 2
    first, again, other = lm.generate(convs, seed=1), lm.generate(convs, seed=1), lm.generate(convs, seed=2)
    assert first == again and first != other
    greedy = connect(LMConfig(backend=BACKENDS.config("hf", chat_template="off")))
    assert greedy.render(convs[0], "Answer:") == "user: Say something about cats.\n\nassistant:Answer:"
    assert greedy.generate(convs[:1], seed=1) == greedy.generate(convs[:1], seed=2)  # greedy ignores the seed


def test_a_concealing_critic_is_scored_blind_by_how_far_its_judge_parts_from_the_critics_own_model(finished):
    """A critic concealing on a hidden subset (words of two pool headlines), the model row its own
    model: the run reports the belief gap as a detector of the concealed items, and it is the AUROC of
    the total variation distance between the critique-assisted judge's and the model's published verdicts."""
    from oversight.detectors import rank_auroc

    out, _, _ = finished
    base = load_config(CONFIG, [*TINY, f"out_dir={out}"])
    pool = make_split(len(data := load_dataset_from_config(base.run.data)), base.run.split, base.run.data.seed, 0).strong_train
    hidden = [data.texts[pool[0]].split()[-1], data.texts[pool[1]].split()[-1]]
    exp = load_config(CONFIG, [*TINY, f"out_dir={out}", "assisted_judging.transfer=[]", "assisted_judging.model_alone=critique.critic",
                               f"assisted_judging.schemes=[direct, {{name: critique, conceal: [{', '.join(hidden)}]}}]"])
    summary = run_experiment(exp)["summary"]
    rows = {p: lines(run_directory(exp) / "transcripts" / f"{p}-seed0.jsonl") for p in ("critique", "direct_passage-model")}
    concealed = np.array([r["concealed"] for r in rows["critique"]])
    assert 0 < concealed.sum() < len(concealed)
    gap = 0.5 * np.abs(np.array([r["verdict_probs"] for r in rows["critique"]]) - np.array([r["verdict_probs"] for r in rows["direct_passage-model"]])).sum(1)
    assert summary["critique_belief_gap_auroc"]["mean"] == pytest.approx(rank_auroc(gap, concealed))
    assert "direct_belief_gap_auroc" not in summary  # the judge alone had no assistant to deceive it
