"""Which backbones pool their last token: decoders recognised from the config alone (GPT-2's
`GPT2LMHeadModel` included), encoders that also ship an LM head not mistaken for one."""

from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, GPT2Config, GPT2Model, GPTNeoXConfig, LlamaConfig, MPNetConfig, T5Config

from oversight.training.classifier import backbone_states, is_decoder, pool, resolve_pooling
from oversight.training.config import ClassifierConfig


@pytest.mark.parametrize("config, decoder", [
    (GPT2Config(), True),  # a fresh config: no architectures, known by its model type
    (GPT2Config(architectures=["GPT2LMHeadModel"]), True),  # what openai-community/gpt2's config.json says
    (GPTNeoXConfig(architectures=["GPTNeoXForCausalLM"]), True),  # Pythia
    (LlamaConfig(architectures=["LlamaForCausalLM"]), True),  # SmolLM2
    (BertConfig(architectures=["BertForMaskedLM"]), False),
    (BertConfig(architectures=["BertLMHeadModel"]), False),  # an encoder's LM head is not causal attention
    (BertConfig(is_decoder=True), True),
    (MPNetConfig(), False),
    (T5Config(), False),
])
def test_decoders_are_recognised_from_the_config(config, decoder):
    assert is_decoder(config) is decoder
    assert resolve_pooling(ClassifierConfig(pooling="auto"), config) == ("last" if decoder else "mean")


def test_a_gpt2_backbone_pools_each_rows_last_real_token():
    config = GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=16, architectures=["GPT2LMHeadModel"])
    torch.manual_seed(0)
    model = GPT2Model(config).eval()
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])  # right padding: the second row is 2 tokens long
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    batch = {"input_ids": ids, "attention_mask": mask}
    with torch.no_grad():
        pooled = pool(backbone_states(model, batch, -1), mask, resolve_pooling(ClassifierConfig(), config))
        alone = model(input_ids=ids[1:, :2]).last_hidden_state[0, -1]  # the short row on its own
    assert torch.allclose(pooled[1], alone, atol=1e-5)
