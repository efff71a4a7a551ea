"""Frozen-backbone features, computed once and cached on disk.

A linear probe never changes the backbone, so running the backbone every epoch (or for every
seed, loss or student of a sweep) repeats identical work. We pool each text's hidden states once
under inference mode, in length-sorted batches, and store the matrix keyed by
(model, texts, layer, pooling, max_length).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from oversight.errors import CacheError
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
    """Load the feature matrix for these texts from `cache_dir`, computing and saving it if absent."""
    file = Path(cache_dir) / f"{feature_key(model_id, texts_fingerprint, cfg)}.npy"
    if file.exists():
        try:
            features = np.load(file)
        except (ValueError, OSError) as err:
            raise CacheError(f"corrupt feature cache {file}: {err}; delete it to recompute") from err
        if features.shape[0] != len(texts):
            raise CacheError(f"feature cache {file} has {features.shape[0]} rows for {len(texts)} texts; delete it")
        return features
    features = compute_features(path, texts, cfg, batch_size, device, desc=f"features {model_id}")
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, features)
    os.replace(tmp, file)  # atomic: a killed run never leaves a half-written matrix behind
    return features
