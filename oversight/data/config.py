"""`load_dataset_from_config`: load the dataset a `data:` section names, and cut it down.

Every loader in `DATASETS` returns the full dataset; the steps shared by all sources
(class order, length filter, de-duplication, deterministic subsampling, validation) run
here, once, in that order.
"""

from __future__ import annotations

import numpy as np

from oversight.data.catalog import DATASETS, DataConfig
from oversight.data.dataset import TextDataset
from oversight.errors import ConfigError, DataError


def load_dataset_from_config(cfg: DataConfig) -> TextDataset:
    """Load `cfg.name`, apply the shared filters and subsample; the result is validated."""
    _check(cfg)
    ds = DATASETS.get(cfg.name)(cfg)
    if cfg.label_names:
        ds = ds.with_classes(cfg.label_names)
    ds = filter_lengths(ds, cfg.min_chars, cfg.max_chars, cfg.max_words)
    if cfg.dedup:
        ds = deduplicate(ds)
    if cfg.max_examples:
        ds = subsample(ds, cfg.max_examples, cfg.seed, cfg.balance)
    return ds.validate()


def _check(cfg: DataConfig) -> None:
    for key in ("max_examples", "min_chars", "max_chars", "max_words"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"data.{key} must be >= 0, got {getattr(cfg, key)}")
    if cfg.max_chars and cfg.min_chars > cfg.max_chars:
        raise ConfigError(f"data.min_chars={cfg.min_chars} exceeds data.max_chars={cfg.max_chars}")
    if len(set(cfg.label_names)) != len(cfg.label_names):
        raise ConfigError(f"data.label_names has repeated values: {cfg.label_names}")


def filter_lengths(ds: TextDataset, min_chars: int, max_chars: int, max_words: int) -> TextDataset:
    if not (min_chars or max_chars or max_words):
        return ds
    keep = [
        i
        for i, t in enumerate(ds.texts)
        if len(t) >= min_chars and (not max_chars or len(t) <= max_chars) and (not max_words or len(t.split()) <= max_words)
    ]
    if not keep:
        raise DataError(
            f"{ds.name}: no example left after the length filter (min_chars={min_chars}, max_chars={max_chars}, max_words={max_words})"
        )
    return ds.subset(keep)


def deduplicate(ds: TextDataset) -> TextDataset:
    """Keep the first copy of each text; drop every copy of a text seen with two labels."""
    first: dict[str, int] = {}
    conflicted: set[str] = set()
    for i, t in enumerate(ds.texts):
        j = first.setdefault(t, i)
        if ds.labels[j] != ds.labels[i]:
            conflicted.add(t)
    keep = [i for t, i in first.items() if t not in conflicted]
    if not keep:
        raise DataError(f"{ds.name}: no example left after dropping repeated texts ({len(conflicted)} distinct texts each "
                        "appear with two labels); set data.dedup=false to keep them")
    if len(keep) == len(ds):
        return ds
    return ds.subset(sorted(keep))


def class_quota(counts: np.ndarray, total: int, balance: bool) -> np.ndarray:
    """How many examples to take from each class so that they add up to `total`.

    balance: equal shares, filling from the smallest class up so that a class too small
    for its share hands the rest to the others (`total` wins over balance). Otherwise: proportional shares, rounding by
    largest remainder so the class ratio is kept as exactly as integers allow.
    """
    quota = np.zeros_like(counts)
    if balance:
        remaining = total
        order = sorted(range(len(counts)), key=lambda c: (counts[c], c))
        for left, c in zip(range(len(order), 0, -1), order, strict=True):
            quota[c] = min(counts[c], remaining // left)
            remaining -= quota[c]
        return quota
    exact = counts * (total / counts.sum())
    quota = np.floor(exact).astype(counts.dtype)
    # stable sort so ties break by class index, keeping the result deterministic
    for c in np.argsort(-(exact - quota), kind="stable")[: total - quota.sum()]:
        quota[c] += 1
    return quota


def subsample(ds: TextDataset, max_examples: int, seed: int, balance: bool) -> TextDataset:
    """At most `max_examples` examples, stratified by class, in a seeded random order."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(ds.labels, minlength=len(ds.classes))
    quota = class_quota(counts, min(max_examples, len(ds)), balance)
    picked = [rng.choice(np.flatnonzero(ds.labels == c), size=int(q), replace=False) for c, q in enumerate(quota) if q]
    # a random order, not class blocks: a caller that slices off the first k rows still
    # gets every class
    return ds.subset(rng.permutation(np.concatenate(picked)))
