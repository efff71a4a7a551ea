"""Content-addressed stage outputs: each stage runs once per distinct input, atomically.

A stage (train the supervisor, label, train the ceiling, ...) is keyed by a hash of exactly
the config that affects it plus the keys of the stages it reads. Its outputs live in
`<store>/<kind>/<key>/` and count only once `.complete` is written; work in progress sits in
`<kind>/<key>.partial/` (where resume checkpoints go) and is renamed into place when done. A
lock file serializes runs of a sweep that need the same stage, so it is computed once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oversight.atomic import strict_json
from oversight.errors import CacheError, TrainingError
from oversight.training import distributed as dist

STAGE_FORMAT = 1  # bump when stage outputs change meaning, to invalidate old caches


def stage_key(kind: str, spec: dict[str, Any]) -> str:
    payload = json.dumps({"kind": kind, "format": STAGE_FORMAT, "spec": spec}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def digest(array: np.ndarray) -> str:
    """A short hash of an array's bytes: how stage specs name index sets and targets."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


@dataclass
class StageResult:
    kind: str
    key: str
    path: Path
    meta: dict[str, Any]
    reused: bool

    def arrays(self) -> dict[str, np.ndarray]:
        return load_arrays(self.path / "arrays.npz")


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    np.savez(path, **arrays)


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, KeyError) as err:
        raise CacheError(f"corrupt stage output {path}: {err}; delete {path.parent} to recompute") from err


def check_finite(kind: str, arrays: dict[str, np.ndarray]) -> None:
    """A stage whose float outputs hold NaN or inf (a diverged model's predictions) is never committed."""
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).sum())
            raise TrainingError(f"stage {kind}: output {name!r} has {bad} non-finite values of {array.size}; not committed")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class StageStore:
    """Runs `compute(workdir) -> (meta, arrays)` once per (kind, spec); later calls load the outputs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def run(self, kind: str, spec: dict[str, Any],
            compute: Callable[[Path], tuple[dict[str, Any], dict[str, np.ndarray]]]) -> StageResult:
        key = stage_key(kind, spec)
        final = self.path(kind, key)
        # Several processes of one run (DDP) compute a stage together: rank 0 holds the lock and
        # decides, every rank runs `compute` (it has collectives), only rank 0 writes.
        main = dist.is_main()
        with file_lock(self.root / kind / f"{key}.lock") if main else nullcontext():
            if dist.broadcast_object((final / ".complete").exists() if main else None):
                return StageResult(kind, key, final, self._read_meta(final), reused=True)
            work = final.with_name(f"{key}.partial")
            if main:
                if final.exists():  # renamed but never marked complete: untrustworthy
                    shutil.rmtree(final)
                work.mkdir(parents=True, exist_ok=True)
            dist.barrier()
            meta, arrays = compute(work)
            check_finite(kind, arrays)
            meta = dist.broadcast_object({"kind": kind, "key": key, "spec": spec, **meta})
            if main:
                save_arrays(work / "arrays.npz", arrays)
                (work / "meta.json").write_text(strict_json(meta))
                for leftover in work.glob("*.ckpt"):  # resume checkpoints are useless once complete
                    leftover.unlink()
                (work / ".complete").touch()
                os.replace(work, final)  # atomic: the stage appears whole or not at all
            dist.barrier()  # the others read the stage's files only once they are in place
        return StageResult(kind, key, final, meta, reused=False)

    def _read_meta(self, path: Path) -> dict[str, Any]:
        try:
            return json.loads((path / "meta.json").read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise CacheError(f"corrupt stage metadata {path / 'meta.json'}: {err}; delete {path} to recompute") from err
