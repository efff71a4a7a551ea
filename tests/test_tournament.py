"""The debater tournament protocol end to end on the real packaged SmolLM2 (configs/debate_tournament.yaml,
shrunk): cross-play and self-play debates, Elo ratings that agree with who won, the plot, a
rerun that reuses every stage, and its transcripts exported as Inspect logs that Inspect reads; and
the config errors it names before any stage runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from oversight.config import load_config
from oversight.errors import ConfigError
from oversight.experiment import run_directory, run_experiment

CONFIG = "configs/debate_tournament.yaml"
PLAYERS = ("debate_tournament.players=[{name: terse, debater: {max_new_tokens: 3}}, "
           "{name: wordy, debater: {max_new_tokens: 10, temperature: 0.7}}]")
TINY = ["data.max_examples=200", "split.strong_train=6", PLAYERS, "debate_tournament.bootstrap=200"]


@pytest.mark.parametrize("override, message", [
    ("debate_tournament.players=[{name: solo}]", "two or more players"),
    ("debate_tournament.players=[{name: a}, {name: a}]", "distinct names"),
    ("debate_tournament.players=[{name: a b}, {name: c}]", "letters, digits"),
    ("debate_tournament.debate.cross=true", "cross, open and defect are not for tournaments"),
    ("debate_tournament.debate.refine=true", "best_of and refine belong in its players entry"),
    ("debate_tournament.players=[{name: direct}, {name: b}]", "are taken by the tournament"),
    ("debate_tournament.players=[{name: a_vs_b}, {name: b}]", "are taken by the tournament"),
    ("debate_tournament.players=[{name: a, best_of: 2}, {name: b}]", "best_of=2.*sampling debater"),
])
def test_bad_tournament_configs_are_refused_by_name(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(CONFIG, [override])


@pytest.mark.slow
def test_a_tournament_rates_players_by_who_won_and_a_rerun_reuses_every_stage(tmp_path, capsys):
    exp = load_config(CONFIG, [*TINY, f"out_dir={tmp_path}"])
    summary = run_experiment(exp)["summary"]
    value = lambda key: summary[key]["mean"]  # noqa: E731
    run_dir = run_directory(exp)
    a_wins = value("terse_vs_wordy_a_win_rate")
    assert value("terse_crossplay_win_rate") == pytest.approx(a_wins) and value("wordy_crossplay_win_rate") == pytest.approx(1 - a_wins)
    if a_wins != 0.5:  # two players, each honest on half the items: the one that won more is rated higher
        assert (value("terse_elo") > value("wordy_elo")) == (a_wins > 0.5)
    assert value("terse_elo") + value("wordy_elo") == pytest.approx(2000, abs=1e-6)
    for p in ("terse", "wordy"):
        assert value(f"{p}_elo_lo") <= value(f"{p}_elo") + 1e-6 <= value(f"{p}_elo_hi") + 2e-6
        assert 0 <= value(f"{p}_selfplay_judge_acc") <= 1
    assert (run_dir / "tournament-seed0.png").stat().st_size > 0
    crossed = [json.loads(line) for line in (run_dir / "transcripts" / "debate-terse-vs-wordy-seed0.jsonl").read_text().splitlines()]
    assert sorted(r["a_honest"] for r in crossed) == [False] * 3 + [True] * 3
    out = capsys.readouterr().out
    assert "debate tournament" in out and "cross-play wins" in out
    again = run_experiment(load_config(CONFIG, [*TINY, f"out_dir={tmp_path}"]))["summary"]
    assert {k: v["mean"] for k, v in again.items()} == pytest.approx({k: v["mean"] for k, v in summary.items()}, nan_ok=True)
    rerun = capsys.readouterr().out
    assert " done " not in rerun and rerun.count(" reused ") == 2 * (1 + 2 + 1)  # direct, two self-plays, one cross-play
    _exported_logs_read_back_by_inspect(run_dir, tmp_path / "inspect")


def _exported_logs_read_back_by_inspect(run_dir, out):
    """`oversight export`: one Inspect log per transcript file, listed by Inspect's own CLI and read back
    by its reader with every item, the judge's verdicts and every role's model."""
    from inspect_ai.log import read_eval_log

    done = subprocess.run([sys.executable, "-m", "oversight.cli", "export", str(run_dir), "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([str(Path(sys.executable).parent / "inspect"), "log", "list", "--json", "--log-dir", str(out)],
                            capture_output=True, text=True, check=True)
    assert len(json.loads(listed.stdout)) == 4 == len(list(out.glob("*.eval")))
    rows = [json.loads(line) for line in (run_dir / "transcripts" / "debate-terse-vs-wordy-seed0.jsonl").read_text().splitlines()]
    log = read_eval_log(str(next(out.glob("*terse-vs-wordy-seed0.eval"))))
    assert log.status == "success" and log.eval.model == "hf/smollm2-135m"
    assert {r: m.config.max_tokens for r, m in log.eval.model_roles.items()} == {"debater": 3, "opponent": 10}
    assert [s.id for s in log.samples] == [r["index"] for r in rows]
    for sample, row in zip(log.samples, rows):
        pick = row["answers"][int(np.argmax(row["verdict_probs"]))]
        assert sample.output.completion == pick and sample.scores["judge"].value == ("C" if pick == row["gold"] else "I")
        assert row["judge_reads"][1] in sample.messages[2].content and sample.metadata["turns"] == row["turns"]
    accuracy = log.results.scores[0].metrics["accuracy"].value
    assert accuracy == pytest.approx(np.mean([s.scores["judge"].value == "C" for s in log.samples]))
