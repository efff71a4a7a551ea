"""PGR statistics: a paired bootstrap over seeds *and* test examples; an undefined PGR stays undefined.

Every seed of a run is scored on the same test set, so a Student-t interval over seeds misses the
noise of which test examples were drawn (one seed's PGR on 1,000 examples moves by about ±0.3 under
resampling). The interval here resamples both, together: each replicate draws seeds with
replacement and one resample of the test examples, shared by every seed that was scored on the same
examples (the pairing), and recomputes the mean accuracies and PGR from them.

PGR = (student - weak) / (ceiling - weak) is reported two ways, as Burns et al. 2023 average it and
as a ratio estimator should be read:
  - the ratio of mean gaps over seeds (`pgr`, with the bootstrap interval), and
  - the mean of per-seed ratios (`pgr_seed_mean`), over the seeds where the ratio is defined.
A seed's PGR is *defined* only if its ceiling - weak gap is significantly positive (the gap's
paired bootstrap 95% interval on the test set excludes 0); other seeds are named, not dropped.
With no such seed, or no significant mean gap, the run's PGR is undefined and says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oversight.headline import Headline

MODELS = ("weak", "student", "ceiling")
LEVEL = (0.025, 0.975)


def resample_counts(rng: np.random.Generator, reps: int, n: int) -> np.ndarray:
    """[reps, n] multiplicities: row r says how often each item occurs in bootstrap resample r."""
    draws = rng.integers(0, n, size=(reps, n)) + n * np.arange(reps)[:, None]
    return np.bincount(draws.ravel(), minlength=reps * n).reshape(reps, n).astype(np.float64)


def resampled_accuracies(headlines: list[Headline], reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per model, [reps, seeds] accuracies on resampled test examples (one shared draw for paired seeds)."""
    out = {m: np.zeros((reps, len(headlines))) for m in MODELS}
    draws: dict[bytes, np.ndarray] = {}  # test set → its resample counts, so seeds on one test set share a draw
    for s, h in enumerate(headlines):
        key = h.test_ids.tobytes()
        if key not in draws:
            draws[key] = resample_counts(rng, reps, len(h.test_ids))
        counts = draws[key]
        for m in MODELS:
            out[m][:, s] = counts @ getattr(h, m).astype(np.float64) / len(h.test_ids)
    return out


def seed_weights(rng: np.random.Generator, reps: int, n_seeds: int) -> np.ndarray:
    """[reps, seeds] weights of a bootstrap draw of seeds (rows sum to 1)."""
    if n_seeds == 1:
        return np.ones((reps, 1))
    return resample_counts(rng, reps, n_seeds) / n_seeds


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den > 0; ±inf (by the sign of num) where the gap vanishes or flips."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    out = np.where(num > 0, np.inf, np.where(num < 0, -np.inf, 0.0))
    np.divide(num, den, out=out, where=den > 0)
    return out


def interval(values: np.ndarray) -> tuple[float, float]:
    """Percentile 95% interval; `inverted_cdf` picks sample values, so ±inf replicates stay in the tails."""
    lo, hi = np.quantile(values, LEVEL, method="inverted_cdf")
    return float(lo), float(hi)


def gap_significant(headline: Headline, reps: int, seed: int) -> bool:
    """Whether one seed's ceiling - weak gap is significantly positive, by a bootstrap of its test examples
    drawn from that seed's own stream: the run's summary and the seed's own file decide a borderline
    seed the same way (a draw shared with the other seeds could decide it the other way)."""
    boot = resampled_accuracies([headline], reps, np.random.default_rng([seed, 977]))
    return interval(boot["ceiling"][:, 0] - boot["weak"][:, 0])[0] > 0


def summarize_headlines(headlines: dict[int, Headline], reps: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Means, paired-bootstrap intervals and PGR (both estimators) over the seeds' headlines."""
    seeds = list(headlines)
    hs = [headlines[s] for s in seeds]
    rng = np.random.default_rng([seed, 977])
    acc = {m: np.array([getattr(h, m).mean() for h in hs]) for m in MODELS}
    boot = resampled_accuracies(hs, reps, rng)
    weights = seed_weights(rng, reps, len(hs))
    pooled = {m: (weights * boot[m]).sum(1) for m in MODELS}

    out: dict[str, Any] = {}
    for m in MODELS:
        lo, hi = interval(pooled[m])
        out[f"{m}_acc"] = {"mean": float(acc[m].mean()), "lo": lo, "hi": hi, "values": acc[m].tolist()}
    gap_lo, gap_hi = interval(pooled["ceiling"] - pooled["weak"])
    out["gap"] = {"mean": float((acc["ceiling"] - acc["weak"]).mean()), "lo": gap_lo, "hi": gap_hi,
                  "values": (acc["ceiling"] - acc["weak"]).tolist()}

    significant = [gap_significant(h, reps, s) for s, h in zip(seeds, hs)]
    per_seed = [float(ratio(acc["student"][s] - acc["weak"][s], acc["ceiling"][s] - acc["weak"][s])) if significant[s] else None
                for s in range(len(hs))]
    defined = [seeds[s] for s in range(len(hs)) if significant[s]]
    undefined = [seeds[s] for s in range(len(hs)) if not significant[s]]
    pgr: dict[str, Any] = {"mean": None, "lo": None, "hi": None, "seed_mean": None, "values": per_seed,
                           "defined_seeds": defined, "undefined_seeds": undefined, "reason": None}
    n_test = sorted({len(h.test_ids) for h in hs})
    if not defined:
        pgr["reason"] = (f"PGR undefined: no seed's ceiling - weak gap is significantly positive "
                         f"(paired bootstrap on {'/'.join(map(str, n_test))} test examples)")
    elif gap_lo <= 0:
        pgr["reason"] = "PGR undefined: the mean ceiling - weak gap over seeds is not significantly positive"
    else:
        mean_gap = acc["ceiling"].mean() - acc["weak"].mean()
        pgr["mean"] = float((acc["student"].mean() - acc["weak"].mean()) / mean_gap)
        pgr["lo"], pgr["hi"] = interval(ratio(pooled["student"] - pooled["weak"], pooled["ceiling"] - pooled["weak"]))
        pgr["seed_mean"] = float(np.mean([v for v in per_seed if v is not None]))
    out["pgr"] = pgr
    out["method"] = {"name": "paired bootstrap over seeds and test examples", "reps": reps, "n_seeds": len(hs),
                     "n_test": n_test, "paired": len({h.test_ids.tobytes() for h in hs}) == 1,
                     "baseline": hs[0].baseline, "significant_gap": dict(zip(seeds, significant))}
    return out


def seed_pgr(weak: np.ndarray, student: np.ndarray, ceiling: np.ndarray, test_ids: np.ndarray, reps: int = 2000,
             seed: int = 0) -> float | None:
    """One seed's PGR from per-example correctness on `test_ids`; None unless its gap is significantly positive.

    For the secondary PGRs a protocol reports beside its headline (per chain link, the direct
    student, the W2S x E2H cross), under the same rule as the headline's.
    """
    one = summarize_headlines({seed: Headline(test_ids, weak, student, ceiling)}, reps, seed)
    return one["pgr"]["values"][0]
