"""Where a language-model role runs: a registry of backends, each with its own config.

A role's `LMConfig` names the model and how it speaks; its `backend:` section picks where the
model runs and holds that backend's own settings:

    debater: {model: smollm2-135m, backend: {name: hf, batch_size: 32}}          # in this process
    debater: {model: Qwen/Qwen2.5-7B-Instruct,
              backend: {name: openai, base_url: "http://127.0.0.1:8000/v1"}}      # vLLM, SGLang, ...

A backend is one file here: a `BackendConfig` subclass and a class registered with
`@BACKENDS.register("name", ThatConfig)` that implements `LMBackend`. Heavy clients (torch,
transformers, openai) are imported when a backend is built, never when a config loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from oversight.registry import ComponentConfig, Registry

if TYPE_CHECKING:
    from oversight.judging.lm import Conversation, LMConfig


@dataclass
class BackendConfig(ComponentConfig):
    """A backend's section: `name` picks it; its own settings follow."""


@dataclass
class Usage:
    """What a role cost: calls (requests or forward batches), answers from the response cache, tokens in
    and out (of the calls made), retried calls, seconds."""

    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    seconds: float = 0.0

    def as_metrics(self, role: str) -> dict[str, float]:
        return {f"{role}_{k}": float(v) for k, v in vars(self).items()}


class LMBackend(Protocol):
    """A loaded role: generates replies and, where it can, scores fixed answers."""

    usage: Usage
    scores_options: bool  # option_probs reads the model's own probabilities (else verdicts are parsed from replies)

    def __init__(self, cfg: LMConfig, device: Any = "cpu", offline: bool | None = None) -> None: ...

    @staticmethod
    def identity(cfg: LMConfig, offline: bool | None) -> str:
        """The model as stage keys know it: its content hash, hub commit or served name and revision."""

    @staticmethod
    def check(cfg: LMConfig) -> None:
        """Fail at config load if the role cannot run on this backend (an unknown packaged name, ...)."""

    def generate(self, conversations: list[Conversation], seed: int = 0, max_new_tokens: int | None = None,
                 assistant_prefix: str = "") -> list[str]:
        """One reply per conversation, in input order, continuing after `assistant_prefix`."""

    def option_probs(self, conversations: list[Conversation], options: list[str], assistant_prefix: str = "") -> np.ndarray:
        """(n, len(options)) P(option | prompt), normalised over the options."""


BACKENDS: Registry[type] = Registry("LM backend", package="oversight.judging.backends", config=BackendConfig)


def normalized(scores: np.ndarray) -> np.ndarray:
    """Rows of log-scores as probabilities (a softmax over each row)."""
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True)


def report(model: str, replies: int, tokens: int, seconds: float, cached: int = 0) -> None:
    """The one line every generation call prints."""
    reused = f"; {cached} answered from the response cache" if cached else ""
    print(f"{model}: {replies} replies, {tokens} tokens in {seconds:.1f} s ({tokens / max(seconds, 1e-9):.0f} tokens/s){reused}", flush=True)
