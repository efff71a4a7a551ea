"""A language model as a role (debater, consultant, critic, judge): which model, how it speaks, and
where it runs.

`LMConfig` names the model (a packaged short name such as `smollm2-135m`, a local folder, a hub id,
or the name a server serves it under) and how it speaks: greedy or sampled, tokens per turn. Its
`backend:` section picks where the model runs (oversight/judging/backends/: `hf` in this process,
`openai` on any OpenAI-compatible server). Conversations are lists of `{"role", "content"}`
messages. `connect` builds the role; `lm_identity` is what stage keys know the model by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oversight.errors import ConfigError
from oversight.judging.backends import BACKENDS, BackendConfig

if TYPE_CHECKING:
    from oversight.judging.backends import LMBackend

Conversation = list[dict[str, str]]

# How prompts are rendered and answers tokenized, in every stage key that holds a role: raised when
# that changes, so no transcript or verdict made the earlier way is reused. 2: a reply's opening
# ends before its trailing space and an answer's first token carries it (' sincere', not ' ' + 'since' + 're').
PROMPT_FORMAT = 2


@dataclass
class LMConfig:
    model: str = "smollm2-135m"  # packaged short name, local folder or hub id of a causal LM (backend hf), or the served model name (backend openai)
    max_new_tokens: int = 48  # tokens per generated turn
    temperature: float = 0.0  # 0 = greedy (deterministic); > 0 samples, seeded per call
    top_p: float = 1.0  # nucleus sampling mass when temperature > 0
    backend: BackendConfig = field(default_factory=lambda: BACKENDS.config("hf"))  # where the model runs and that backend's settings (`oversight list`)

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"LM {self.model!r}: max_new_tokens must be >= 1")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ConfigError(f"LM {self.model!r}: temperature must be >= 0 and top_p in (0, 1]")
        BACKENDS.get(self.backend.name).check(self)


def connect(cfg: LMConfig, device: Any = "cpu", offline: bool | None = None) -> LMBackend:
    """The role, ready to speak: its model loaded (hf) or its server reached (openai)."""
    return BACKENDS.get(cfg.backend.name)(cfg, device, offline)


def lm_identity(cfg: LMConfig, offline: bool | None) -> dict[str, str]:
    """The role's model for stage keys: the backend and the model by content (folder hash, hub
    commit) or, on a server, by its served name and stated revision."""
    return {"backend": cfg.backend.name, "model": BACKENDS.get(cfg.backend.name).identity(cfg, offline), "format": str(PROMPT_FORMAT)}
