"""Frozen-backbone features, computed once per text and shared by every run on the machine.

A linear probe never changes the backbone, so running the backbone every epoch (or for every
seed, loss, student or out_dir of a sweep) repeats identical work. We pool each text's hidden
states once under inference mode, in length-sorted batches, and keep them in one store file per
(model content, layer, pooling, max_length) whose rows are keyed by the sha256 of each text. A
run asks for the texts it uses and only the ones the store lacks are computed, so a small split
costs a small extraction and a new out_dir or dataset reuses every text already seen.

The store lives under `$OVERSIGHT_CACHE/features/` (or `feature_cache=`); each file carries its
sha256 beside it and is checked for dtype, shape and finiteness, and a failing file is announced
and rebuilt. Writers merge under a lock, so concurrent runs only ever add rows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from oversight import progress
from oversight.atomic import atomic_write_bytes, atomic_write_with
from oversight.hashing import file_sha256, sidecar_mismatch
from oversight.stages import file_lock
from oversight.training.batching import TokenSource, tokenize
from oversight.training.classifier import classifier_on, load_backbone, resolve_pooling
from oversight.training.config import ClassifierConfig
from oversight.training.device import batch_tokens


def feature_key(model_id: str, cfg: ClassifierConfig) -> str:
    spec = {"model": model_id, "layer": cfg.layer, "pooling": cfg.pooling, "max_length": cfg.max_length, "format": 2}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def text_hashes(texts: list[str]) -> np.ndarray:
    """(n, 32) uint8: the sha256 of each text, what store rows are keyed by."""
    return np.frombuffer(b"".join(hashlib.sha256(t.encode("utf-8")).digest() for t in texts), dtype=np.uint8).reshape(-1, 32)


@torch.inference_mode()
def compute_features(path: str, texts: list[str], cfg: ClassifierConfig, batch_size: int, device: torch.device, desc: str) -> np.ndarray:
    tokenizer, backbone = load_backbone(path)
    reader = classifier_on(backbone, tokenizer, cfg, 1, resolve_pooling(cfg, backbone.config)).eval().to(device)  # its head unused
    source = TokenSource(tokenize(tokenizer, texts, cfg.max_length)).for_model(reader)  # packed if the backbone packs
    out = np.zeros((len(texts), backbone.config.hidden_size), dtype=np.float32)
    for indices in progress.bar(source.eval_batches(np.arange(len(texts)), batch_size, batch_tokens(device)), desc=desc, unit="batch"):
        out[indices] = reader.features(**{k: v.to(device) for k, v in source.collate(indices).items()}).float().cpu().numpy()
    return out


def cached_features(store: Path, model_id: str, path: str, texts: list[str], cfg: ClassifierConfig, batch_size: int,
                    device: torch.device, label: str) -> np.ndarray:
    """Features of `texts`, in order: read from the store, computing (and adding) only the texts it lacks."""
    file = Path(store) / f"{feature_key(model_id, cfg)}.npz"
    hashes = text_hashes(texts)
    known, rows = read_store(file)
    where = rows_of(hashes, known)
    missing = np.flatnonzero(where < 0)
    if len(missing):
        new_hashes, first = np.unique(hashes[missing], axis=0, return_index=True)
        new_texts = [texts[missing[i]] for i in first]
        if not progress.hiding():
            print(f"features {label}: computing {len(new_texts)} new texts ({len(texts) - len(missing)} of the {len(texts)} "
                  "asked for are cached)", flush=True)
        new_rows = compute_features(path, new_texts, cfg, batch_size, device, desc=f"features {label}")
        known, rows = add_to_store(file, new_hashes, new_rows)
        where = rows_of(hashes, known)
    return rows[where]


def rows_of(hashes: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The store row of each text hash, -1 where the store lacks it."""
    index = {h.tobytes(): i for i, h in enumerate(known)}
    return np.array([index.get(h.tobytes(), -1) for h in hashes], dtype=np.int64)


def read_store(file: Path, locked: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(text hashes (n, 32), rows (n, d)) of a store file; a missing or failing file reads as empty (announced).

    A file that fails is looked at again under the lock first: a writer replaces the file and then
    its sha256, and a reader between the two must not call that corruption.
    """
    if file.exists():
        problem, data = store_problem(file)
        if problem is not None and not locked:
            with file_lock(file.with_suffix(".lock")):
                problem, data = store_problem(file)
        if problem is None:
            return data["hashes"], data["features"]
        print(f"warning: feature store {file}: {problem}; rebuilding it", flush=True)
    return np.zeros((0, 32), dtype=np.uint8), np.zeros((0, 0), dtype=np.float32)


def store_problem(file: Path) -> tuple[str | None, dict[str, np.ndarray]]:
    """(why the file cannot be used or None, its arrays)."""
    if (problem := sidecar_mismatch(file, file.with_suffix(".sha256"))) is not None:
        return problem, {}
    try:
        with np.load(file, allow_pickle=False) as z:
            data = {k: z[k] for k in ("hashes", "features")}
    except Exception as err:  # a bad zip or .npy header raises several kinds
        return f"unreadable ({type(err).__name__})", {}
    hashes, features = data["hashes"], data["features"]
    if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != 32:
        return f"text keys are {hashes.dtype} {hashes.shape}, not (n, 32) uint8", {}
    if features.dtype != np.float32 or features.ndim != 2 or features.shape[0] != hashes.shape[0]:
        return f"holds {features.dtype} {features.shape} for {hashes.shape[0]} texts", {}
    if not np.isfinite(features).all():
        return "holds non-finite values", {}
    return None, data


def add_to_store(file: Path, hashes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge new rows into the store under its lock (another run may have added some meanwhile)."""
    with file_lock(file.with_suffix(".lock")):
        known, old = read_store(file, locked=True)
        fresh = rows_of(hashes, known) < 0
        all_hashes = np.concatenate([known, hashes[fresh]])
        all_rows = np.concatenate([old if len(known) else old.reshape(0, rows.shape[1]), rows[fresh].astype(np.float32)])
        atomic_write_with(file, lambda f: np.savez(f, hashes=all_hashes, features=all_rows))
        atomic_write_bytes(file.with_suffix(".sha256"), file_sha256(file).encode())
    return all_hashes, all_rows
