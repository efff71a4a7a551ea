"""The fused LoRA forward (training/lora_forward.py) computes what peft's `lora.Linear` computes:
the same outputs and gradients on a decoder, dropout included; peft's own path wherever the plain
case does not hold; and every LoRA classifier a run builds uses it."""

from __future__ import annotations

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model
from peft.tuners.lora import layer as peft_lora
from transformers import LlamaConfig, LlamaModel

from oversight.training import lora_forward


def tiny_lora_decoder(dropout: float = 0.0, **lora) -> torch.nn.Module:
    torch.manual_seed(0)
    backbone = LlamaModel(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2))
    model = get_peft_model(backbone, LoraConfig(r=4, lora_alpha=8, lora_dropout=dropout, target_modules="all-linear", **lora))
    with torch.no_grad():  # peft starts B at zero, which would hide a wrong adapter term
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.1)
    return model


def outputs_and_grads(model, ids, seed: int = 0):
    torch.manual_seed(seed)  # the same dropout masks for both models
    model.zero_grad(set_to_none=True)
    out = model(input_ids=ids).last_hidden_state
    (out**2).sum().backward()
    return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_fused_forward_gives_peft_outputs_and_gradients(dropout):
    peft_model = tiny_lora_decoder(dropout).train()
    fused = copy.deepcopy(peft_model)
    assert lora_forward.fuse(fused) == 2 * 7  # q k v o gate up down in each layer
    assert all(type(m) is not peft_lora.Linear for m in fused.modules())
    ids = torch.randint(0, 64, (3, 5))
    want, want_grads = outputs_and_grads(peft_model, ids)
    got, got_grads = outputs_and_grads(fused, ids)
    assert torch.allclose(got, want, atol=1e-5)
    assert set(got_grads) == set(want_grads) and any("lora_A" in n for n in got_grads)
    for name, grad in want_grads.items():
        assert torch.allclose(got_grads[name], grad, atol=1e-5), name
    assert fused.state_dict().keys() == peft_model.state_dict().keys()


def test_fused_forward_under_bf16_autocast_matches_peft():
    peft_model = tiny_lora_decoder().eval()
    fused = copy.deepcopy(peft_model)
    lora_forward.fuse(fused)
    ids = torch.randint(0, 64, (2, 6))
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        want, got = peft_model(input_ids=ids).last_hidden_state, fused(input_ids=ids).last_hidden_state
    assert got.dtype == want.dtype and torch.allclose(got.float(), want.float(), atol=0.05)


def test_what_is_not_the_plain_case_runs_through_peft():
    fused = tiny_lora_decoder().eval()
    lora_forward.fuse(fused)
    ids = torch.randint(0, 64, (2, 4))
    with torch.no_grad():
        adapted = fused(input_ids=ids).last_hidden_state
        with fused.disable_adapter():  # disabled adapters: the base model alone
            base = fused(input_ids=ids).last_hidden_state
        fused.merge_adapter()  # merged into the base weights: one matmul, the same function
        merged = fused(input_ids=ids).last_hidden_state
        fused.unmerge_adapter()
    assert not torch.allclose(base, adapted, atol=1e-3) and torch.allclose(merged, adapted, atol=1e-5)
    layer = next(m for m in fused.modules() if isinstance(m, lora_forward.FusedLoraLinear))
    assert layer._plain_adapter((), {}) == "default" and layer._plain_adapter((), {"adapter_names": ["default"]}) is None
    with_bias = tiny_lora_decoder(lora_bias=True)  # a bias on B: peft's path
    lora_forward.fuse(with_bias)
    assert next(m for m in with_bias.modules() if isinstance(m, lora_forward.FusedLoraLinear))._plain_adapter((), {}) is None


def test_unfuse_restores_peft_layers():
    model = tiny_lora_decoder()
    lora_forward.fuse(model)
    assert lora_forward.unfuse(model) == 14 and all(type(m) is not lora_forward.FusedLoraLinear for m in model.modules())
