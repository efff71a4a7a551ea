"""Bulk-random-bit dropout (oversight/training/dropout.py) is nn.Dropout's function: its drop rate and
expectation, eval-mode identity, the attention path against SDPA, and the swap undone after training."""

from __future__ import annotations

import torch
from torch import nn

from oversight.training.dropout import ATTENTION, BulkDropout, attend, bulk_dropout, cpu_dropout, keep_scale


def test_the_drop_rate_is_p_and_the_expectation_is_the_input():
    torch.manual_seed(0)
    x = torch.ones(1_000_000)
    for p in (0.1, 0.5):
        scale = keep_scale(x, p)
        assert abs(float((scale == 0).float().mean()) - p) < 3e-3
        assert abs(float(scale.mean()) - 1.0) < 5e-3
        assert torch.unique(scale).numel() == 2


def test_eval_mode_and_p_zero_are_the_identity_and_gradients_flow_through_the_kept_elements():
    x = torch.randn(64, 8, requires_grad=True)
    assert bulk_dropout(x, 0.3, training=False) is x and bulk_dropout(x, 0.0) is x
    y = bulk_dropout(x, 0.3)
    y.sum().backward()
    kept = y.detach() != 0
    assert torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], 1 / (1 - round(0.3 * 65536) / 65536)))
    assert torch.all(x.grad[~kept] == 0)


def _attention_inputs(causal: bool):
    torch.manual_seed(1)
    q, k, v = (torch.randn(3, 4, 7, 16) for _ in range(3))
    mask = torch.ones(3, 1, 7, 7, dtype=torch.bool)
    mask[0, :, :, 5:] = False  # a padded row
    module = nn.Module()
    module.is_causal = causal
    module.train()
    return module, q, k, v, mask


def test_attend_computes_sdpas_attention_when_nothing_is_dropped():
    for causal in (False, True):
        module, q, k, v, mask = _attention_inputs(causal)
        expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=None if causal else mask,
                                                                    is_causal=causal).transpose(1, 2)
        # p rounds to zero dropped lanes: the math path runs with a multiplier of exactly 1
        out, _ = attend(module, q, k, v, None if causal else mask, dropout=1e-9)
        assert torch.allclose(out, expected, atol=1e-5)


def test_cpu_dropout_swaps_while_training_and_restores_after():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=64), add_pooling_layer=False)
    model.config._attn_implementation = "sdpa"
    ids = torch.randint(0, 50, (2, 9))
    model.eval()
    before = model(input_ids=ids).last_hidden_state
    originals = [m for m in model.modules() if type(m) is nn.Dropout]
    with cpu_dropout(model, torch.device("cpu")):
        assert model.config._attn_implementation == ATTENTION
        assert not any(type(m) is nn.Dropout for m in model.modules())
        assert sum(isinstance(m, BulkDropout) for m in model.modules()) == len(originals)
        assert torch.allclose(model(input_ids=ids).last_hidden_state, before, atol=1e-6)  # eval: nothing dropped
        model.train()
        trained = model(input_ids=ids).last_hidden_state
        trained.sum().backward()
        assert not torch.allclose(trained, before)
    assert model.config._attn_implementation == "sdpa"
    assert [m for m in model.modules() if type(m) is nn.Dropout] == originals and all(m.training for m in originals)


def _saved_bytes(fn):
    """Output of `fn()` and the bytes autograd keeps for its backward."""
    sizes = []

    def pack(t):
        sizes.append(t.untyped_storage().nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(sizes)


def test_dropped_attention_has_autograds_gradients_and_keeps_half_the_memory():
    from oversight.training.dropout import DroppedAttention

    torch.manual_seed(2)
    scores = torch.randn(4, 3, 32, 32, dtype=torch.float64, requires_grad=True)
    value = torch.randn(4, 3, 32, 8, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(4, 3, 32, 8, dtype=torch.float64)

    def autograd_path():  # what attend computed before: autograd through softmax, multiplier and matmul
        probs = torch.softmax(scores, -1)
        return torch.matmul(probs * keep_scale(probs, 0.3), value)

    torch.manual_seed(7)
    expected, autograd_bytes = _saved_bytes(autograd_path)
    expected_grads = torch.autograd.grad((expected * upstream).sum(), (scores, value))
    torch.manual_seed(7)  # the same random lanes
    out, fused_bytes = _saved_bytes(lambda: DroppedAttention.apply(scores, value, 0.3))
    grads = torch.autograd.grad((out * upstream).sum(), (scores, value))
    assert torch.equal(out, expected)
    for got, want in zip(grads, expected_grads):
        assert torch.allclose(got, want, rtol=1e-10, atol=1e-12)
    weights = scores.numel()
    assert autograd_bytes >= 3 * 8 * weights  # probabilities, multiplier, dropped probabilities (float64 here)
    assert fused_bytes <= 8 * weights + 2 * weights + value.numel() * 8  # probabilities, 2-byte lanes, the values


def test_dropped_attention_under_bf16_autocast_matches_fp32_within_rounding():
    from oversight.training.dropout import DroppedAttention

    torch.manual_seed(3)
    query, key = torch.randn(2, 2, 16, 8, requires_grad=True), torch.randn(2, 2, 16, 8, requires_grad=True)
    value = torch.randn(2, 2, 16, 8, requires_grad=True)
    results = []
    for bf16 in (False, True):
        torch.manual_seed(9)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # scores and values come out of matmuls, as in a model
            scores, values = torch.matmul(query, key.transpose(-2, -1)), torch.matmul(value, torch.eye(8))
            assert scores.dtype == (torch.bfloat16 if bf16 else torch.float32)
            out = DroppedAttention.apply(scores, values, 0.1)
        results.append((out.float(), *torch.autograd.grad(out.float().sum(), (query, key, value))))
    for fp32, bf16 in zip(*results):
        assert bf16.dtype == torch.float32 and torch.allclose(fp32, bf16, atol=0.1, rtol=0.05)
