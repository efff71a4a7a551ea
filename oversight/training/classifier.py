"""A classification head on any Hugging Face backbone, trained as a probe, fully, or with LoRA.

probe: the backbone is frozen, so its pooled features are computed once (see features.py) and
       only a linear head trains on them;
full:  every weight trains; lora: low-rank adapters (peft) on the backbone's linear layers.
The same pooling (mean over tokens for encoders, last token for decoders) is used in all modes.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from oversight.errors import ModelError
from oversight.training.batching import pad_token_id
from oversight.training.config import ClassifierConfig
from oversight.training.packing import block_mask, packing_offset, pool_packed

CAUSAL_HEADS = ("ForCausalLM", "LMHeadModel")  # LlamaForCausalLM, GPT2LMHeadModel, GPTNeoXForCausalLM, ...


def is_decoder(config) -> bool:
    """Whether a backbone attends causally (so its last token has read the whole text).

    From the config alone: `is_decoder`, a causal-LM architecture name (`*ForCausalLM` and GPT-2's
    `*LMHeadModel`; BERT's `BertLMHeadModel` only counts with is_decoder), or a model type that
    transformers knows only as a causal LM (gpt2, llama, qwen2, ...; not bert, which is also masked).
    """
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES

    if getattr(config, "is_encoder_decoder", False):
        return False
    if getattr(config, "is_decoder", False):
        return True
    model_type = getattr(config, "model_type", "")
    if model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES:  # an encoder (BERT-likes also ship an LM head)
        return False
    archs = getattr(config, "architectures", None) or []
    return any(a.endswith(CAUSAL_HEADS) for a in archs) or model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES


def resolve_pooling(cfg: ClassifierConfig, model_config) -> str:
    if cfg.pooling != "auto":
        return cfg.pooling
    return "last" if is_decoder(model_config) else "mean"


def load_backbone(path: str, dtype: torch.dtype = torch.float32):
    """Tokenizer and base model (no task head) from a folder or hub id."""
    from transformers import AutoModel, AutoTokenizer

    from oversight.models.activations import fused_activation_overrides

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        fused = fused_activation_overrides(path)  # GPT-2's gelu_new as one op
        try:  # SDPA fuses attention where the architecture supports it
            model = AutoModel.from_pretrained(path, dtype=dtype, attn_implementation="sdpa", **fused)
        except (ValueError, ImportError):
            model = AutoModel.from_pretrained(path, dtype=dtype, **fused)
    except OSError as err:
        raise ModelError(f"cannot load model from {path!r}: {str(err).splitlines()[0]}") from err
    return tokenizer, model


def pool(hidden: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """[B, T, H] states → [B, H]; the mask excludes padding from means and picks the last real token."""
    if how == "cls":
        return hidden[:, 0]
    if how == "last":
        last = mask.sum(1).clamp_min(1) - 1  # right padding: last real token
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)


def backbone_states(backbone: nn.Module, batch: dict[str, torch.Tensor], layer: int) -> torch.Tensor:
    if layer == -1:
        return backbone(**batch).last_hidden_state
    return backbone(**batch, output_hidden_states=True).hidden_states[layer]


class TextClassifier(nn.Module):
    """backbone → pooled state → dropout → linear head; forward(**batch) → logits.

    A batch is padded (input_ids, attention_mask) or packed (`packing.collate_packed`: input_ids,
    position_ids, segment_ids, starts, ends). `pack_offset` is where this model's positions start
    when it takes packed batches, None when it does not (`packing.packing_offset`, set at build).
    """

    def __init__(self, backbone: nn.Module, n_classes: int, pooling: str, layer: int, dropout: float, causal: bool = False) -> None:
        super().__init__()
        self.backbone = backbone
        self.pooling, self.layer, self.causal = pooling, layer, causal
        self.pack_offset: int | None = None
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(backbone.config.hidden_size, n_classes)

    def _inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if "segment_ids" not in batch:
            return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        mask = block_mask(batch["segment_ids"], self.causal)
        if self.backbone.config._attn_implementation == "eager":  # eager attention adds its mask to the scores
            dtype = self.head.weight.dtype
            mask = torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(~mask, torch.finfo(dtype).min)
        return {"input_ids": batch["input_ids"], "position_ids": batch["position_ids"], "attention_mask": mask}

    def _pool(self, states: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if "segment_ids" in batch:
            return pool_packed(states, batch["segment_ids"], batch["starts"], batch["ends"], self.pooling)
        return pool(states, batch["attention_mask"], self.pooling)

    def features(self, **batch: torch.Tensor) -> torch.Tensor:
        """The pooled state the head reads, [B, H]."""
        return self._pool(backbone_states(self.backbone, self._inputs(batch), self.layer), batch)

    def layer_features(self, **batch: torch.Tensor) -> torch.Tensor:
        """Every layer's state pooled the same way (the embeddings first, the last layer last), [B, L+1, H]."""
        hidden = self.backbone(**self._inputs(batch), output_hidden_states=True).hidden_states
        return torch.stack([self._pool(h, batch) for h in hidden], 1)

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        pooled = self.features(**batch)
        return self.head(self.dropout(pooled.to(self.head.weight.dtype)))


class FeatureHead(nn.Module):
    """Linear probe on standardized frozen features; forward(features) → logits."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, n_classes: int, dropout: float) -> None:
        super().__init__()
        # Standardizing makes one learning rate fit every backbone's feature scale.
        self.register_buffer("mean", mean.float())
        self.register_buffer("std", std.float().clamp_min(1e-6))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(mean.shape[0], n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout((features - self.mean) / self.std))


def build_feature_head(features: torch.Tensor, n_classes: int, dropout: float) -> FeatureHead:
    return FeatureHead(features.mean(0), features.std(0), n_classes, dropout)


def enable_checkpointing(backbone: nn.Module) -> None:
    """Recompute activations in backward; transformers ≥ 5 renamed the switch (the old name goes in v6)."""
    for name in ("activation_checkpointing_enable", "gradient_checkpointing_enable"):
        if hasattr(backbone, name):
            getattr(backbone, name)()
            return


def build_text_classifier(cfg: ClassifierConfig, path: str, n_classes: int):
    """Tokenizer and a trainable TextClassifier for mode full or lora."""
    tokenizer, backbone = load_backbone(path)
    pooling = resolve_pooling(cfg, backbone.config)
    if cfg.gradient_checkpointing:
        enable_checkpointing(backbone)
    if cfg.mode == "lora":
        from peft import LoraConfig, get_peft_model

        from oversight.training import lora_forward

        lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, target_modules="all-linear")
        with warnings.catch_warnings():  # peft asks for transformers' old checkpointing name (a FutureWarning per model)
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            backbone = get_peft_model(backbone, lora)
        lora_forward.fuse(backbone)  # the same layers and weights, the adapter's sum folded into one GEMM
    if backbone.config.pad_token_id is None and tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, classifier_on(backbone, tokenizer, cfg, n_classes, pooling)


def classifier_on(backbone: nn.Module, tokenizer, cfg: ClassifierConfig, n_classes: int, pooling: str) -> TextClassifier:
    """A `TextClassifier` reading `backbone` as `cfg` says, packing batches if `cfg.packing` and the model computes the same packed."""
    model = TextClassifier(backbone, n_classes, pooling, cfg.layer, cfg.head_dropout, causal=is_decoder(backbone.config))
    if cfg.packing:
        model.pack_offset = packing_offset(model, pad_token_id(tokenizer))
    return model
