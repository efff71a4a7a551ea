"""Best-of-N turns (Khan et al. 2024): a speaker samples N candidate turns and keeps the one a
preference model finds most convincing for the speaker's answer.

The preference model (the scheme's `ranker` role) reads what the judge would read: the question,
the judge's partial view and the transcript so far, with the candidate as the speaker's next turn
(quotes marked), and scores P(speaker's answer) after "The correct answer is". Candidates are drawn
with N different seeds, so they differ on every backend (a server's response cache keys the seed).
"""

from __future__ import annotations

import numpy as np

from oversight.judging.base import judge_material
from oversight.judging.items import ANSWER_PREFIX, named
from oversight.judging.judge import judge_conversation, score_answers
from oversight.judging.quotes import mark_quotes


def best_turns(speaker, ranker, convs: list, views: list[tuple], n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """The kept turn per conversation, and every candidate's score, (len(convs), n).

    `views[q]` is (item, side, text before the turn, wanted): the ranker reads the text and the
    candidate as side `side`'s turn, and scores the answer at position `wanted` (the speaker's own,
    or for a defecting debater the one it secretly argues for)."""
    candidates = [speaker.generate(convs, seed=seed * 1000 + j) for j in range(n)]  # [candidate][conversation]
    scores = np.zeros((len(convs), n))
    wanted = np.array([want for *_, want in views])
    for j, said in enumerate(candidates):
        shown = [judge_conversation(item, judge_material(item, _with_turn(item, side, before, text)), (0, 1))
                 for (item, side, before, _), text in zip(views, said)]
        probs = score_answers(ranker, shown, [named(item) for item, *_ in views], ANSWER_PREFIX)
        scores[:, j] = probs[np.arange(len(convs)), wanted]
    best = scores.argmax(1)
    return [candidates[b][q] for q, b in enumerate(best)], scores


def _with_turn(item, side: int, before: str, text: str) -> str:
    turn = f"Next, the debater who argues {item.answers[side]}: {mark_quotes(text, item.passage)[0]}"
    return f"{before}\n{turn}" if before else turn
