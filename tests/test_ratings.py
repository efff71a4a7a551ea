"""Debater ratings (judging/ratings.py) against hand-made tournaments whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from oversight.judging.ratings import ELO_CENTRE, ELO_PER_LOGIT, Matches, fit_ratings, rating_intervals


def _matches(games: list[tuple[int, int, int, int]], per_item: int = 1) -> Matches:
    """`games`: (honest player, dishonest player, honest-side wins, losses); `per_item` consecutive games share an item."""
    rows = [(h, d, w) for h, d, won, lost in games for w in [1.0] * won + [0.0] * lost]
    honest, dishonest, won = (np.array(col) for col in zip(*rows))
    return Matches(honest.astype(int), dishonest.astype(int), won, np.arange(len(rows)) // per_item)


def test_a_player_winning_three_games_in_four_from_either_side_is_191_elo_ahead_and_the_truth_is_worth_nothing():
    # A (0) honest wins 300 of 400 against B (1); B honest wins 100 of 400 against A: A wins 3:1 whichever side it takes
    elo, advantage = fit_ratings(_matches([(0, 1, 300, 100), (1, 0, 100, 300)]), 2)
    assert elo[0] - elo[1] == pytest.approx(ELO_PER_LOGIT * np.log(300.5 / 100.5), abs=1e-6)  # with the virtual draw, ≈ 400·log10(3)
    assert advantage == pytest.approx(0.0, abs=1e-6) and elo.mean() == pytest.approx(ELO_CENTRE)


def test_the_honest_advantage_comes_from_cross_play_and_self_play_changes_nothing():
    # evenly matched players; the correct side wins 3 in 4 from either seat
    cross = [(0, 1, 30, 10), (1, 0, 30, 10)]
    elo, advantage = fit_ratings(_matches(cross), 2)
    assert advantage == pytest.approx(ELO_PER_LOGIT * np.log(30.5 / 10.5), abs=1e-6) and elo[0] == pytest.approx(elo[1])
    # a player whose self-play the judge always gets right moves neither the gap nor the advantage
    uneven = [(0, 1, 35, 5), (1, 0, 25, 15)]
    with_self = uneven + [(0, 0, 40, 0), (1, 1, 20, 20)]
    np.testing.assert_allclose(fit_ratings(_matches(with_self), 2)[0], fit_ratings(_matches(uneven), 2)[0], atol=1e-9)


def test_a_perfect_record_has_a_finite_rating_set_by_the_number_of_games():
    elo, advantage = fit_ratings(_matches([(0, 1, 24, 0), (1, 0, 0, 24)]), 2)  # A wins all 48, 24 from each seat
    assert elo[0] - elo[1] == pytest.approx(ELO_PER_LOGIT * np.log(24.5 / 0.5), abs=1e-6)  # 676 Elo
    one_loss = fit_ratings(_matches([(0, 1, 23, 1), (1, 0, 0, 24)]), 2)[0]
    assert 0 < one_loss[0] - one_loss[1] < elo[0] - elo[1]
    many = fit_ratings(_matches([(0, 1, 96, 0), (1, 0, 0, 96)]), 2)[0]
    assert many[0] - many[1] > elo[0] - elo[1]  # more games, more certain, larger gap
    matches = _matches([(0, 1, 8, 2), (1, 2, 5, 5), (2, 0, 1, 9), (0, 2, 10, 0)])
    three, _ = fit_ratings(matches, 3)
    assert np.isfinite(three).all() and three[0] > three[1] > three[2]
    assert matches.wins(0) == (8 + 9 + 10, 30) and matches.wins(2) == (5 + 1, 30)


def test_rating_intervals_resample_items_and_narrow_with_more_of_them():
    few = _matches([(0, 1, 6, 2), (1, 0, 2, 6)])
    many = _matches([(0, 1, 60, 20), (1, 0, 20, 60)])
    widths = []
    for matches in (few, many):
        elo, _ = fit_ratings(matches, 2)
        lo, hi = rating_intervals(matches, 2, reps=300, seed=0)
        assert (lo <= elo + 1e-6).all() and (elo <= hi + 1e-6).all()
        widths.append(hi[0] - lo[0])
    assert widths[1] < widths[0] / 2
    # the same 80 games, two to an item: fewer independent units, so a wider interval
    paired = _matches([(0, 1, 60, 20), (1, 0, 20, 60)], per_item=2)
    lo, hi = rating_intervals(paired, 2, reps=300, seed=0)
    assert hi[0] - lo[0] > widths[1]
    assert np.isnan(rating_intervals(few, 2, reps=0, seed=0)[0]).all()


def test_players_who_never_met_through_any_chain_of_matches_are_refused():
    with pytest.raises(ValueError, match=r"players \[2, 3\] never met player 0"):
        fit_ratings(_matches([(0, 1, 5, 5), (2, 3, 5, 5)]), 4)
    chain = fit_ratings(_matches([(0, 1, 8, 2), (1, 2, 8, 2)]), 3)[0]  # 0 and 2 never met, but 1 links them
    assert chain[0] > chain[1] > chain[2]
