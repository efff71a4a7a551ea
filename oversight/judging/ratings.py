"""Debater ratings from judged debates (Khan et al. 2024's cross-play tournament): a Bradley-Terry
fit of who wins each debate, with one shared advantage for the side that argues the correct answer,
reported on the Elo scale.

A match is one item debated by two different players: the honest one (assigned the correct
answer), the dishonest one, and whether the judge's verdict went to the honest side. The model is
P(honest h wins against dishonest d) = σ(r_h − r_d + η), where η is how much easier the truth is to
defend, shared by every player; each pairing plays both side assignments, which identifies η.
Self-play is not a match here: it would tie η, and so every rating gap, to how accurate the judge
is in each player's self-play, the quantity the ratings are meant to be compared with. The fit is
maximum likelihood over all matches at once, so unlike sequential Elo or TrueSkill updates it does
not depend on the order the matches were played in. Each pairing also gets one virtual drawn game
in each side assignment (half a win each way), so a perfect record gives a finite gap that grows
with the number of games (48 wins of 48, 24 on each side: 676 Elo; 47 of 48: 577) instead of one
set by a penalty. Ratings
are centred on 1000 at 400/ln 10 per logit (a 400-point gap is 10:1 odds). Intervals are percentile
bootstraps over items: every match on a resampled item comes with it, because one item's debates
share its difficulty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ELO_PER_LOGIT = 400 / np.log(10)
ELO_CENTRE = 1000.0


@dataclass
class Matches:
    honest: np.ndarray  # (m,) player index arguing the correct answer
    dishonest: np.ndarray  # (m,) player index arguing the other one (the same player in self-play)
    honest_won: np.ndarray  # (m,) 1.0 when the judge's verdict went to the correct answer
    item: np.ndarray  # (m,) the item debated (the bootstrap's unit)

    def take(self, rows: np.ndarray) -> Matches:
        return Matches(self.honest[rows], self.dishonest[rows], self.honest_won[rows], self.item[rows])

    def wins(self, player: int) -> tuple[int, int]:
        """(won, played) over `player`'s cross-play matches (self-play left out)."""
        cross = self.honest != self.dishonest
        won = ((self.honest == player) & (self.honest_won == 1)) | ((self.dishonest == player) & (self.honest_won == 0))
        played = cross & ((self.honest == player) | (self.dishonest == player))
        return int((won & played).sum()), int(played.sum())


def fit_ratings(matches: Matches, n_players: int, iters: int = 100) -> tuple[np.ndarray, float]:
    """(Elo rating per player, honest advantage η in Elo points): maximum likelihood by Newton's method,
    over the cross-play matches plus one virtual drawn game per pairing and side assignment."""
    cross = matches.honest != matches.dishonest
    _check_connected(matches.honest[cross], matches.dishonest[cross], n_players)
    pairs = sorted({(int(h), int(d)) for h, d in zip(matches.honest[cross], matches.dishonest[cross])}
                   | {(int(d), int(h)) for h, d in zip(matches.honest[cross], matches.dishonest[cross])})
    honest = np.concatenate([matches.honest[cross], [h for h, _ in pairs]]).astype(int)
    dishonest = np.concatenate([matches.dishonest[cross], [d for _, d in pairs]]).astype(int)
    y = np.concatenate([matches.honest_won[cross], np.full(len(pairs), 0.5)])
    x = np.zeros((len(y), n_players + 1))
    x[np.arange(len(y)), honest] += 1.0
    x[np.arange(len(y)), dishonest] -= 1.0
    x[:, -1] = 1.0
    centre = np.full(n_players + 1, 1e-9)  # only fixes the common shift the likelihood cannot see
    theta = np.zeros(n_players + 1)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        grad = x.T @ (y - p) - centre * theta
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(centre)
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        theta += step
        if max(np.abs(step[:-1] - step[:-1].mean()).max(), abs(step[-1])) < 1e-10:  # a common shift is not a change
            break
    ratings = theta[:-1] - theta[:-1].mean()
    return ELO_CENTRE + ELO_PER_LOGIT * ratings, float(ELO_PER_LOGIT * theta[-1])


def _check_connected(honest: np.ndarray, dishonest: np.ndarray, n_players: int) -> None:
    """Ratings compare players only through chains of matches: every player must be reachable from every other."""
    reached, frontier = {0}, [0]
    while frontier:
        p = frontier.pop()
        for q in np.concatenate([dishonest[honest == p], honest[dishonest == p]]).tolist():
            if q not in reached:
                reached.add(q)
                frontier.append(q)
    if len(reached) < n_players:
        raise ValueError(f"players {sorted(set(range(n_players)) - reached)} never met player 0 through any chain of "
                         "cross-play matches: their ratings would not be comparable")


def rating_intervals(matches: Matches, n_players: int, reps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile-bootstrap bounds of each player's rating, (lo, hi), resampling items."""
    if reps == 0:
        return np.full(n_players, np.nan), np.full(n_players, np.nan)
    items = np.unique(matches.item)
    rows_of = {it: np.flatnonzero(matches.item == it) for it in items}
    rng = np.random.default_rng([seed, 443])
    draws = np.empty((reps, n_players))
    for b in range(reps):
        rows = np.concatenate([rows_of[it] for it in rng.choice(items, size=len(items))])
        draws[b] = fit_ratings(matches.take(rows), n_players)[0]
    return np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)
