"""An on-disk cache of LM responses shared by every run: a request answered once is never sent again.

A request is keyed by the sha256 of everything that decides its answer: the backend, the model
as stage keys know it (served name and revision), the messages, the sampling parameters and the
seed. Its answer (the reply, the first token's top logprobs if asked for, token counts) is one
JSON file, `<root>/<2 hex>/<sha256>.json`, written atomically, so runs sharing the cache need no
lock: two that race on one request both write the same answer. A rerun after a crash, a judge-only
change or an overlapping item set pays only for requests it has not made before. An entry that
does not parse or does not echo its own key is ignored and asked again (and overwritten).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from oversight.atomic import atomic_write_json
from oversight.paths import cache_root


def request_key(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ResponseCache:
    """`get(request)` → the stored answer or None; `put(request, answer)` stores it."""

    def __init__(self, root: str | Path = "") -> None:
        self.root = Path(root) if root else cache_root() / "responses"
        self.writable = True

    def _file(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, request: dict[str, Any]) -> dict[str, Any] | None:
        key = request_key(request)
        try:
            entry = json.loads(self._file(key).read_text())
        except (OSError, ValueError):
            return None
        return entry["answer"] if isinstance(entry, dict) and entry.get("key") == key and isinstance(entry.get("answer"), dict) else None

    def put(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        key = request_key(request)
        if not self.writable:
            return
        try:
            atomic_write_json(self._file(key), {"key": key, "answer": answer})
        except OSError as err:  # a read-only shared cache costs calls, never a run
            self.writable = False
            print(f"warning: response cache {self.root} is not writable ({err.strerror or err}); answers are not kept", flush=True)
