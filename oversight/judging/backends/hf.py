"""A role on a local Hugging Face causal LM, in this process: batched generation and option scoring.

The model is a packaged short name (`smollm2-135m`), a local folder or a hub id, resolved by
content for stage keys. Conversations are rendered with the tokenizer's chat template when it has
one (plain "role: text" lines otherwise); `option_probs` scores fixed answers by their
log-likelihood after the prompt, a verdict that can never fail to parse. Roles that share a model
load it once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from oversight import progress
from oversight.errors import ConfigError, ModelError
from oversight.judging.backends import BACKENDS, BackendConfig, Usage, normalized, report
from oversight.judging.lm import Conversation, LMConfig
from oversight.models.catalog import check_model_name


@dataclass
class HFConfig(BackendConfig):
    batch_size: int = 16  # conversations per generate/forward call (sorted by length to cut padding)
    chat_template: str = "auto"  # auto: use the tokenizer's template if it has one | on | off (plain "role: text")
    bf16: bool = True  # bf16 weights on CUDA; CPU always runs float32

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"backend hf: batch_size must be >= 1, got {self.batch_size}")
        check_chat_template("hf", self.chat_template)


_LOADED: dict[tuple, Any] = {}  # (path, device, dtype) → (model, tokenizer): roles sharing a model load it once


@BACKENDS.register("hf", HFConfig)
class HFBackend:
    """A local Hugging Face causal LM in this process (CPU or CUDA)."""

    scores_options = True

    def __init__(self, cfg: LMConfig, device: Any = "cpu", offline: bool | None = None) -> None:
        import torch

        self.cfg, self.hf = cfg, cfg.backend
        self.usage = Usage()
        self.device = torch.device(device)
        resolved = causal_lm(cfg, offline)
        dtype = torch.bfloat16 if (self.device.type == "cuda" and self.hf.bf16) else torch.float32
        key = (resolved.path, str(self.device), str(dtype))
        if key not in _LOADED:
            _LOADED[key] = _load(resolved.path, self.device, dtype)
        self.model, self.tokenizer = _LOADED[key]
        self.use_template = uses_template(self.tokenizer, self.hf.chat_template, cfg.model)

    @staticmethod
    def identity(cfg: LMConfig, offline: bool | None) -> str:
        from oversight.models import resolve_model

        return resolve_model(cfg.model, offline=offline).identity

    @staticmethod
    def check(cfg: LMConfig) -> None:
        check_model_name(cfg.model)

    def render(self, conversation: Conversation, assistant_prefix: str = "") -> str:
        return render(self.tokenizer, self.use_template, conversation, assistant_prefix)

    def generate(self, conversations: list[Conversation], seed: int = 0, max_new_tokens: int | None = None,
                 assistant_prefix: str = "") -> list[str]:
        """One reply per conversation, in input order (after `assistant_prefix`). Batches group similar lengths."""
        import torch

        prompts = [self.render(c, assistant_prefix) for c in conversations]
        tokens = max_new_tokens or self.cfg.max_new_tokens
        replies: list[str] = [""] * len(prompts)
        started, generated = time.perf_counter(), 0
        bar = progress.bar(total=len(prompts), desc=f"{self.cfg.model} generating", unit="reply")
        for batch in self._batches(prompts):
            enc = self.tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True,
                                 add_special_tokens=False).to(self.device)
            sample = self.cfg.temperature > 0
            if sample:  # HF sampling draws from the global RNG: seed it per batch for reproducible runs
                torch.manual_seed(seed * 1_000_003 + batch[0])
            with torch.inference_mode():
                out = self.model.generate(
                    **enc, max_new_tokens=tokens, do_sample=sample, pad_token_id=self.tokenizer.pad_token_id,
                    **({"temperature": self.cfg.temperature, "top_p": self.cfg.top_p} if sample else {"temperature": None, "top_p": None, "top_k": None}))
            new = out[:, enc["input_ids"].shape[1]:]
            for i, ids in zip(batch, new):
                replies[i] = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
            made = int((new != self.tokenizer.pad_token_id).sum())
            generated += made
            self._count(int(enc["attention_mask"].sum()), made)
            bar.update(len(batch))
            bar.set_postfix_str(f"{generated / (time.perf_counter() - started):.0f} tokens/s")
        bar.close()
        seconds = time.perf_counter() - started
        self.usage.seconds += seconds
        report(self.cfg.model, len(prompts), generated, seconds)
        return replies

    def option_probs(self, conversations: list[Conversation], options: list[str], assistant_prefix: str = "") -> np.ndarray:
        """P(option | prompt) normalized over `options`, from each option's summed token log-likelihood."""
        started = time.perf_counter()
        if not conversations:
            return np.zeros((0, len(options)))
        prompts = [self.render(c, assistant_prefix) for c in conversations]
        option_ids = answer_tokens(self.tokenizer, prompts[0], assistant_prefix, options)
        prompt_ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        if all(len(ids) == 1 for ids in option_ids):  # one forward per prompt: read the next-token logits
            first = [ids[0] for ids in option_ids]
            batches = self._batches(prompt_ids)
            scores = np.concatenate([self._last_logprobs(prompt_ids, batch)[:, first] for batch in batches])
            scores = scores[np.argsort(np.concatenate(batches))]
        else:  # prompt and option tokenized apart and joined, so the option's tokens are the same in every prompt
            scores = self._sequence_scores(prompt_ids, option_ids)
        self.usage.seconds += time.perf_counter() - started
        return normalized(scores)

    def _count(self, prompt_tokens: int, completion_tokens: int = 0) -> None:
        self.usage.calls += 1
        self.usage.prompt_tokens += prompt_tokens
        self.usage.completion_tokens += completion_tokens

    def _padded(self, sequences: list[list[int]], batch: list[int]):
        import torch

        width = max(len(sequences[i]) for i in batch)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(sequences[i])) + sequences[i] for i in batch], device=self.device)
        mask = torch.tensor([[0] * (width - len(sequences[i])) + [1] * len(sequences[i]) for i in batch], device=self.device)
        self._count(int(mask.sum()))
        return ids, mask

    def _last_logprobs(self, sequences: list[list[int]], batch: list[int]) -> np.ndarray:
        import torch

        ids, mask = self._padded(sequences, batch)
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask, logits_to_keep=1).logits[:, -1].float()
        return torch.log_softmax(logits, dim=-1).cpu().numpy()

    def _sequence_scores(self, prompt_ids: list[list[int]], option_ids: list[list[int]]) -> np.ndarray:
        """Summed log-likelihood of every option after every prompt, shape (prompts, options)."""
        import torch

        rows = [(p, k) for p in range(len(prompt_ids)) for k in range(len(option_ids))]
        sequences = [prompt_ids[p] + option_ids[k] for p, k in rows]
        scores = np.zeros(len(rows), dtype=np.float64)
        for batch in self._batches(sequences):
            ids, mask = self._padded(sequences, batch)
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
            for row, i in enumerate(batch):
                n = len(option_ids[rows[i][1]])
                scores[i] = logp[row, -n:].sum().item()  # left padding: the option is the last n tokens
        return scores.reshape(len(prompt_ids), len(option_ids))

    def _batches(self, items: list) -> list[list[int]]:
        order = sorted(range(len(items)), key=lambda i: len(items[i]), reverse=True)
        size = self.hf.batch_size
        return [order[i:i + size] for i in range(0, len(order), size)]


def causal_lm(cfg: LMConfig, offline: bool | None):
    """The role's model resolved (packaged name, folder or hub id); an encoder is refused."""
    from oversight.models import resolve_model

    resolved = resolve_model(cfg.model, offline=offline)
    if resolved.spec is not None and resolved.spec.family != "decoder":
        raise ModelError(f"{cfg.model!r} is an encoder; a debater, critic or LLM judge needs a causal LM")
    return resolved


def check_chat_template(backend: str, setting: str) -> None:
    if setting not in ("auto", "on", "off"):
        raise ConfigError(f"backend {backend}: chat_template must be auto | on | off, got {setting!r}")


def uses_template(tokenizer, setting: str, model: str) -> bool:
    """Whether prompts go through the tokenizer's chat template (`setting` auto | on | off)."""
    if setting == "on" and not tokenizer.chat_template:
        raise ModelError(f"{model!r} has no chat template (set backend.chat_template=auto or off)")
    return bool(tokenizer.chat_template) and setting != "off"


def render(tokenizer, use_template: bool, conversation: Conversation, assistant_prefix: str = "") -> str:
    """The prompt text: the conversation (in the tokenizer's chat template, or plain "role: text"
    lines), then the opening of the assistant's reply without its trailing spaces (the space before
    the next word is the next token's own, see `answer_tokens`)."""
    if use_template:
        text = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    else:
        text = "".join(f"{m['role']}: {m['content']}\n\n" for m in conversation) + "assistant:"
    return text + assistant_prefix.rstrip(" ")


def answer_tokens(tokenizer, prompt: str, assistant_prefix: str, options: list[str]) -> list[list[int]]:
    """Each answer's tokens as the model would write them right after `prompt` (which ends with the
    reply's opening): after a word, the answer's first token carries the space (' sincere', one
    token in a BPE vocabulary, not ' ' then 'since' + 're'). The prompt is tokenized with and without
    the answer and the answer is what the longer one adds; where a merge crosses that boundary, the
    answer is tokenized alone."""
    opening = assistant_prefix.rstrip(" ")
    space = " " if opening and not opening[-1].isspace() else ""
    context = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answers = []
    for option in options:
        joined = tokenizer(prompt + space + option.strip(), add_special_tokens=False)["input_ids"]
        ids = joined[len(context):] if joined[:len(context)] == context else tokenizer(space + option.strip(), add_special_tokens=False)["input_ids"]
        if not ids:
            raise ConfigError(f"an answer option tokenizes to nothing: {options}")
        answers.append(ids)
    return answers


def _load(path: str, device, dtype):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from oversight.models.activations import fused_activation_overrides

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **fused_activation_overrides(path)).to(device).eval()
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot load causal LM from {path!r}: {str(err).splitlines()[0]}") from err
    tokenizer.padding_side = "left"  # generation continues at the right edge of every row
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
