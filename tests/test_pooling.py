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


def test_gpt2_loads_with_its_gelu_as_one_op_and_the_same_outputs(tmp_path):
    from transformers import AutoModel, AutoTokenizer, GPT2LMHeadModel

    from oversight.models import resolve_model
    from oversight.models.activations import fused_activation_overrides
    from oversight.training.classifier import load_backbone

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("minilm-l3").path)  # any tokenizer: the check is the model's
    config = GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=len(tokenizer), n_positions=64, activation_function="gelu_new")
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    assert fused_activation_overrides(str(tmp_path)) == {"activation_function": "gelu_pytorch_tanh"}
    _, fused = load_backbone(str(tmp_path))
    spelled_out = AutoModel.from_pretrained(tmp_path).eval()
    assert fused.config.activation_function == "gelu_pytorch_tanh" and spelled_out.config.activation_function == "gelu_new"
    assert resolve_pooling(ClassifierConfig(), fused.config) == "last"  # its config.json names GPT2LMHeadModel
    batch = tokenizer(["a short review", "a longer review that says rather more"], return_tensors="pt", padding=True)
    with torch.no_grad():
        a = fused.eval()(**batch).last_hidden_state
        b = spelled_out(**batch).last_hidden_state
    assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()


@pytest.mark.parametrize("arch", ["gpt2", "bert", "llama"])
def test_every_layers_state_is_pooled_as_the_head_reads_its_own(arch):
    """What internals-based detectors read: layer_features[:, k] is what a head on layer k would read,
    the last entry the default head's, for a decoder (last token) and an encoder (mean)."""
    from transformers import BertModel

    from oversight.training.classifier import TextClassifier

    torch.manual_seed(0)
    if arch == "gpt2":
        backbone, pooling = GPT2Model(GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=16)), "last"
    elif arch == "llama":  # SmolLM2's architecture: the last entry must be after the final norm, as the head reads it
        from transformers import LlamaModel

        backbone, pooling = LlamaModel(LlamaConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                                                   vocab_size=100, max_position_embeddings=16)), "last"
    else:
        backbone, pooling = BertModel(BertConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                                                 vocab_size=100, max_position_embeddings=16)), "mean"
    ids, mask = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]]), torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    with torch.no_grad():
        every = TextClassifier(backbone, 2, pooling, -1, 0.0).eval().layer_features(input_ids=ids, attention_mask=mask)
        assert every.shape == (2, 3, 32)  # embeddings and two layers
        for layer in (-1, 1):
            head = TextClassifier(backbone, 2, pooling, layer, 0.0).eval().features(input_ids=ids, attention_mask=mask)
            assert torch.allclose(every[:, layer], head, atol=1e-6)


def test_lora_defaults_are_eleutherai_w2s_settings_on_every_projection_of_a_decoder():
    """EleutherAI/w2s trains `LoraConfig(target_modules=<the 7 projections>)`: peft's r 8, alpha 8, no dropout."""
    from oversight.models import resolve_model
    from oversight.training.classifier import build_text_classifier

    _, model = build_text_classifier(ClassifierConfig(model="smollm2-135m", mode="lora"), resolve_model("smollm2-135m").path, 2)
    lora = model.backbone.peft_config["default"]
    assert (lora.r, lora.lora_alpha, lora.lora_dropout) == (8, 8, 0.0)
    adapted = {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name, _ in model.named_parameters() if ".lora_A" in name}
    assert adapted == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert all("lora_" in name or name.startswith("head") for name in trainable), sorted(trainable)[:5]
    from oversight.training.lora_forward import FusedLoraLinear  # a run trains the fused forward

    assert sum(isinstance(m, FusedLoraLinear) for m in model.modules()) == 7 * model.backbone.config.num_hidden_layers
