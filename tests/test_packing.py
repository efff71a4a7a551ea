"""Packed batches compute what padded batches compute: the layout by hand, the mask, and the
logits and gradients of encoders and decoders (with each one's position offset) against padding;
models that cannot pack are found out and pad."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import (
    BertConfig,
    BertModel,
    GPT2Config,
    GPT2Model,
    LlamaConfig,
    LlamaModel,
    MPNetConfig,
    MPNetModel,
    RobertaConfig,
    RobertaModel,
    T5Config,
    T5EncoderModel,
)

from oversight.data import data_config, load_dataset_from_config
from oversight.models import resolve_model
from oversight.training.batching import Tokenized, TokenSource, collate_tokens, tokenize
from oversight.training.classifier import TextClassifier, build_text_classifier
from oversight.training.config import ClassifierConfig
from oversight.training.packing import block_mask, collate_packed, packing_offset

SMALL = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def test_examples_are_placed_first_fit_decreasing_with_positions_restarting():
    tokens = Tokenized(ids=[[11, 12, 13, 14, 15], [21, 22, 23], [31, 32], [41, 42, 43, 44]], pad_id=0)
    batch = collate_packed(tokens, np.arange(4), position_offset=2)
    # width 5 (the longest); 5 → row 0, 4 → row 1, 3 → row 2 (4 + 3 > 5), 2 → row 2 after the 3
    assert batch["input_ids"].tolist() == [[11, 12, 13, 14, 15], [41, 42, 43, 44, 0], [21, 22, 23, 31, 32]]
    assert batch["position_ids"].tolist() == [[2, 3, 4, 5, 6], [2, 3, 4, 5, 2], [2, 3, 4, 2, 3]]
    assert batch["segment_ids"].tolist() == [[0, 0, 0, 0, 0], [3, 3, 3, 3, 4], [1, 1, 1, 2, 2]]  # 4 = padding
    assert batch["starts"].tolist() == [0, 10, 13, 5] and batch["ends"].tolist() == [4, 12, 14, 8]


def test_the_mask_lets_a_position_see_only_its_own_example():
    segments = torch.tensor([[0, 0, 1, 2]])  # two examples and one pad (segment 2 of 2 examples)
    full = block_mask(segments, causal=False)[0, 0].int().tolist()
    assert full == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    causal = block_mask(segments, causal=True)[0, 0].int().tolist()
    assert causal == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]


def tiny(kind: str):
    """A small random backbone, its pooling, whether it is causal, and the offset its positions start at."""
    layers = dict(num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    if kind == "bert":
        model, pooling, causal, offset = BertModel(BertConfig(vocab_size=100, hidden_size=32, **layers, **SMALL), add_pooling_layer=False), "mean", False, 0
    elif kind == "roberta":  # positions start after the pad id (pad_token_id=1 → 2)
        model, pooling, causal, offset = RobertaModel(RobertaConfig(vocab_size=100, hidden_size=32, max_position_embeddings=40, pad_token_id=1, **layers,
                                                                    **SMALL), add_pooling_layer=False), "cls", False, 2
    elif kind == "mpnet":  # eager attention (an additive mask), relative position buckets and RoBERTa-style positions
        model, pooling, causal, offset = MPNetModel(MPNetConfig(vocab_size=100, hidden_size=32, max_position_embeddings=40, pad_token_id=1, **layers,
                                                                **SMALL), add_pooling_layer=False), "mean", False, 2
    elif kind == "gpt2":
        model, pooling, causal, offset = GPT2Model(GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=40, resid_pdrop=0.0,
                                                              embd_pdrop=0.0, attn_pdrop=0.0)), "last", True, 0
    else:
        model, pooling, causal, offset = LlamaModel(LlamaConfig(vocab_size=100, hidden_size=32, num_key_value_heads=1, max_position_embeddings=40,
                                                                **layers)), "last", True, 0
    model.config._attn_implementation = "eager" if kind == "mpnet" else "sdpa"
    return model, pooling, causal, offset


@pytest.mark.parametrize("kind", ["bert", "roberta", "mpnet", "gpt2", "llama"])
def test_packed_logits_and_gradients_match_padded_ones(kind):
    torch.manual_seed(0)
    backbone, pooling, causal, offset = tiny(kind)
    model = TextClassifier(backbone, 3, pooling, -1, 0.0, causal=causal)
    assert packing_offset(model, pad_id=0) == offset
    rng = np.random.default_rng(0)
    tokens = Tokenized(ids=[rng.integers(3, 100, n).tolist() for n in (9, 3, 7, 2, 5, 5, 1)], pad_id=0)
    indices = np.array([4, 0, 6, 2, 1, 5, 3])
    packed, padded = collate_packed(tokens, indices, offset), collate_tokens(tokens, indices)
    assert packed["input_ids"].numel() < padded["input_ids"].numel()
    targets = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    results = []
    for batch in (padded, packed):
        model.zero_grad()
        logits = model(**batch)
        torch.nn.functional.cross_entropy(logits, targets).backward()
        results.append((logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}))
    (padded_logits, padded_grads), (packed_logits, packed_grads) = results
    assert torch.allclose(packed_logits, padded_logits, atol=1e-5)
    assert padded_grads.keys() == packed_grads.keys()
    for name, grad in padded_grads.items():
        assert torch.allclose(packed_grads[name], grad, atol=1e-5, rtol=1e-4), name


def test_models_that_would_compute_something_else_pad():
    torch.manual_seed(0)
    bert, pooling, causal, _ = tiny("bert")
    deaf = IgnoresPositions(bert.config)  # absolute positions counted from each row's start, whatever it is given
    assert packing_offset(TextClassifier(deaf, 2, pooling, -1, 0.0, causal=causal), pad_id=0) is None
    bert.config._attn_implementation = "flex_attention"  # a kernel that takes no 4D mask
    assert packing_offset(TextClassifier(bert, 2, pooling, -1, 0.0, causal=causal), pad_id=0) is None
    t5 = T5EncoderModel(T5Config(vocab_size=100, d_model=32, d_kv=16, d_ff=64, num_layers=1, num_heads=2, dropout_rate=0.0))
    t5.config._attn_implementation = "sdpa"  # relative positions only (i - j): packed examples are computed as alone
    assert packing_offset(TextClassifier(t5, 2, "mean", -1, 0.0), pad_id=0) == 0


class IgnoresPositions(BertModel):
    def forward(self, position_ids=None, **kwargs):
        return super().forward(**kwargs)


def test_a_packaged_model_packs_real_batches_into_fewer_positions():
    data = load_dataset_from_config(data_config("sarcasm", max_examples=400))
    tokenizer, model = build_text_classifier(ClassifierConfig(model="minilm-l3", mode="full"), resolve_model("minilm-l3").path, 2)
    assert model.pack_offset == 0
    _, padding = build_text_classifier(ClassifierConfig(model="minilm-l3", mode="full", packing=False), resolve_model("minilm-l3").path, 2)
    assert padding.pack_offset is None  # packing=false: padded batches, as before packing existed
    source = TokenSource(tokenize(tokenizer, data.texts, 128))
    packed_source = source.for_model(model)
    assert packed_source.pack_offset == 0 and source.for_model(padding) is source
    # random batches: headlines are short and alike, so length-grouped ones hold almost no padding to save
    batches = list(torch.randperm(len(data), generator=torch.Generator().manual_seed(0)).split(32))
    packed = sum(packed_source.collate(b)["input_ids"].numel() for b in batches)
    padded = sum(source.collate(b)["input_ids"].numel() for b in batches)
    real = int(source.tokens.lengths.sum())
    assert real <= packed < padded
    model.eval()
    with torch.no_grad():
        for b in batches[:3]:
            assert torch.allclose(model(**packed_source.collate(b)), model(**source.collate(b)), atol=1e-4)
