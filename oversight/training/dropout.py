"""Dropout from bulk random bits, for training on a CPU.

On a CPU, torch's dropout draws one Mersenne-Twister number per element (`bernoulli_`). It was
the largest cost after the matmuls: 12% of a MiniLM-L3 training step (`torch.profiler`, 20
steps, batch 32). `BulkDropout` draws 64 random bits per four elements instead. It reads each
16-bit lane as a uniform integer and keeps the element when the lane is at or above
round(p · 2¹⁶). With it, matmuls went from 55% to 64% of that step's profile and dropout left the top ops.

It is the same function as `nn.Dropout` up to p's rounding to a multiple of 2⁻¹⁶: the drop
probability differs from p by at most 7.7e-6. Kept elements are scaled by 1 / (exact keep
probability), so the output's expectation equals the input exactly, as with `nn.Dropout`.
Eval mode is the identity. The random bits come from torch's default generator, which
`torch.manual_seed` seeds.

`cpu_dropout(model)` swaps this in while a model trains and puts the originals back afterwards.
Every `nn.Dropout` becomes a `BulkDropout` with the same `p`. A transformers model that attends
with SDPA gets `attend`: its attention-probability dropout would otherwise run inside SDPA's math
path, at 5 ms a call, the costliest dropout of a step. `attend` computes that same math path
(scores, mask, softmax, dropout, values) with bulk random bits, keeping half the memory autograd
would for backward (`DroppedAttention`), and hands every call without dropout back to SDPA. On
CUDA nothing is swapped: there dropout is one fused Philox kernel.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

LANES = 1 << 16  # one 16-bit lane per element: four elements per 64-bit draw


def random_lanes(x: torch.Tensor) -> torch.Tensor:
    """64 random bits per four elements of `x`, all bits used (2 bytes an element)."""
    return torch.empty((x.numel() + 3) // 4, dtype=torch.int64, device=x.device).random_(-(1 << 63), None)


def scale_from(bits: torch.Tensor, like: torch.Tensor, p: float) -> torch.Tensor:
    """Dropout's multiplier for a tensor shaped as `like`, from its random lanes: 1 / keep probability
    where kept, 0 where dropped, with drop probability round(p · 2¹⁶) / 2¹⁶. Float, like the noise
    tensor native CPU dropout keeps for backward."""
    lanes = bits.view(torch.int16)[: like.numel()].view(like.shape)  # uniform over [-2¹⁵, 2¹⁵)
    dropped = round(p * LANES)
    # compared straight into floats (bool tensors are slow on a CPU); then x * scale is one float multiply each way
    scale = torch.ge(lanes, dropped - LANES // 2, out=torch.empty(like.shape, dtype=like.dtype, device=like.device))
    return scale.mul_(LANES / (LANES - dropped))


def keep_scale(x: torch.Tensor, p: float) -> torch.Tensor:
    """A fresh dropout multiplier for `x` (`scale_from` new random lanes)."""
    return scale_from(random_lanes(x), x, p)


def bulk_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return x * 0.0
    return x * keep_scale(x, p)


class BulkDropout(nn.Dropout):
    """`nn.Dropout` with masks from bulk random bits (same `p`, `inplace` ignored)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bulk_dropout(x, self.p, self.training)


ATTENTION = "oversight_bulk_dropout"  # the attention implementation's name in transformers' registry


def attend(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attention_mask: torch.Tensor | None,
           dropout: float = 0.0, scaling: float | None = None, is_causal: bool | None = None, **kwargs):
    """transformers' SDPA attention, with attention dropout from bulk random bits (layout [batch, heads, tokens, dim] in,
    [batch, tokens, heads, dim] out, as every attention function there)."""
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    if dropout == 0.0 or not module.training or kwargs.get("position_bias") is not None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    groups = getattr(module, "num_key_value_groups", 1)
    if groups > 1:
        key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    # the scale on the queries (head_dim wide, not keys wide); masks added as floats (masked_fill is 10x slower here)
    scores = torch.matmul(query * (scaling if scaling is not None else query.shape[-1] ** -0.5), key.transpose(-2, -1))
    lowest = torch.finfo(scores.dtype).min
    if attention_mask is None and (is_causal if is_causal is not None else getattr(module, "is_causal", True)) and query.shape[2] > 1:
        q, k = query.shape[2], key.shape[2]
        attention_mask = torch.ones(q, k, dtype=torch.bool, device=scores.device).tril(k - q)
    if attention_mask is not None:  # boolean (True attends) or additive, [batch or 1, 1 or heads, q, k]
        if attention_mask.dtype == torch.bool:
            attention_mask = torch.zeros(attention_mask.shape, dtype=scores.dtype, device=scores.device).masked_fill_(~attention_mask, lowest)
        scores = scores + attention_mask
    return DroppedAttention.apply(scores, value, dropout).transpose(1, 2).contiguous(), None


class DroppedAttention(torch.autograd.Function):
    """softmax(scores) with dropout, times the values, keeping 6 bytes an attention weight for backward.

    Autograd would keep the probabilities, the float dropout multiplier and the dropped
    probabilities (12 bytes a weight; native dropout inside SDPA's math path keeps 9). This keeps the
    probabilities and the random lanes the mask came from, and rebuilds the multiplier and the
    dropped probabilities in backward: for MiniLM-L3 on a batch of 32 texts of 128 tokens, 113 MB
    less held per step. The gradients are autograd's (tests/test_dropout.py).
    """

    @staticmethod
    def forward(ctx, scores: torch.Tensor, value: torch.Tensor, p: float) -> torch.Tensor:
        probs = torch.softmax(scores, dim=-1)
        bits = random_lanes(probs)
        ctx.save_for_backward(probs, bits, value)
        ctx.p, ctx.scores_dtype = p, scores.dtype
        return torch.matmul(scale_from(bits, probs, p).mul_(probs), value)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        probs, bits, value = ctx.saved_tensors
        scale = scale_from(bits, probs, ctx.p)
        grad_value = torch.matmul(probs.mul(scale).transpose(-2, -1).to(grad.dtype), grad) if ctx.needs_input_grad[1] else None
        grad_probs = torch.matmul(grad, value.transpose(-2, -1).to(grad.dtype)).to(probs.dtype).mul_(scale)
        grad_scores = torch._softmax_backward_data(grad_probs, probs, -1, ctx.scores_dtype)
        return grad_scores, grad_value, None


def _register_attention() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, attend)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)  # the masks SDPA gets


@contextlib.contextmanager
def cpu_dropout(model: nn.Module, device: torch.device) -> Iterator[None]:
    """While the block runs, `model`'s dropout draws bulk random bits (CPU only): every `nn.Dropout` with
    p > 0 is a `BulkDropout`, and transformers models that attend with SDPA attend with `attend`."""
    if device.type != "cpu":
        yield
        return
    swapped = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
               if type(child) is nn.Dropout and child.p > 0]
    configs = list({id(c): c for m in model.modules() if getattr(c := getattr(m, "config", None), "_attn_implementation", None)
                    == "sdpa"}.values())
    if configs:
        _register_attention()
    for parent, name, child in swapped:
        replacement = BulkDropout(child.p)
        replacement.train(child.training)
        setattr(parent, name, replacement)
    for config in configs:
        config._attn_implementation = ATTENTION
    try:
        yield
    finally:
        for config in configs:
            config._attn_implementation = "sdpa"
        for parent, name, child in swapped:
            child.train(getattr(parent, name).training)
            setattr(parent, name, child)
