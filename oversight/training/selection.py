"""Which weights a training stage keeps: the model-selection rule, made explicit.

A student trained on a supervisor's labels must not be selected on those labels' *loss*: a loss
such as Burns et al.'s `logconf` moves away from the weak labels on purpose, so the lowest held-out
loss against them is usually the first evaluation, an undertrained model. Nor may it peek at gold
labels its role is not allowed to see. So students train to the end by default (`none`), and every
rule is named in the config and recorded in the stage's meta:

  none             the final weights (the default for students)
  gold_holdout     lowest cross-entropy on a held-out gold-labelled slice (roles trained on gold only)
  label_loss       lowest held-out cross-entropy against the supervisor's labels (selects on noisy targets)
  label_agreement  highest held-out accuracy against the supervisor's hard labels
  label_auroc      highest held-out AUROC against the supervisor's hard labels (as EleutherAI/w2s
                   select students on weak-labelled validation AUROC)

For a role trained on gold the held-out targets *are* gold, so every rule but `none` is gold
selection there; `gold_holdout` names that case and is refused for students.
"""

from __future__ import annotations

import numpy as np

from oversight.errors import ConfigError

SELECTIONS = ("none", "gold_holdout", "label_loss", "label_agreement", "label_auroc")
STUDENT_SELECTIONS = tuple(s for s in SELECTIONS if s != "gold_holdout")


def check_selection(select: str, gold_targets: bool, where: str = "select") -> None:
    if select not in SELECTIONS:
        raise ConfigError(f"{where}={select!r}; choose one of {', '.join(SELECTIONS)}")
    if select == "gold_holdout" and not gold_targets:
        raise ConfigError(f"{where}=gold_holdout needs gold training labels; a student trained on a supervisor's "
                          f"labels may use {', '.join(STUDENT_SELECTIONS)}")


def heldout_scores(probs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Held-out loss, agreement and AUROC of predicted `probs` against the training `targets` (probabilities)."""
    from oversight.metrics import auroc

    logp = np.log(np.clip(probs, 1e-12, None))
    hard = targets.argmax(-1)
    return {"loss": float(-(targets * logp).sum(-1).mean()),
            "agreement": float((probs.argmax(-1) == hard).mean()),
            "auroc": auroc(probs, hard)}


def selection_score(select: str, scores: dict[str, float]) -> float:
    """Higher is better; NaN when the rule keeps no checkpoint (or its metric is undefined)."""
    if select == "none":
        return float("nan")
    if select in ("gold_holdout", "label_loss"):
        return -scores["loss"]
    return scores["agreement"] if select == "label_agreement" else scores["auroc"]
