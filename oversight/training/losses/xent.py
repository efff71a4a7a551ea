"""Cross-entropy against soft (or one-hot) labels: the plain loss, and the ceiling's."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.training.losses import LOSSES, LossConfig, soft_cross_entropy


@dataclass
class XentConfig(LossConfig):
    """No hyperparameters."""


@LOSSES.register("xent", XentConfig)
class SoftCrossEntropy:
    """Cross-entropy against soft (or one-hot) labels."""

    def __init__(self, cfg: XentConfig) -> None:
        self.cfg = cfg

    def __call__(self, logits, targets, step_frac: float, stats=None):
        return soft_cross_entropy(logits, targets)
