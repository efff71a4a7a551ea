"""A model's identity is its content, so a cache keyed by it can never reuse another model's work.

Replacing the weights in a local folder, upgrading a weight package or moving a hub branch to a
new commit changes the identity, and with it every feature and stage key built on the model:
- a local folder (also a materialized packaged model): sha256 over every file's relative path and
  sha256, hidden files aside; file hashes are cached by (path, size, mtime, inode, ctime) under
  `$OVERSIGHT_CACHE/file-hashes.json`, so a model is read in full only when it changes;
- a Hugging Face snapshot (what a hub id resolves to, online or from the HF cache): its repo id and
  the commit the snapshot folder is named after, which the hub already content-addresses.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from oversight.atomic import atomic_write_json
from oversight.hashing import file_sha256
from oversight.paths import cache_root


def hub_snapshot_commit(folder: Path) -> str | None:
    """The commit of a `.../models--org--name/snapshots/<commit>` folder, else None."""
    folder = Path(folder)
    commit = folder.name
    if folder.parent.name == "snapshots" and folder.parent.parent.name.startswith("models--") and len(commit) == 40:
        return commit if all(c in "0123456789abcdef" for c in commit) else None
    return None


def folder_identity(folder: Path) -> str:
    """`sha256:<hex>` over the folder's files (relative path and content hash of each)."""
    folder = Path(folder).resolve()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    known = _load_hash_cache()
    overall = hashlib.sha256()
    changed = False
    for path in files:
        real = path.resolve()  # HF snapshots symlink into blobs/
        stat = real.stat()
        # ctime too: an in-place edit followed by `touch -r` restores mtime, but no user can set ctime
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns]
        entry = known.get(str(real))
        if not (isinstance(entry, list) and len(entry) == 5 and entry[:4] == stamp and isinstance(entry[4], str)):
            entry = [*stamp, file_sha256(real)]
            known[str(real)] = entry
            changed = True
        overall.update(f"{path.relative_to(folder).as_posix()}\0{entry[4]}\n".encode())
    if changed:
        _save_hash_cache(known)
    return f"sha256:{overall.hexdigest()}"


def model_identity(path: str, hub_id: str, local: bool) -> str:
    """What stage keys name a resolved model by (see the module docstring)."""
    if not local:
        return f"hub:{hub_id}"  # unreachable in practice: online ids are resolved to a snapshot first
    commit = hub_snapshot_commit(Path(path))
    if commit is not None:
        return f"hub:{hub_id}@{commit}"
    return folder_identity(Path(path))


def _hash_cache_file() -> Path:
    return cache_root() / "file-hashes.json"


def _load_hash_cache() -> dict[str, list]:
    try:
        data = json.loads(_hash_cache_file().read_text())
    except (OSError, ValueError):
        return {}  # absent or corrupt: every file is hashed again, which is only slower
    return data if isinstance(data, dict) else {}


def _save_hash_cache(known: dict[str, list]) -> None:
    try:
        atomic_write_json(_hash_cache_file(), known)
    except OSError:  # a read-only cache dir costs speed, never correctness
        pass

