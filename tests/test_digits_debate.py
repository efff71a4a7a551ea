"""Debate on digits (Irving et al. 2018, §3.1): the judge, the game's invariants on real digits, and the CLI.

Judges are trained for a few epochs on scikit-learn's bundled digits (a second or two each);
games use 20 real test images against all nine liars.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from oversight.digits.config import PixelJudgeConfig
from oversight.digits.game import (
    HONEST,
    LIAR,
    Position,
    candidate_margins,
    debate_outcomes,
    greedy_agent,
    make_agent,
    minimax,
    move_order,
    play,
    precommit_games,
)
from oversight.digits.pixels import (
    N_PIXELS,
    Digits,
    PixelJudge,
    judge_accuracy,
    load_digits_data,
    random_masks,
    split_digits,
    train_judge,
)

SMALL_JUDGE = PixelJudgeConfig(hidden=64, epochs=40)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """As in the protocol: tiny MLPs only lose to intra-op threads on a shared CPU."""
    from oversight.digits.run import one_thread

    with one_thread():
        yield


@pytest.fixture(scope="module")
def digits() -> tuple[Digits, np.ndarray, np.ndarray]:
    data = load_digits_data()
    train_idx, test_idx = split_digits(len(data.labels), 500, 0)
    return data, train_idx, test_idx


@pytest.fixture(scope="module")
def judge4(digits) -> PixelJudge:
    data, train_idx, _ = digits
    return train_judge(data, train_idx, 4, SMALL_JUDGE, seed=0)


@pytest.fixture(scope="module")
def games(digits) -> tuple[Position, np.ndarray]:
    data, _, test_idx = digits
    idx = test_idx[:20]
    return precommit_games(data.images[idx], data.labels[idx], data.allowed[idx]), data.labels[idx]


def test_random_masks_reveal_exactly_k_nonzero_pixels(digits):
    data, _, _ = digits
    masks = random_masks(data.allowed, 6, np.random.default_rng(0))
    assert (masks.sum(1) == 6).all() and not (masks & ~data.allowed).any()


def test_judge_learns_above_chance_and_ceiling_is_high(digits, judge4):
    data, train_idx, test_idx = digits
    assert judge_accuracy(judge4, data, test_idx, 4, draws=5, seed=1) > 0.3  # chance is 0.1; the paper's MNIST judge: 0.48
    ceiling = train_judge(data, train_idx, None, SMALL_JUDGE, seed=0)
    assert judge_accuracy(ceiling, data, test_idx, None, draws=1, seed=1) > 0.85


def test_candidate_logits_match_revealing_each_pixel(digits, judge4):
    data, _, test_idx = digits
    values = torch.from_numpy(data.images[test_idx[:3]])
    mask = torch.from_numpy(random_masks(data.allowed[test_idx[:3]], 2, np.random.default_rng(0)))
    fast = judge4.candidate_logits(values, mask)
    for p in range(N_PIXELS):
        revealed = mask.clone()
        revealed[:, p] = True
        fresh = ~mask[:, p]
        torch.testing.assert_close(fast[fresh, p], judge4(values, revealed)[fresh], atol=1e-4, rtol=1e-4)


def test_precommitment_plays_every_wrong_label_once(games):
    pos, labels = games
    claims = pos.claims.numpy().reshape(len(labels), 9, 2)
    assert (claims[:, :, HONEST] == labels[:, None]).all()
    assert all(sorted(lies) == sorted(set(range(10)) - {y}) for lies, y in zip(claims[:, :, LIAR], labels, strict=True))


class CountingAgent:
    """Wraps an agent and records which player's turn each call was, to check turn-taking."""

    def __init__(self, agent) -> None:
        self.agent, self.calls = agent, []

    def __call__(self, judge, pos, order):
        self.calls.append(order[0])
        return self.agent(judge, pos, order)


@pytest.mark.parametrize("kind", ["greedy", "search", "random"])
@pytest.mark.parametrize(("k", "honest_first"), [(4, True), (5, False)])
def test_game_invariants_on_real_digits(judge4, games, kind, k, honest_first):
    pos, labels = games
    honest, liar = CountingAgent(make_agent(kind, beam=2)), CountingAgent(make_agent(kind, beam=2))
    order = move_order(k, honest_first)
    record = play(judge4, pos, order, honest, liar)
    # players alternate, starting with the chosen one, and each moves only on its own turns
    assert order == tuple((t + (0 if honest_first else 1)) % 2 for t in range(k))
    assert honest.calls == [HONEST] * order.count(HONEST) and liar.calls == [LIAR] * order.count(LIAR)
    assert order.count(LIAR) == (k // 2 if honest_first else -(-k // 2))  # a liar never reveals more than its turns
    # exactly k distinct pixels revealed, all of them nonzero in the image
    assert (record.mask.sum(1) == k).all()
    assert all(len(set(row)) == k for row in record.moves)
    assert np.take_along_axis(pos.allowed.numpy(), record.moves, 1).all()
    # claims are unchanged by play, and the verdict is one of the two claims, the one with the larger logit
    np.testing.assert_array_equal(record.claims, pos.claims.numpy())
    assert ((record.choice == record.claims[:, 0]) | (record.choice == record.claims[:, 1])).all()
    with torch.no_grad():
        logits = judge4(pos.values, torch.from_numpy(record.mask)).numpy()
    pair = np.take_along_axis(logits, record.claims, 1)
    np.testing.assert_array_equal(record.honest_wins, pair[:, 0] > pair[:, 1])
    out = debate_outcomes(record, len(labels))
    assert 0 <= out["debate_acc"] <= out["honest_win_rate"] <= 1


def test_honest_vs_honest_beats_honest_vs_liar(judge4, games):
    """With both players arguing for the truth honesty wins most; an adversarial liar does no better than random."""
    pos, labels = games
    order = move_order(4, True)

    def ally(judge, position, moves_left):  # the "liar" seat reveals pixels for the honest claim
        return greedy_agent(judge, position, (HONEST, *moves_left[1:]))

    rate = {name: debate_outcomes(play(judge4, pos, order, greedy_agent, liar), len(labels))["honest_win_rate"]
            for name, liar in (("ally", ally), ("random", make_agent("random")), ("greedy", greedy_agent))}
    assert rate["ally"] >= rate["random"] >= rate["greedy"]
    assert rate["ally"] > 0.9


def test_minimax_final_move_is_the_exact_best_response(judge4, games):
    pos, _ = games
    value, best = minimax(judge4, pos, (LIAR,), beam=2)
    margins = candidate_margins(judge4, pos, LIAR)
    torch.testing.assert_close(value, -margins.max(1).values)  # value is the honest margin
    assert (best == margins.argmax(1)).all()


def oversight(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oversight.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_cli_runs_the_protocol_end_to_end_and_reuses_stages(tmp_path):
    small = ["seeds=[0,1]", "digits_debate.n_debate=20", "digits_debate.judge.epochs=20", "digits_debate.beam=2",
             f"out_dir={tmp_path}", "wandb.mode=disabled"]
    first = oversight("run", "configs/debate_digits.yaml", *small, cwd=Path.cwd())
    assert first.returncode == 0, first.stderr[-3000:]
    (run_dir,) = [p for p in tmp_path.iterdir() if not p.name.startswith("_")]
    assert run_dir.name.startswith("digits_debate-")
    results = json.loads((run_dir / "results.json").read_text())
    assert results["complete"] and results["dataset"] is None
    for m in results["per_seed"].values():
        assert m["weak_acc"] == m["k6_judge_acc"] and m["student_acc"] == m["k6_debate_acc_search"]
        for k in (4, 6):
            assert {f"k{k}_debate_acc_greedy", f"k{k}_honest_win_rate_search", f"k{k}_pgr"} <= set(m)
        assert 0.1 < m["k4_judge_acc"] < m["ceiling_acc"] <= 1
    assert list(results["summary"])[:4] == ["weak_acc", "student_acc", "ceiling_acc", "pgr"]

    start = time.time()
    again = oversight("run", "configs/debate_digits.yaml", *small, cwd=Path.cwd())
    assert again.returncode == 0 and "done" not in again.stdout.split("supervision")[0]
    assert json.loads((run_dir / "results.json").read_text())["per_seed"] == results["per_seed"]
    assert time.time() - start < 30

    bad = oversight("run", "configs/debate_digits.yaml", "digits_debate.headline_k=5", f"out_dir={tmp_path}", cwd=Path.cwd())
    assert bad.returncode != 0 and "headline_k=5 is not in ks" in bad.stderr
