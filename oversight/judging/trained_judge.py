"""A trained classifier judge: a small classifier reads exactly what an LLM judge would read (the
question, its partial view and the protocol's material) and learns from gold labels which answer
the material supports.

It is cross-fitted over the pool: items are cut into `folds`, and each fold is judged by a model
trained on the other folds' gold labels, so no verdict comes from a model that saw its own label.
Both presentation orders are training examples (the judge learns order invariance) and both are
judged, as for the LLM judge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oversight.data import TextDataset
from oversight.judging.items import Item
from oversight.judging.judge import ORDERS, JudgeConfig, Verdicts, judge_conversation
from oversight.training.fit import Learner
from oversight.training.trainer import soft_targets


def judge_texts(items: list[Item], materials: list[list[str]]) -> list[str]:
    """Item i's view in order o sits at 2i + o."""
    return [judge_conversation(item, materials[i][o], order)[0]["content"]
            for i, item in enumerate(items) for o, order in enumerate(ORDERS)]


def classifier_verdicts(cfg: JudgeConfig, ws, items: list[Item], materials: list[list[str]], seed: int,
                        workdir: Path) -> Verdicts:
    n = len(items)
    # The label is the gold answer's class, the same in both orders: the text names the answers.
    gold = [it.classes[it.correct] for it in items]
    classes = sorted(set(c for it in items for c in it.classes))
    names = [str(c) for c in classes]
    ds = TextDataset.from_raw_labels("judge-views", judge_texts(items, materials), [str(g) for g in gold for _ in ORDERS], classes=names)
    learner = Learner(cfg.classifier, ds, ws)
    targets = soft_targets(ds.labels, len(names))
    fold_of = np.random.default_rng([seed, 53]).permutation(n) % cfg.folds
    class_probs = np.zeros((2 * n, len(names)))
    for k in range(cfg.folds):
        held = np.flatnonzero(fold_of == k)
        if len(held) == 0:
            continue
        rows = lambda idx: np.sort(np.concatenate([2 * idx, 2 * idx + 1]))  # noqa: E731
        train_rows, held_rows = rows(np.flatnonzero(fold_of != k)), rows(held)
        folder = workdir / f"fold{k}"  # the fold's resume checkpoint
        folder.mkdir(parents=True, exist_ok=True)
        model = learner.fit(cfg.train, train_rows, targets, seed, folder, stage=f"seed{seed}/judge_fold{k}")
        class_probs[held_rows] = learner.predict(model, held_rows, cfg.train, desc=f"judge fold {k}")
    order_probs = np.zeros((n, 2, 2))
    for i, it in enumerate(items):
        for o in range(2):
            p = class_probs[2 * i + o, [names.index(str(c)) for c in it.classes]]
            order_probs[i, o] = p / p.sum() if p.sum() > 0 else [0.5, 0.5]
    probs = order_probs.mean(axis=1)
    return Verdicts(probs, order_probs, np.zeros((n, 2), dtype=bool), [["", ""] for _ in items])
