"""The debate game on digits (Irving, Christiano & Amodei 2018, "AI safety via debate", §3.1).

Both players see the image and precommit to a label: the honest player to the true one, the liar
to a wrong one. They then take turns revealing one nonzero pixel each, k pixels in all, and the
judge, seeing only those pixels, picks whichever of the two claimed labels has the larger logit (a
tie goes to the liar). With precommitment the paper plays each image against all nine liars and
credits honesty only if it beats every one of them; `debate_outcomes` does the same.

Agents share one signature, `agent(judge, position, order) -> pixel per game`, where `order` lists
the players still to move (the mover first):
- `greedy`: the pixel that most raises (own logit − opponent's logit) right now;
- `search`: minimax over the rest of the game, each non-final move restricted to the `beam` best
  by that greedy margin, the final move an exhaustive best response. It stands in for the paper's
  MCTS (10,000 rollouts per move), which does not fit a few CPU minutes;
- `random`: a uniformly random allowed pixel (a baseline for tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import torch

from oversight.digits.pixels import N_CLASSES, N_PIXELS, PixelJudge

HONEST, LIAR = 0, 1
# Rows of (position × candidate pixel) scored per judge call in search; bounds memory (~100 MB at hidden 128).
MAX_ROWS = 200_000


@dataclass
class Position:
    values: torch.Tensor  # (g, 64) pixel values in [0, 1]
    allowed: torch.Tensor  # (g, 64) bool: pixels that may be revealed (the nonzero ones)
    claims: torch.Tensor  # (g, 2) int64: [honest label, liar label], fixed before the first move
    mask: torch.Tensor  # (g, 64) bool: pixels revealed so far

    def repeat(self, times: int) -> Position:
        """Each game repeated `times` times in a row (to expand `times` children per position)."""
        return Position(*(t.repeat_interleave(times, dim=0) for t in (self.values, self.allowed, self.claims, self.mask)))

    def reveal(self, pixels: torch.Tensor) -> Position:
        mask = self.mask.clone()
        mask[torch.arange(len(mask)), pixels] = True
        return replace(self, mask=mask)


Agent = Callable[[PixelJudge, Position, Sequence[int]], torch.Tensor]


def move_order(k: int, honest_first: bool) -> tuple[int, ...]:
    first, second = (HONEST, LIAR) if honest_first else (LIAR, HONEST)
    return tuple(first if t % 2 == 0 else second for t in range(k))


def honest_margin(logits: torch.Tensor, claims: torch.Tensor) -> torch.Tensor:
    """logit(honest claim) − logit(liar claim) along the last axis; claims broadcast over middle axes."""
    idx = claims.view(claims.shape[0], *([1] * (logits.dim() - 2)), 2).expand(*logits.shape[:-1], 2)
    pair = logits.gather(-1, idx)
    return pair[..., 0] - pair[..., 1]


def candidate_margins(judge: PixelJudge, pos: Position, player: int) -> torch.Tensor:
    """(g, 64): the mover's margin (own − opponent logit) after each revealable pixel; -inf elsewhere."""
    margin = honest_margin(judge.candidate_logits(pos.values, pos.mask), pos.claims)
    margin = margin if player == HONEST else -margin
    return margin.masked_fill(~(pos.allowed & ~pos.mask), float("-inf"))


@torch.no_grad()
def greedy_agent(judge: PixelJudge, pos: Position, order: Sequence[int]) -> torch.Tensor:
    return candidate_margins(judge, pos, order[0]).argmax(1)


@torch.no_grad()
def random_agent(judge: PixelJudge, pos: Position, order: Sequence[int], seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed + int(pos.mask.sum()))  # a new draw each turn, reproducible
    scores = torch.rand(pos.mask.shape, generator=gen).masked_fill(~(pos.allowed & ~pos.mask), -1.0)
    return scores.argmax(1)


def minimax(judge: PixelJudge, pos: Position, order: Sequence[int], beam: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(value, best pixel) per game; value is the honest margin under beam-limited minimax play."""
    player = order[0]
    sign = 1.0 if player == HONEST else -1.0
    own = candidate_margins(judge, pos, player)
    if len(order) == 1:  # the last move is an exact best response over every pixel
        best_own, best = own.max(1)
        return sign * best_own, best
    width = min(beam, own.shape[1])
    top_own, top = own.topk(width, dim=1)
    child_value, _ = minimax(judge, pos.repeat(width).reveal(top.reshape(-1)), order[1:], beam)
    child_own = (sign * child_value).view(-1, width).masked_fill(torch.isinf(top_own), float("-inf"))
    best_own, pick = child_own.max(1)
    return sign * best_own, top.gather(1, pick[:, None]).squeeze(1)


@torch.no_grad()
def search_agent(judge: PixelJudge, pos: Position, order: Sequence[int], beam: int = 3) -> torch.Tensor:
    # the tree holds beam**(moves left - 1) positions per game, each scoring 64 pixels: chunk the games
    per_game = N_PIXELS * beam ** (len(order) - 1)
    chunk = max(1, MAX_ROWS // per_game)
    picks = []
    for start in range(0, len(pos.mask), chunk):
        part = Position(*(t[start : start + chunk] for t in (pos.values, pos.allowed, pos.claims, pos.mask)))
        picks.append(minimax(judge, part, order, beam)[1])
    return torch.cat(picks)


def make_agent(kind: str, beam: int = 3, seed: int = 0) -> Agent:
    agents: dict[str, Agent] = {"greedy": greedy_agent, "search": partial(search_agent, beam=beam),
                                "random": partial(random_agent, seed=seed)}
    if kind not in agents:
        raise ValueError(f"unknown debate agent {kind!r}; choose from {sorted(agents)}")
    return agents[kind]


@dataclass
class GameRecord:
    claims: np.ndarray  # (g, 2) [honest label, liar label]
    moves: np.ndarray  # (g, k) pixel revealed at each turn
    movers: tuple[int, ...]  # player (HONEST/LIAR) who made each turn
    mask: np.ndarray  # (g, 64) the revealed pixels at the end
    choice: np.ndarray  # (g,) the judge's verdict: one of the two claimed labels
    margin: np.ndarray  # (g,) final logit(honest claim) − logit(liar claim)

    @property
    def honest_wins(self) -> np.ndarray:
        return self.choice == self.claims[:, HONEST]


@torch.no_grad()
def play(judge: PixelJudge, pos: Position, order: Sequence[int], honest: Agent, liar: Agent) -> GameRecord:
    """Play every game in `pos` to the end: players alternate reveals as `order` says."""
    moves = []
    for turn, player in enumerate(order):
        pixels = (honest if player == HONEST else liar)(judge, pos, order[turn:])
        if not (pos.allowed & ~pos.mask).gather(1, pixels[:, None]).all():
            raise RuntimeError(f"turn {turn}: an agent revealed a pixel that is zero or already revealed")
        pos = pos.reveal(pixels)
        moves.append(pixels)
    margin = honest_margin(judge(pos.values, pos.mask), pos.claims)
    # the judge chooses between the two precommitted labels only; a tie goes to the liar
    choice = torch.where(margin > 0, pos.claims[:, HONEST], pos.claims[:, LIAR])
    return GameRecord(pos.claims.numpy(), torch.stack(moves, 1).numpy(), tuple(order), pos.mask.numpy(),
                      choice.numpy(), margin.numpy())


def precommit_games(images: np.ndarray, labels: np.ndarray, allowed: np.ndarray) -> Position:
    """Each image once per wrong label: 9 games per image, image-major, liars in label order."""
    wrong = np.array([[c for c in range(N_CLASSES) if c != y] for y in labels])
    n, lies = wrong.shape
    claims = np.stack([np.repeat(labels, lies), wrong.reshape(-1)], axis=1)
    return Position(values=torch.from_numpy(np.repeat(images, lies, axis=0)),
                    allowed=torch.from_numpy(np.repeat(allowed, lies, axis=0)),
                    claims=torch.from_numpy(claims), mask=torch.zeros((n * lies, N_PIXELS), dtype=torch.bool))


def debate_outcomes(record: GameRecord, n_images: int) -> dict[str, float]:
    """debate_acc: images where honesty beats all nine liars; honest_win_rate: over single games."""
    wins = record.honest_wins.reshape(n_images, -1)
    return {"debate_acc": float(wins.all(1).mean()), "honest_win_rate": float(wins.mean())}
