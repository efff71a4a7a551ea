"""Debater ratings (judging/ratings.py) against hand-made tournaments whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from oversight.judging.ratings import ELO_CENTRE, Matches, fit_ratings, rating_intervals


def _matches(games: list[tuple[int, int, int, int]]) -> Matches:
    """`games`: (honest player, dishonest player, honest-side wins, losses), one item per game."""
    rows = [(h, d, w) for h, d, won, lost in games for w in [1.0] * won + [0.0] * lost]
    honest, dishonest, won = (np.array(col) for col in zip(*rows))
    return Matches(honest.astype(int), dishonest.astype(int), won, np.arange(len(rows)))


def test_a_player_winning_three_games_in_four_from_either_side_is_191_elo_ahead_and_the_truth_is_worth_nothing():
    # A (0) honest wins 300 of 400 against B (1); B honest wins 100 of 400 against A: A wins 3:1 whichever side it takes
    elo, advantage = fit_ratings(_matches([(0, 1, 300, 100), (1, 0, 100, 300)]), 2)
    assert elo[0] - elo[1] == pytest.approx(400 * np.log10(3), abs=0.5)
    assert advantage == pytest.approx(0.0, abs=1e-6)
    assert elo.mean() == pytest.approx(ELO_CENTRE)


def test_the_honest_advantage_is_learned_from_self_play_and_does_not_move_the_ratings():
    # evenly matched players; the correct side wins 3 in 4 everywhere, in self-play too
    games = [(0, 1, 30, 10), (1, 0, 30, 10), (0, 0, 60, 20), (1, 1, 60, 20)]
    elo, advantage = fit_ratings(_matches(games), 2)
    assert advantage == pytest.approx(400 * np.log10(3), abs=0.5)
    assert elo[0] == pytest.approx(elo[1], abs=1e-6)


def test_ratings_do_not_depend_on_the_order_matches_were_played_and_a_perfect_record_stays_finite():
    matches = _matches([(0, 1, 8, 2), (1, 2, 5, 5), (2, 0, 1, 9), (0, 2, 10, 0)])
    shuffled = matches.take(np.random.default_rng(0).permutation(len(matches.item)))
    np.testing.assert_allclose(fit_ratings(matches, 3)[0], fit_ratings(shuffled, 3)[0], atol=1e-8)
    elo, _ = fit_ratings(matches, 3)
    assert np.isfinite(elo).all() and elo[0] > elo[1] > elo[2]
    assert matches.wins(0) == (8 + 9 + 10, 30) and matches.wins(2) == (5 + 1, 30)


def test_rating_intervals_bracket_the_fit_and_narrow_with_more_items():
    few = _matches([(0, 1, 6, 2), (1, 0, 2, 6)])
    many = _matches([(0, 1, 60, 20), (1, 0, 20, 60)])
    widths = []
    for matches in (few, many):
        elo, _ = fit_ratings(matches, 2)
        lo, hi = rating_intervals(matches, 2, reps=300, seed=0)
        assert (lo <= elo + 1e-6).all() and (elo <= hi + 1e-6).all()
        widths.append(hi[0] - lo[0])
    assert widths[1] < widths[0] / 2
    assert np.isnan(rating_intervals(few, 2, reps=0, seed=0)[0]).all()
