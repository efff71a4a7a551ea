"""Frozen-backbone features, computed once and cached on disk.

A linear probe never changes the backbone, so running the backbone every epoch (or for every
seed, loss or student of a sweep) repeats identical work. We pool each text's hidden states once
under inference mode, in length-sorted batches, and store the matrix keyed by
(model, texts, layer, pooling, max_length).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from oversight.atomic import atomic_write_bytes, atomic_write_with
from oversight.hashing import file_sha256
from oversight.training.batching import collate_tokens, sorted_order, tokenize
from oversight.training.classifier import backbone_states, load_backbone, pool, resolve_pooling
from oversight.training.config import ClassifierConfig


def feature_key(model_id: str, texts_fingerprint: str, cfg: ClassifierConfig) -> str:
    spec = {"model": model_id, "texts": texts_fingerprint, "layer": cfg.layer, "pooling": cfg.pooling, "max_length": cfg.max_length}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


@torch.inference_mode()
def compute_features(path: str, texts: list[str], cfg: ClassifierConfig, batch_size: int, device: torch.device, desc: str) -> np.ndarray:
    tokenizer, backbone = load_backbone(path)
    backbone.eval().to(device)
    how = resolve_pooling(cfg, backbone.config)
    tokens = tokenize(tokenizer, texts, cfg.max_length)
    out = np.zeros((len(texts), backbone.config.hidden_size), dtype=np.float32)
    for indices in tqdm(sorted_order(tokens.lengths, batch_size), desc=desc, unit="batch", leave=False):
        batch = {k: v.to(device) for k, v in collate_tokens(tokens, indices).items()}
        pooled = pool(backbone_states(backbone, batch, cfg.layer), batch["attention_mask"], how)
        out[indices] = pooled.float().cpu().numpy()
    return out


def cached_features(cache_dir: Path, model_id: str, path: str, texts: list[str], texts_fingerprint: str,
                    cfg: ClassifierConfig, batch_size: int, device: torch.device) -> np.ndarray:
    """Load the feature matrix for these texts from `cache_dir`, computing and saving it if absent.

    The matrix is saved with its sha256 beside it (`<key>.sha256`); a cached file that fails that
    check, or is not a finite float32 matrix with one row per text, is announced and recomputed.
    """
    file = Path(cache_dir) / f"{feature_key(model_id, texts_fingerprint, cfg)}.npy"
    if file.exists():
        problem = feature_problem(file, len(texts))
        if problem is None:
            return np.load(file, allow_pickle=False)
        print(f"warning: feature cache {file}: {problem}; recomputing it", flush=True)
    features = compute_features(path, texts, cfg, batch_size, device, desc="features")
    atomic_write_with(file, lambda f: np.save(f, features))  # a killed run never leaves half a matrix
    atomic_write_bytes(file.with_suffix(".sha256"), file_sha256(file).encode())
    return features


def feature_problem(file: Path, rows: int) -> str | None:
    """Why a cached feature file cannot be used, or None."""
    try:
        recorded = file.with_suffix(".sha256").read_text().strip()
    except OSError:
        return "no recorded sha256"
    if file_sha256(file) != recorded:
        return "does not match its recorded sha256"
    try:
        features = np.load(file, allow_pickle=False)
    except Exception as err:  # a bad header raises ValueError, SyntaxError or tokenize errors
        return f"unreadable ({type(err).__name__})"
    if features.dtype != np.float32 or features.ndim != 2 or features.shape[0] != rows:
        return f"holds {features.dtype} {features.shape}, not float32 with {rows} rows"
    if not np.isfinite(features).all():
        return "holds non-finite values"
    return None
