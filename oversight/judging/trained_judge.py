"""A trained classifier judge: a small classifier reads exactly what an LLM judge would read (the
question, its partial view and the protocol's material) and learns from gold labels which answer
the material supports.

Its gold labels come from its own slice of the data, disjoint from the items it judges: the
protocol runs on the judge's training items (the split's `weak_train`, where any supervisor learns
with ground truth), the classifier trains on those transcripts' gold answers, then judges the pool
and the test items. So the labels it hands a student carry no gold of the student's own pool.
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


def classifier_verdicts(cfg: JudgeConfig, ws, train_items: list[Item], train_materials: list[list[str]],
                        items: list[Item], materials: list[list[str]], seed: int, workdir: Path) -> Verdicts:
    """Train on `train_items` (gold answers), judge `items` (whose labels it never reads)."""
    n_train, n = len(train_items), len(items)
    classes = sorted(set(c for it in [*train_items, *items] for c in it.classes))
    names = [str(c) for c in classes]
    # The label is the gold answer's class, the same in both orders: the text names the answers.
    # Judged rows get a placeholder label: the dataset needs one per row, the classifier never trains on them.
    raw = [str(it.classes[it.correct]) for it in train_items for _ in ORDERS] + [names[0]] * (2 * n)
    texts = judge_texts(train_items, train_materials) + judge_texts(items, materials)
    ds = TextDataset.from_raw_labels("judge-views", texts, raw, classes=names)
    learner = Learner(cfg.classifier, ds, ws)
    train_rows, judged_rows = np.arange(2 * n_train), np.arange(2 * n_train, 2 * (n_train + n))
    targets = soft_targets(ds.labels, len(names))
    model, _ = learner.fit(cfg.train, train_rows, targets, seed, workdir, stage=f"seed{seed}/judge_classifier")
    class_probs = learner.predict(model, judged_rows, cfg.train, desc="trained judge")
    order_probs = np.zeros((n, 2, 2))
    for i, it in enumerate(items):
        for o in range(2):
            p = class_probs[2 * i + o, [names.index(str(c)) for c in it.classes]]
            order_probs[i, o] = p / p.sum() if p.sum() > 0 else [0.5, 0.5]
    probs = order_probs.mean(axis=1)
    return Verdicts(probs, order_probs, np.zeros((n, 2), dtype=bool), [["", ""] for _ in items])
