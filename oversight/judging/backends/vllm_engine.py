"""A role on vLLM's in-process engine (`vllm.LLM`) on this machine's GPU(s): no server to start.

For GPU users who want a role's throughput without an HTTP hop; the optional extra
`pip install 'oversight[vllm]'` (a CUDA machine), imported only when a role picks it. The model
is named as for `hf` (packaged short name, local folder or hub id) and keyed by content the same
way; the backend's name is in every stage key too, so moving a role between `hf` and `vllm`
computes its transcripts again. Prompts are rendered exactly as `hf` renders them (the
tokenizer's chat template, or plain lines), and decoded with the same settings: the role's
temperature and top_p, and the model's generation config's top_k and repetition penalty, which
hf's `generate` applies on its own. Sampling is seeded per conversation (the run seed and the
conversation's position), so a reply does not depend on how requests are batched. Fixed answers
are scored from the prompt log-probabilities of prompt + answer tokens, as `hf` scores them; that
takes a log-softmax over the vocabulary at every prompt position, memory the engine does not
reserve, so lower `gpu_memory_utilization` for a judge of long transcripts if it runs out. Roles
that share a model share one engine; roles on different models each start one, so set
`gpu_memory_utilization` for them to fit together. `experiments/gpu_check.sh` compares this
backend's verdict probabilities and greedy replies with `hf`'s on the same weights.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from oversight.errors import ConfigError, ModelError
from oversight.judging.backends import BACKENDS, BackendConfig, Usage, normalized, report
from oversight.judging.backends.hf import HFBackend, answer_tokens, causal_lm, check_chat_template, render, uses_template
from oversight.judging.lm import Conversation, LMConfig
from oversight.keys import unkeyed

INSTALL = "pip install 'oversight[vllm]' on a machine with an NVIDIA GPU"


@dataclass
class VLLMConfig(BackendConfig):
    dtype: str = "bfloat16"  # the engine's weights and activations: bfloat16 | float16 | float32 | auto
    chat_template: str = "auto"  # auto: use the tokenizer's template if it has one | on | off (plain "role: text"), as hf
    max_model_len: int = 0  # the context the engine reserves memory for (0 = the model's own)
    gpu_memory_utilization: float = unkeyed(0.85)  # share of each GPU's memory the engine may take (lower it when roles run different models)
    tensor_parallel_size: int = unkeyed(1)  # GPUs one engine spans

    def __post_init__(self) -> None:
        if self.dtype not in ("bfloat16", "float16", "float32", "auto"):
            raise ConfigError(f"backend vllm: dtype must be bfloat16 | float16 | float32 | auto, got {self.dtype!r}")
        check_chat_template("vllm", self.chat_template)
        if not 0 < self.gpu_memory_utilization <= 1 or self.tensor_parallel_size < 1 or self.max_model_len < 0:
            raise ConfigError("backend vllm: need 0 < gpu_memory_utilization <= 1, tensor_parallel_size >= 1, max_model_len >= 0")


_ENGINES: dict[tuple, Any] = {}  # (path, dtype, max_model_len) → vllm.LLM: roles sharing a model share one engine


@BACKENDS.register("vllm", VLLMConfig)
class VLLMBackend:
    """vLLM's in-process engine on this machine's GPU(s) (optional extra: oversight[vllm])."""

    scores_options = True

    def __init__(self, cfg: LMConfig, device: Any = "cuda", offline: bool | None = None) -> None:
        self.cfg, self.settings = cfg, cfg.backend
        self.usage = Usage()
        vllm = _import_vllm()
        resolved = causal_lm(cfg, offline)
        key = (resolved.path, self.settings.dtype, self.settings.max_model_len)
        if key not in _ENGINES:
            _ENGINES[key] = vllm.LLM(model=str(resolved.path), dtype=self.settings.dtype, max_model_len=self.settings.max_model_len or None,
                                     gpu_memory_utilization=self.settings.gpu_memory_utilization,
                                     tensor_parallel_size=self.settings.tensor_parallel_size, seed=0)
        self.engine = _ENGINES[key]
        self.tokenizer = self.engine.get_tokenizer()
        self.use_template = uses_template(self.tokenizer, self.settings.chat_template, cfg.model)
        self.top_k, self.repetition_penalty = model_decoding(resolved.path)

    identity = staticmethod(HFBackend.identity)  # the same weights, known by the same content

    @staticmethod
    def check(cfg: LMConfig) -> None:
        HFBackend.check(cfg)
        if importlib.util.find_spec("vllm") is None:
            raise ConfigError(f"role model {cfg.model!r} on backend vllm: vllm is not installed ({INSTALL}); "
                              "or serve the model and use backend openai")

    def generate(self, conversations: list[Conversation], seed: int = 0, max_new_tokens: int | None = None,
                 assistant_prefix: str = "") -> list[str]:
        """One reply per conversation, in input order (after `assistant_prefix`); sampling seeded per conversation."""
        vllm = _import_vllm()
        started = time.perf_counter()
        prompts = [render(self.tokenizer, self.use_template, c, assistant_prefix) for c in conversations]
        sample = self.cfg.temperature > 0
        params = [vllm.SamplingParams(max_tokens=max_new_tokens or self.cfg.max_new_tokens, temperature=self.cfg.temperature,
                                      top_p=self.cfg.top_p if sample else 1.0, seed=seed * 1_000_003 + i if sample else None,
                                      top_k=self.top_k if sample else -1, repetition_penalty=self.repetition_penalty)
                  for i in range(len(prompts))]
        outputs = self.engine.generate([{"prompt_token_ids": self._ids(p)} for p in prompts], params, use_tqdm=False)
        replies = [out.outputs[0].text.strip() for out in outputs]
        made = sum(len(out.outputs[0].token_ids) for out in outputs)
        self._count(sum(len(out.prompt_token_ids) for out in outputs), made, len(prompts))
        seconds = time.perf_counter() - started
        self.usage.seconds += seconds
        report(self.cfg.model, len(prompts), made, seconds)
        return replies

    def option_probs(self, conversations: list[Conversation], options: list[str], assistant_prefix: str = "") -> np.ndarray:
        """P(option | prompt) normalised over `options`, from each option's summed prompt log-probability after the prompt."""
        vllm = _import_vllm()
        started = time.perf_counter()
        if not conversations:
            return np.zeros((0, len(options)))
        prompts = [render(self.tokenizer, self.use_template, c, assistant_prefix) for c in conversations]
        option_ids = answer_tokens(self.tokenizer, prompts[0], assistant_prefix, options)
        prompt_ids = [self._ids(p) for p in prompts]
        rows = [(p, k) for p in range(len(prompt_ids)) for k in range(len(option_ids))]
        sequences = [prompt_ids[p] + option_ids[k] for p, k in rows]
        params = vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1)  # 1: the token there and the top one (0 meant none in early V1 engines)
        outputs = self.engine.generate([{"prompt_token_ids": ids} for ids in sequences], params, use_tqdm=False)
        scores = np.array([option_logprob(out.prompt_logprobs, ids, len(option_ids[k])) for out, ids, (_, k) in zip(outputs, sequences, rows)])
        self._count(sum(map(len, sequences)), 0, len(sequences))
        self.usage.seconds += time.perf_counter() - started
        return normalized(scores.reshape(len(prompt_ids), len(option_ids)))

    def _ids(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def _count(self, prompt_tokens: int, completion_tokens: int, calls: int) -> None:
        self.usage.calls += calls
        self.usage.prompt_tokens += prompt_tokens
        self.usage.completion_tokens += completion_tokens


def model_decoding(path) -> tuple[int, float]:
    """(top_k, repetition_penalty) from the model's generation config, which hf's `generate` applies
    on its own (top_k when sampling, the penalty always); vLLM takes only what it is given."""
    from transformers import GenerationConfig

    try:
        config = GenerationConfig.from_pretrained(path)
    except OSError:  # no generation_config.json: transformers' defaults, as hf uses them
        config = GenerationConfig()
    return int(config.top_k or -1), float(config.repetition_penalty or 1.0)


def option_logprob(prompt_logprobs: list, ids: list[int], n: int) -> float:
    """The summed log-probability of the last `n` tokens of `ids`, from vLLM's per-position prompt
    log-probabilities (a dict per position holding at least the token that is there)."""
    return float(sum(prompt_logprobs[pos][ids[pos]].logprob for pos in range(len(ids) - n, len(ids))))


def _import_vllm():
    try:
        import vllm
    except ImportError as err:
        raise ModelError(f"backend vllm: cannot import vllm ({INSTALL})") from err
    return vllm
