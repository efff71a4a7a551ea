"""Losses for training on (possibly weak, possibly soft) labels, after Burns et al. 2023.

A loss is a small callable `loss(logits, targets, step_frac, stats) -> scalar tensor` where
`targets` are class probabilities (soft labels, shape [batch, classes]) and `step_frac` in [0, 1]
is the fraction of training done (for warm-ups). A loss whose terms depend on the whole batch
(logconf's adaptive threshold and class prior) also defines `batch_stats(probs, targets)`; the
trainer then passes `stats` computed over the whole optimizer batch, across micro-batches and
ranks, as the paper does (None: compute them from this call's own logits). Add one with
`@LOSSES.register("name")`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from oversight.registry import Registry


class Loss(Protocol):
    """`loss(logits [B, C], targets [B, C] probabilities, step_frac in [0, 1], stats) -> scalar`."""

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float,
                 stats: dict[str, torch.Tensor] | None = None) -> torch.Tensor: ...


def batch_statistics(loss: Loss):
    """The loss's `batch_stats(probs, targets) -> dict` if its terms depend on the whole batch, else None."""
    return getattr(loss, "batch_stats", None)


@dataclass
class LossConfig:
    name: str = "xent"  # registered loss: xent | logconf | product
    alpha_max: float = 0.75  # logconf: final weight of the student's own hardened predictions
    warmup_frac: float = 0.2  # logconf/product: fraction of training over which the weight ramps up from 0
    product_beta_max: float = 1.0  # product: final exponent on the student's own probabilities


LOSSES: Registry[type] = Registry("loss")


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of -sum_c targets_c * log softmax(logits)_c."""
    return -(targets * F.log_softmax(logits.float(), dim=-1)).sum(-1).mean()


def warmup(step_frac: float, warmup_frac: float) -> float:
    """Linear ramp 0 → 1 over the first `warmup_frac` of training (1 if warmup_frac is 0)."""
    if warmup_frac <= 0:
        return 1.0
    return min(max(step_frac / warmup_frac, 0.0), 1.0)


def prior_threshold(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Burns et al.'s adaptive threshold: the quantile of P(class 1) that makes the hardened
    positive rate equal the targets' class-1 prior (binary; unused for more classes)."""
    prior = targets.float().mean(0)
    if probs.shape[-1] != 2:
        return torch.zeros((), device=probs.device)
    return quantile_on_device(probs[:, 1].float(), 1.0 - prior[1].clamp(0, 1))


def harden(probs: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """One-hot labels from `probs`: binary P(class 1) > threshold (so the confidence loss cannot
    collapse onto one class); more classes: argmax (no prior matching)."""
    if probs.shape[-1] != 2:
        # scatter, not F.one_hot: one_hot checks the index range with a host sync on CUDA
        return torch.zeros_like(probs).scatter_(-1, probs.argmax(-1, keepdim=True), 1.0)
    positive = (probs[:, 1] > threshold).to(probs.dtype)
    return torch.stack([1 - positive, positive], -1)


def quantile_on_device(values: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """`torch.quantile(values, q)` (linear interpolation) with `q` a 0-d tensor, without a host sync.

    `torch.quantile` wants q on the host (a `float(tensor)` is a CPU-GPU sync every step) or
    validates a tensor q with a sync; here every index stays on the device.
    """
    ordered = values.flatten().sort().values
    pos = (q * (ordered.numel() - 1)).reshape(1)
    lo, hi = pos.floor().long(), pos.ceil().long()
    return torch.lerp(ordered.index_select(0, lo), ordered.index_select(0, hi), pos - lo).reshape(())


@LOSSES.register("xent")
class SoftCrossEntropy:
    """Cross-entropy against soft (or one-hot) labels."""

    def __init__(self, cfg: LossConfig) -> None:
        self.cfg = cfg

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float, stats=None) -> torch.Tensor:
        return soft_cross_entropy(logits, targets)


@LOSSES.register("logconf")
class AuxiliaryConfidence:
    """(1-α)·CE(f, weak) + α·CE(f, hardened f); α ramps 0 → alpha_max (Burns et al. 2023, eq. 1)."""

    def __init__(self, cfg: LossConfig) -> None:
        self.cfg = cfg

    def batch_stats(self, probs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"threshold": prior_threshold(probs, targets)}

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float, stats=None) -> torch.Tensor:
        alpha = self.cfg.alpha_max * warmup(step_frac, self.cfg.warmup_frac)
        # Hardened predictions are targets, not a path for gradients.
        probs = torch.softmax(logits.detach().float(), -1)
        stats = stats if stats is not None else self.batch_stats(probs, targets)
        own = harden(probs, stats["threshold"])
        return (1 - alpha) * soft_cross_entropy(logits, targets) + alpha * soft_cross_entropy(logits, own)


@LOSSES.register("product")
class ProductOfExperts:
    """CE against normalize(weak · student^β): the student down-weights labels it finds unlikely.

    Per example only (no batch statistics), so accumulation and ranks do not change it."""

    def __init__(self, cfg: LossConfig) -> None:
        self.cfg = cfg

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float, stats=None) -> torch.Tensor:
        beta = self.cfg.product_beta_max * warmup(step_frac, self.cfg.warmup_frac)
        own = torch.softmax(logits.detach().float(), -1)
        combined = targets.float() * own.pow(beta)
        combined = combined / combined.sum(-1, keepdim=True).clamp_min(1e-12)
        return soft_cross_entropy(logits, combined)


def build_loss(cfg: LossConfig) -> Loss:
    return LOSSES.get(cfg.name)(cfg)
