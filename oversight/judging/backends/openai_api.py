"""A role on any OpenAI-compatible server: vLLM, SGLang, TGI, llama.cpp, `transformers serve`,
OpenAI itself or a gateway, through the `openai` client's chat completions.

Requests run `concurrency` at a time; a connection error, timeout, 429 or 5xx is retried with
backoff doubling from 1 s to 30 s, `max_retries` times, and any other error stops the run with the
server's one-line message. The API key is read from the environment variable `api_key_env` when a
request is made and is never written anywhere. Logprob verdicts read the first answer token's
`top_logprobs` (servers that give them); with `logprobs: false` the judge's verdicts are parsed
from its replies instead. Where a server continues a final assistant message (vLLM/SGLang
`continue_final_message`, llama.cpp's `llama-server`), `prefill: true` opens the reply with the
judge's verdict prefix, without its trailing space (the answer's first token carries it);
otherwise the prompt asks the model to begin its reply with it.

Stage keys hold the served model name and `revision` (the server is not asked), the sampling
settings, `logprobs` and `prefill`; where the server lives and how hard it is driven are not in
them, so moving to another server that serves the same model reuses every transcript. Below the
stages, every answer is kept in the shared response cache (oversight/judging/responses.py): a
crashed run, a changed item set or another experiment asks the server only what it never asked.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from oversight import progress
from oversight.errors import ConfigError, ModelError
from oversight.judging.backends import BACKENDS, BackendConfig, Usage, normalized, report
from oversight.judging.lm import Conversation, LMConfig
from oversight.judging.responses import ResponseCache
from oversight.keys import unkeyed

TOP_LOGPROBS = 20  # alternatives the server lists for the verdict token (OpenAI's maximum)
_UNPINNED_NOTED: set[str] = set()  # served models already told to have no backend.revision


@dataclass
class OpenAIConfig(BackendConfig):
    base_url: str = unkeyed("http://127.0.0.1:8000/v1")  # the server's OpenAI-compatible root (…/v1)
    api_key_env: str = unkeyed("")  # name of the environment variable holding the key (never the key), e.g. OPENAI_API_KEY; "" = no key ("EMPTY", what local servers accept)
    concurrency: int = unkeyed(8)  # requests in flight
    timeout_s: float = unkeyed(120.0)  # seconds before a request counts as failed (and is retried)
    max_retries: int = unkeyed(8)  # retries of a request after a connection error, timeout, 429 or 5xx
    logprobs: bool = True  # the server returns token logprobs (vLLM, SGLang, llama.cpp, OpenAI); false for servers that do not (transformers serve)
    prefill: bool = False  # the server continues a final assistant message (vLLM/SGLang continue_final_message, llama.cpp); logprob verdicts need it and logprobs
    revision: str = ""  # the served model's revision or snapshot, recorded in stage keys (the server is not asked)
    cache: bool = unkeyed(True)  # answer a request made before (same model, messages, sampling, seed) from the response cache
    cache_dir: str = unkeyed("")  # the response cache's folder; "" = $OVERSIGHT_CACHE/responses (shared by every run)

    def __post_init__(self) -> None:
        url = urlparse(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"backend openai: base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {self.base_url!r}")
        if url.username or url.password or url.query or url.fragment:
            raise ConfigError("backend openai: base_url must not hold credentials or a query; put the key in the variable named by api_key_env")
        if self.api_key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.api_key_env):
            raise ConfigError(f"backend openai: api_key_env names an environment variable (such as OPENAI_API_KEY), "
                              f"not a key; got a value of {len(self.api_key_env)} characters")
        if self.api_key_env and url.scheme == "http" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(f"backend openai: a key would travel unencrypted to {url.hostname}; use https or api_key_env=''")
        if self.concurrency < 1 or self.max_retries < 0 or not self.timeout_s > 0:
            raise ConfigError("backend openai: need concurrency >= 1, max_retries >= 0 and timeout_s > 0")


@BACKENDS.register("openai", OpenAIConfig)
class OpenAIBackend:
    """Any OpenAI-compatible chat-completions server (vLLM, SGLang, TGI, llama.cpp, transformers serve, OpenAI)."""

    def __init__(self, cfg: LMConfig, device: Any = "cpu", offline: bool | None = None) -> None:
        import openai

        self.cfg, self.api = cfg, cfg.backend
        self.usage = Usage()
        # the answer token is the first one read only when the server continues the verdict prefix itself
        self.scores_options = self.api.logprobs and self.api.prefill
        if not self.api.revision and cfg.model not in _UNPINNED_NOTED:  # once per model and process, not per stage
            _UNPINNED_NOTED.add(cfg.model)
            print(f"note: backend openai: {cfg.model} has no backend.revision; stage keys and the response cache know it by "
                  "name only, so set one whenever the weights behind that name change", flush=True)
        self.client = openai.OpenAI(base_url=self.api.base_url, api_key=(os.environ.get(self.api.api_key_env) if self.api.api_key_env else None) or "EMPTY",
                                    timeout=self.api.timeout_s, max_retries=0)  # retries are ours: counted and announced
        self.responses = ResponseCache(self.api.cache_dir) if self.api.cache else None
        self._lock = threading.Lock()  # usage counters are updated from the request threads
        self._stop = threading.Event()  # set by the first failed request: the others stop retrying

    @staticmethod
    def identity(cfg: LMConfig, offline: bool | None) -> str:
        return f"{cfg.model}@{cfg.backend.revision}" if cfg.backend.revision else cfg.model

    @staticmethod
    def check(cfg: LMConfig) -> None:
        if not cfg.model:
            raise ConfigError("backend openai: give the model name the server serves (model=...)")

    def generate(self, conversations: list[Conversation], seed: int = 0, max_new_tokens: int | None = None,
                 assistant_prefix: str = "") -> list[str]:
        started = time.perf_counter()
        before, cached = self.usage.completion_tokens, self.usage.cached
        sample = self.cfg.temperature > 0
        params = {"max_tokens": max_new_tokens or self.cfg.max_new_tokens, "temperature": self.cfg.temperature,
                  **({"top_p": self.cfg.top_p} if sample else {})}

        def one(i: int) -> str:
            messages = self._messages(conversations[i], assistant_prefix)
            # sampled: a seed drawn from the run seed and the conversation, so a reply does not depend on
            # its place in the batch; greedy: no seed, so any run asking the same thing shares the answer
            extra = {"seed": conversation_seed(seed, messages)} if sample else {}
            return _strip_prefix(self._request(messages, **params, **extra)["content"].strip(), assistant_prefix)

        replies = self._map(one, len(conversations), "generating")
        seconds = time.perf_counter() - started
        self.usage.seconds += seconds
        report(self.cfg.model, len(replies), self.usage.completion_tokens - before, seconds, self.usage.cached - cached)
        return replies

    def option_probs(self, conversations: list[Conversation], options: list[str], assistant_prefix: str = "") -> np.ndarray:
        if not self.api.logprobs:
            raise ModelError(f"backend openai: {self.cfg.model} is set up without logprobs (backend.logprobs=false)")

        started = time.perf_counter()

        def one(i: int) -> np.ndarray:
            answer = self._request(self._messages(conversations[i], assistant_prefix), max_tokens=1, temperature=0.0,
                                   logprobs=True, top_logprobs=TOP_LOGPROBS)
            if answer["top_logprobs"] is None:
                raise ModelError(f"backend openai: the server at {self.api.base_url} returned no logprobs; set "
                                 "backend.logprobs=false to parse verdicts from replies")
            return option_logprobs([tuple(t) for t in answer["top_logprobs"]], options)

        scores = np.stack(self._map(one, len(conversations), "scoring"))
        self.usage.seconds += time.perf_counter() - started
        missed = int((scores[:, 0] == scores[:, 1]).sum()) if len(options) == 2 else 0
        if missed:
            print(f"warning: backend openai: {missed} of {len(scores)} verdicts name neither answer among the top "
                  f"{TOP_LOGPROBS} tokens (scored 50/50)", flush=True)
        return normalized(scores)

    def _messages(self, conversation: Conversation, assistant_prefix: str) -> list[dict[str, str]]:
        if not assistant_prefix.strip():
            return conversation
        if self.api.prefill:  # without trailing spaces: the answer's first token carries its space (' sincere')
            return [*conversation, {"role": "assistant", "content": assistant_prefix.rstrip(" ")}]
        last = conversation[-1]
        asked = {**last, "content": f"{last['content']}\n\nBegin your reply with: {assistant_prefix.strip()}"}
        return [*conversation[:-1], asked]

    def _map(self, fn, n: int, what: str) -> list:
        bar = progress.bar(total=n, desc=f"{self.cfg.model} {what}", unit="reply")
        pool = ThreadPoolExecutor(max_workers=self.api.concurrency)
        self._stop.clear()
        try:
            futures = [pool.submit(fn, i) for i in range(n)]
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                bar.update(len(done))
                for future in done:
                    if future.exception() is not None:
                        raise future.exception()
            return [f.result() for f in futures]  # in input order
        finally:  # an error or Ctrl-C: requests not yet sent are cancelled, those retrying stop waiting
            self._stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()

    def _request(self, messages: list[dict[str, str]], **params: Any) -> dict[str, Any]:
        """One chat completion's answer (`content`, the first token's `top_logprobs` or None): from the
        response cache if this request was made before, else from the server, retried on errors it
        recovers from, and kept (unless empty)."""
        extra = {"continue_final_message": True, "add_generation_prompt": False} if self.api.prefill and messages[-1]["role"] == "assistant" else None
        request = {"backend": "openai", "model": self.identity(self.cfg, None), "messages": messages, "params": params, "extra": extra}
        if self.responses is not None and (answer := self.responses.get(request)) is not None:
            with self._lock:
                self.usage.cached += 1
            return answer
        answer = self._call(messages, extra, params)
        if self.responses is not None and (answer["content"] or answer["top_logprobs"]):
            self.responses.put(request, answer)
        return answer

    def _call(self, messages: list[dict[str, str]], extra: dict | None, params: dict[str, Any]) -> dict[str, Any]:
        import openai

        for attempt in range(self.api.max_retries + 1):
            try:
                response = self.client.chat.completions.create(model=self.cfg.model, messages=messages, extra_body=extra, **params)
            except openai.APIStatusError as err:
                if not _retryable(err) or attempt == self.api.max_retries or self._stop.is_set():
                    raise ModelError(f"backend openai: {self.api.base_url} refused the request ({err.status_code}, "
                                     f"attempt {attempt + 1}): {_short(err)}") from err
                self._back_off(attempt, err)
                continue
            except openai.APIConnectionError as err:  # refused, reset or timed out
                if attempt == self.api.max_retries or self._stop.is_set():
                    raise ModelError(f"backend openai: {self.api.base_url} failed {attempt + 1} times; last: {_short(err)}") from err
                self._back_off(attempt, err)
                continue
            choice, used = response.choices[0], response.usage
            content = getattr(choice.logprobs, "content", None)
            answer = {"content": choice.message.content or "",
                      # -inf would not survive JSON: a floor far below any listed alternative
                      "top_logprobs": [[t.token, max(t.logprob, -1e4)] for t in content[0].top_logprobs] if content else None,
                      "prompt_tokens": (used.prompt_tokens or 0) if used else 0,
                      "completion_tokens": (used.completion_tokens or 0) if used else 0}
            with self._lock:
                self.usage.calls += 1
                self.usage.prompt_tokens += answer["prompt_tokens"]
                self.usage.completion_tokens += answer["completion_tokens"]
            return answer
        raise AssertionError("unreachable")

    def _back_off(self, attempt: int, err: Exception) -> None:
        """Wait 1 s doubling to 30 s (or the server's Retry-After), unless another request has failed for good."""
        delay = min(30.0, 2.0 ** attempt)
        headers = getattr(getattr(err, "response", None), "headers", None) or {}
        if str(headers.get("retry-after", "")).replace(".", "", 1).isdigit():
            delay = min(60.0, float(headers["retry-after"]))
        print(f"backend openai: {_short(err)}; retry {attempt + 1}/{self.api.max_retries} in {delay:.0f} s", flush=True)
        with self._lock:
            self.usage.retries += 1
        self._stop.wait(delay)


def option_logprobs(top: list[tuple[str, float]], options: list[str]) -> np.ndarray:
    """Each option's log-probability as the reply's first token, from the server's top alternatives.

    A listed token counts for an option if, stripped and case-folded, it starts that option and no
    other (a token shared by two options tells them apart no better than chance). An option no
    listed token starts gets an upper bound on its own: the lowest listed log-probability, or the mass
    the listed ones leave, whichever is smaller.
    """
    keys = [o.strip().casefold() for o in options]
    listed = [lp for _, lp in top]
    rest = 1.0 - float(np.exp(listed).sum()) if listed else 1.0  # what the listed alternatives leave to all others
    floor = min(min(listed, default=0.0), math.log(max(rest, 1e-12)))  # no unlisted token can be likelier
    scores = np.full(len(options), -math.inf)
    for token, logprob in top:
        text = token.strip().casefold()
        starts = [k for k, key in enumerate(keys) if text and key.startswith(text)]
        if len(starts) == 1:
            scores[starts[0]] = np.logaddexp(scores[starts[0]], logprob)  # " positive" and "positive" both name it
    return np.where(np.isfinite(scores), scores, floor)


def _strip_prefix(reply: str, prefix: str) -> str:
    """The reply after the prefix the model was asked to begin with, if it did."""
    p = prefix.strip()
    return reply[len(p):].strip() if p and reply[:len(p)].casefold() == p.casefold() else reply


def conversation_seed(seed: int, messages: list[dict[str, str]]) -> int:
    """A sampling seed from the run seed and the conversation alone."""
    return int(hashlib.sha256(json.dumps([seed, messages]).encode()).hexdigest()[:8], 16)


def _retryable(err) -> bool:
    """Timeouts, conflicts, rate limits and server errors pass; an exhausted quota does not."""
    body = err.body if isinstance(getattr(err, "body", None), dict) else {}
    nested = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = body.get("code") or nested.get("code")
    return (err.status_code in (408, 409, 429) or err.status_code >= 500) and code != "insufficient_quota"


def _short(err: Exception) -> str:
    """The server's own words about a failed request, on one line."""
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        detail = body.get("detail") or body.get("message") or (error.get("message") if isinstance(error, dict) else error)
        text = str(detail or body)
    else:
        text = str(getattr(err, "message", None) or err)
    return " ".join(text.split())[:200]
