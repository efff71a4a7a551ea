"""Burns et al. 2023's auxiliary confidence loss (eq. 1): the student leans on its own hardened
predictions as training goes on, with the threshold set so their class balance matches the labels'."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.training.losses import LOSSES, LossConfig, harden, prior_threshold, soft_cross_entropy, warmup


@dataclass
class LogConfConfig(LossConfig):
    alpha_max: float = 0.75  # final weight of the student's own hardened predictions
    warmup_frac: float = 0.2  # fraction of training over which the weight ramps up from 0


@LOSSES.register("logconf", LogConfConfig)
class AuxiliaryConfidence:
    """(1-α)·CE(f, weak) + α·CE(f, hardened f); α ramps 0 → alpha_max (Burns et al. 2023, eq. 1)."""

    def __init__(self, cfg: LogConfConfig) -> None:
        self.cfg = cfg

    def batch_stats(self, probs, targets):
        return {"threshold": prior_threshold(probs, targets)}

    def __call__(self, logits, targets, step_frac: float, stats=None):
        alpha = self.cfg.alpha_max * warmup(step_frac, self.cfg.warmup_frac)
        # Hardened predictions are targets, not a path for gradients.
        probs = logits.detach().float().softmax(-1)
        stats = stats if stats is not None else self.batch_stats(probs, targets)
        own = harden(probs, stats["threshold"])
        return (1 - alpha) * soft_cross_entropy(logits, targets) + alpha * soft_cross_entropy(logits, own)
