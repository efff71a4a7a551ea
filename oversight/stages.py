"""Content-addressed stage outputs: each stage runs once per distinct input, atomically.

A stage (train the supervisor, label, train the ceiling, ...) is keyed by a hash of exactly
the config that affects it plus the keys of the stages it reads. Its outputs live in
`<store>/<kind>/<key>/` and count only once `.complete` is written; work in progress sits in
`<kind>/<key>.partial/` (where resume checkpoints go) and is renamed into place when done. A
lock file serializes runs of a sweep that need the same stage, so it is computed once.
"""

from __future__ import annotations

import errno
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

from oversight.atomic import TEMP_SUFFIX, atomic_write_bytes, atomic_write_with, strict_json
from oversight.errors import CacheError, TrainingError
from oversight.hashing import file_sha256, sidecar_mismatch
from oversight.training import distributed as dist

STAGE_FORMAT = 2  # bump when stage outputs change meaning, to invalidate old caches


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
    atomic_write_with(path, lambda f: np.savez(f, **arrays))


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as err:  # noqa: BLE001 -- a bad zip, .npy header (TokenError), size (MemoryError): all one message
        raise CacheError(f"corrupt stage output {path}: {type(err).__name__}: {err}; delete {path.parent} to recompute") from err
    for name, value in arrays.items():  # np.load hands back a member that is not .npy data as raw bytes
        if not isinstance(value, np.ndarray):
            raise CacheError(f"corrupt stage output {path}: member {name!r} is not an array; delete {path.parent} to recompute")
    return arrays


def output_files(folder: Path) -> dict[str, str]:
    """sha256 of every file a stage wrote (its bookkeeping files aside)."""
    return {p.name: file_sha256(p) for p in sorted(folder.iterdir())
            if p.is_file() and p.name not in ("meta.json", ".complete")}


def integrity_problem(folder: Path, key: str) -> str | None:
    """Why a completed stage folder cannot be trusted, or None if every recorded file matches.

    `.complete` holds the sha256 of `meta.json` (whose numbers reach results), and `meta.json`
    the sha256 of every other file and the stage's own key.
    """
    if (problem := sidecar_mismatch(folder / "meta.json", folder / ".complete")) is not None:
        return problem
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"meta.json unreadable ({type(err).__name__})"
    files = meta.get("files") if isinstance(meta, dict) else None
    if not isinstance(files, dict) or not files:
        return "meta.json records no file hashes"
    if meta.get("key") != key:
        return f"meta.json belongs to stage {meta.get('key')!r}"
    for name, want in files.items():
        path = folder / str(name)
        if "/" in str(name) or not path.is_file():
            return f"{name} is missing"
        if file_sha256(path) != want:
            return f"{name} does not match its recorded sha256"
    return None


def check_finite(kind: str, arrays: dict[str, np.ndarray]) -> None:
    """A stage whose float outputs hold NaN or inf (a diverged model's predictions) is never committed."""
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).sum())
            raise TrainingError(f"stage {kind}: output {name!r} has {bad} non-finite values of {array.size}; not committed")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path`, opened without following a symlink and without truncating."""
    make_dir(path.parent)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # flock needs no write access
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise CacheError(f"lock file {path} is a symlink; refusing to follow it (delete it)") from err
        raise CacheError(f"cannot open lock file {path}: {err.strerror}") from err
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def make_dir(path: Path) -> None:
    """`mkdir -p`, refusing a symlink at the last level (checked again after the mkdir, so a link
    planted in between is caught too) and naming the folder if it cannot be made."""
    if not path.is_symlink():
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CacheError(f"cannot create folder {path}: {err.strerror or err}") from err
    if path.is_symlink():
        raise CacheError(f"{path} is a symlink; a store folder must be a real folder (delete the link)")


def remove(path: Path) -> None:
    """Delete a stage folder, or only the link if it is a symlink (never what it points to)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


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
        if dist.broadcast_object(key if main else None) != key:  # all ranks must mean the same stage
            raise CacheError(f"stage {kind}: ranks computed different keys (their configs or models differ); rank key {key}")
        with file_lock(self.root / kind / f"{key}.lock") if main else nullcontext():
            if self._decide(kind, key, main):
                return StageResult(kind, key, final, json.loads((final / "meta.json").read_text()), reused=True)
            work = final.with_name(f"{key}.partial")
            if main:
                remove(final)  # renamed but never marked complete, or failed its check
                if work.is_symlink():  # planted: resume state and outputs must not go where it points
                    print(f"warning: stage {kind}/{key}: {work.name} is a symlink; removed the link", flush=True)
                    remove(work)
                make_dir(work)
            dist.barrier()
            meta, arrays = compute(work)
            check_finite(kind, arrays)
            meta = dist.broadcast_object({"kind": kind, "key": key, "spec": spec, **meta})
            if main:
                save_arrays(work / "arrays.npz", arrays)
                for leftover in [*work.glob("*.ckpt"), *work.glob("*.ckpt.sha256"), *work.glob(f".*{TEMP_SUFFIX}")]:  # resume state, dead temps
                    leftover.unlink()
                meta["files"] = output_files(work)
                atomic_write_bytes(work / "meta.json", strict_json(meta).encode())
                atomic_write_bytes(work / ".complete", file_sha256(work / "meta.json").encode())
                os.replace(work, final)  # atomic: the stage appears whole or not at all
            dist.barrier()  # the others read the stage's files only once they are in place
        return StageResult(kind, key, final, meta, reused=False)

    def _decide(self, kind: str, key: str, main: bool) -> bool:
        """Rank 0's answer to "reuse?", given to every rank; an error there is raised on every rank."""
        answer: bool | str = False
        if main:
            try:
                answer = self._reusable(kind, key)
            except OSError as err:  # unreadable files: every rank stops, none waits on a broadcast
                answer = f"cannot read stage {self.path(kind, key)}: {err.strerror or err}"
        answer = dist.broadcast_object(answer if main else None)
        if isinstance(answer, str):
            raise CacheError(answer)
        return answer

    def _reusable(self, kind: str, key: str) -> bool:
        """A completed stage whose files all match their hashes; a failing one is announced (and recomputed)."""
        final = self.path(kind, key)
        if not (final / ".complete").exists():
            return False
        problem = "the stage folder is a symlink" if final.is_symlink() else integrity_problem(final, key)
        if problem is not None:
            print(f"warning: stage {kind}/{key}: {problem}; recomputing it", flush=True)
        return problem is None


def kept_steps(**stages: StageResult) -> dict[str, int]:
    """`<role>_kept_step` of each training stage: the step whose weights its selection rule kept."""
    return {f"{role}_kept_step": stage.meta.get("kept_step") for role, stage in stages.items()}
