"""Losses for training on (possibly weak, possibly soft) labels, after Burns et al. 2023; one file each.

A loss is a small callable `loss(logits, targets, step_frac, stats) -> scalar tensor` where
`targets` are class probabilities (soft labels, shape [batch, classes]) and `step_frac` in [0, 1]
is the fraction of training done (for warm-ups). A loss whose terms depend on the whole batch
(logconf's adaptive threshold and class prior) also defines `batch_stats(probs, targets)`; the
trainer then passes `stats` computed over the whole optimizer batch, across micro-batches and
ranks, as the paper does (None: compute them from this call's own logits).

Add one as a new file in this package: a `LossConfig` subclass holding its hyperparameters and
`@LOSSES.register("name", ThatConfig)` on a class built from it. The helpers here work through
tensor methods only, so loading a config never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from oversight.registry import ComponentConfig, Registry

if TYPE_CHECKING:
    from torch import Tensor


@dataclass
class LossConfig(ComponentConfig):
    """A loss section: `name` picks the registered loss; its own fields follow (`{name: logconf, alpha_max: 0.75}`)."""


class Loss(Protocol):
    """`loss(logits [B, C], targets [B, C] probabilities, step_frac in [0, 1], stats) -> scalar`."""

    def __call__(self, logits: Tensor, targets: Tensor, step_frac: float, stats: dict[str, Tensor] | None = None) -> Tensor: ...


LOSSES: Registry[type] = Registry("loss", package=__name__, config=LossConfig)


def build_loss(cfg: LossConfig) -> Loss:
    return LOSSES.get(cfg.name)(cfg)


def batch_statistics(loss: Loss):
    """The loss's `batch_stats(probs, targets) -> dict` if its terms depend on the whole batch, else None."""
    return getattr(loss, "batch_stats", None)


def soft_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean over the batch of -sum_c targets_c * log softmax(logits)_c."""
    return -(targets * logits.float().log_softmax(-1)).sum(-1).mean()


def warmup(step_frac: float, warmup_frac: float) -> float:
    """Linear ramp 0 → 1 over the first `warmup_frac` of training (1 if warmup_frac is 0)."""
    if warmup_frac <= 0:
        return 1.0
    return min(max(step_frac / warmup_frac, 0.0), 1.0)


def prior_threshold(probs: Tensor, targets: Tensor) -> Tensor:
    """Burns et al.'s adaptive threshold: the quantile of P(class 1) that makes the hardened
    positive rate equal the targets' class-1 prior (binary; unused for more classes)."""
    prior = targets.float().mean(0)
    if probs.shape[-1] != 2:
        return probs.new_zeros(())
    return quantile_on_device(probs[:, 1].float(), 1.0 - prior[1].clamp(0, 1))


def harden(probs: Tensor, threshold: Tensor) -> Tensor:
    """One-hot labels from `probs`: binary P(class 1) > threshold (so the confidence loss cannot
    collapse onto one class); more classes: argmax (no prior matching)."""
    # scatter, not F.one_hot: one_hot checks the index range with a host sync on CUDA
    pick = probs.argmax(-1) if probs.shape[-1] != 2 else (probs[:, 1] > threshold).long()
    return probs.new_zeros(probs.shape).scatter_(-1, pick.unsqueeze(-1), 1.0)


def quantile_on_device(values: Tensor, q: Tensor) -> Tensor:
    """`torch.quantile(values, q)` (linear interpolation) with `q` a 0-d tensor, without a host sync.

    `torch.quantile` wants q on the host (a `float(tensor)` is a CPU-GPU sync every step) or
    validates a tensor q with a sync; here every index stays on the device.
    """
    ordered = values.flatten().sort().values
    pos = (q * (ordered.numel() - 1)).reshape(1)
    lo, hi = pos.floor().long(), pos.ceil().long()
    return ordered.index_select(0, lo).lerp(ordered.index_select(0, hi), pos - lo).reshape(())
