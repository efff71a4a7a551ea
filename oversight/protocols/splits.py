"""Splits: W2S's A / B / test (`make_split`), and the protocols whose data layout differs from it.

`difficulty_split` (easy-to-hard, Hase et al. 2024): bands by difficulty percentile, a hard test
slice fixed by the data seed, easy and hard training sets drawn per run seed.
`chain_split` (bootstrapping, Burns et al. 2023): W2S's test and A, then one disjoint chunk per
chain link, so no model labels data it trained on. Both are deterministic and disjoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oversight.errors import ConfigError, DataError


@dataclass
class DifficultySplit:
    easy_pool: np.ndarray  # every example in the bottom `easy_pct` percent of difficulty
    hard_pool: np.ndarray  # every example in the top `hard_pct` percent
    easy_train: np.ndarray  # drawn from easy_pool per seed
    hard_train: np.ndarray  # drawn from hard_pool minus hard_test per seed
    hard_test: np.ndarray  # drawn from hard_pool by the data seed: the same for every run seed


def difficulty_bands(scores: np.ndarray, easy_pct: float, hard_pct: float, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(easy, hard) indices: the bottom `easy_pct`% and top `hard_pct`% of `scores` by rank.

    Ranks, not score thresholds, so the band sizes are exact even when a discrete measure (a grade
    column, a token count) ties many examples; ties are broken by a seeded shuffle, not by index.
    """
    if easy_pct <= 0 or hard_pct <= 0 or easy_pct + hard_pct > 100:
        raise ConfigError(f"easy_pct={easy_pct} and hard_pct={hard_pct} must be positive and sum to at most 100")
    n = len(scores)
    tiebreak = np.random.default_rng(data_seed).permutation(n)
    order = np.lexsort((tiebreak, np.asarray(scores)))  # last key is primary: by score, then by shuffle
    n_easy, n_hard = round(n * easy_pct / 100), round(n * hard_pct / 100)
    return np.sort(order[:n_easy]), np.sort(order[n - n_hard :])


def difficulty_split(scores: np.ndarray, easy_pct: float, hard_pct: float, train: int, test: int,
                     data_seed: int, seed: int) -> DifficultySplit:
    """Easy/hard bands, then `test` hard test examples and `train` examples of each band to train on."""
    easy, hard = difficulty_bands(scores, easy_pct, hard_pct, data_seed)
    if test + train > len(hard) or train > len(easy):
        raise DataError(f"the easy band has {len(easy)} and the hard band {len(hard)} examples; need train={train} "
                        f"from each and test={test} more from the hard band (lower e2h.train/e2h.test or raise data.max_examples)")
    hard_order = np.random.default_rng(data_seed).permutation(hard)
    hard_test, hard_rest = np.sort(hard_order[:test]), hard_order[test:]
    rng = np.random.default_rng(20_000 + seed)
    return DifficultySplit(easy, hard, np.sort(rng.permutation(easy)[:train]),
                           np.sort(rng.permutation(hard_rest)[:train]), hard_test)


@dataclass
class ChainSplit:
    test: np.ndarray  # the same for every run seed (and the same as W2S's test)
    first: np.ndarray  # the first model trains here on ground truth (W2S's A)
    chunks: list[np.ndarray]  # chunks[i] is where link i+1 trains on link i's labels


def chain_split(n: int, weak_train: int, link_train: int, links: int, test: int, data_seed: int, seed: int) -> ChainSplit:
    """W2S's split with B cut into `links` consecutive chunks of `link_train`; one link = W2S exactly."""
    need = weak_train + links * link_train + test
    if need > n:
        raise DataError(f"split needs {need} examples (weak_train {weak_train} + {links} × strong_train "
                        f"{link_train} + test {test}) but the dataset has {n}")
    # W2S (make_split) is the one-link case, so a 2-model chain reproduces its stages
    order = np.random.default_rng(data_seed).permutation(n)
    test_idx, rest = np.sort(order[:test]), order[test:]
    rest = np.random.default_rng(10_000 + seed).permutation(rest)
    starts = [weak_train + i * link_train for i in range(links)]
    return ChainSplit(test_idx, np.sort(rest[:weak_train]), [np.sort(rest[s : s + link_train]) for s in starts])


@dataclass
class Split:
    """Disjoint example indices for one seed: weak_train (A), strong_train (B), test."""

    weak_train: np.ndarray
    strong_train: np.ndarray
    test: np.ndarray


def make_split(n: int, sizes, data_seed: int, seed: int) -> Split:
    """The test set depends only on the data seed (same for every run seed); A/B vary with the seed.

    W2S is a one-link chain: the same draws as `chain_split`, which owns them.
    """
    chain = chain_split(n, sizes.weak_train, sizes.strong_train, 1, sizes.test, data_seed, seed)
    return Split(chain.first, chain.chunks[0], chain.test)
