"""Product of experts: the student trains on normalize(weak · student^β), down-weighting weak labels
it finds unlikely (a soft form of the confidence loss; per example, so batching cannot change it)."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.training.losses import LOSSES, LossConfig, soft_cross_entropy, warmup


@dataclass
class ProductConfig(LossConfig):
    beta_max: float = 1.0  # final exponent on the student's own probabilities
    warmup_frac: float = 0.2  # fraction of training over which the exponent ramps up from 0


@LOSSES.register("product", ProductConfig)
class ProductOfExperts:
    """CE against normalize(weak · student^β): the student down-weights labels it finds unlikely."""

    def __init__(self, cfg: ProductConfig) -> None:
        self.cfg = cfg

    def __call__(self, logits, targets, step_frac: float, stats=None):
        beta = self.cfg.beta_max * warmup(step_frac, self.cfg.warmup_frac)
        own = logits.detach().float().softmax(-1)
        combined = targets.float() * own.pow(beta)
        combined = combined / combined.sum(-1, keepdim=True).clamp_min(1e-12)
        return soft_cross_entropy(logits, combined)
