"""Metrics of supervision transfer: accuracy, AUROC, agreement, PGR, and seed confidence intervals.

PGR (performance gap recovered, Burns et al. 2023) = (student - weak) / (ceiling - weak): 0 means
the student only matches its supervisor, 1 means weak supervision recovered the whole ceiling.
"""

from __future__ import annotations

import math

import numpy as np


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((np.asarray(probs).argmax(-1) == np.asarray(labels)).mean())


def test_metrics(prefix: str, probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """`<prefix>_acc` and `<prefix>_auroc` of one role's test predictions."""
    return {f"{prefix}_acc": accuracy(probs, labels), f"{prefix}_auroc": auroc(probs, labels)}


def agreement(probs_a: np.ndarray, probs_b: np.ndarray) -> float:
    """Fraction of examples where two predictors pick the same class."""
    return float((np.asarray(probs_a).argmax(-1) == np.asarray(probs_b).argmax(-1)).mean())


def auroc(probs: np.ndarray, labels: np.ndarray) -> float:
    """Binary AUROC of P(class 1); macro one-vs-rest for more classes. NaN if a class is absent."""
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels)
    n_classes = probs.shape[1]
    if len(np.unique(labels)) < 2:
        return float("nan")
    if n_classes == 2:
        return rank_auroc(probs[:, 1], labels == 1)
    return float(np.mean([rank_auroc(probs[:, c], labels == c) for c in np.unique(labels)]))


def rank_auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney U); NaN if a group is empty."""
    scores, positive = np.asarray(scores, dtype=np.float64), np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return float("nan")
    values, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    mid_rank = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based rank of each distinct value, averaged over its ties
    return float((mid_rank[inverse][positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def pgr(weak: float, student: float, ceiling: float) -> float:
    """Performance gap recovered; NaN when the ceiling does not beat the weak supervisor."""
    gap = ceiling - weak
    if gap <= 0:
        return float("nan")
    return (student - weak) / gap


def mean_ci95(values: list[float]) -> tuple[float, float, int]:
    """Mean and half-width of a Student-t 95% interval over seeds (NaNs dropped)."""
    from scipy import stats

    xs = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    if len(xs) == 0:
        return float("nan"), float("nan"), 0
    if len(xs) == 1:
        return float(xs[0]), float("nan"), 1
    half = stats.t.ppf(0.975, len(xs) - 1) * xs.std(ddof=1) / math.sqrt(len(xs))
    return float(xs.mean()), float(half), len(xs)


def bootstrap_ci(values: np.ndarray, reps: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% interval of the mean of per-item `values`, resampling items (NaN if reps=0 or empty)."""
    xs = np.asarray(values, dtype=np.float64)
    if reps <= 0 or len(xs) == 0:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(xs), size=(reps, len(xs)))
    means = xs[draws].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
