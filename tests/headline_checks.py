"""Checks shared by the end-to-end tests: a seed's headline PGR against the ratio computed by hand."""

from __future__ import annotations

import pytest


def assert_seed_pgr(m: dict, weak: float, student: float, ceiling: float) -> None:
    """Defined (and equal to the hand ratio) exactly when the seed's ceiling - weak gap is significant."""
    lo, hi = m["ceiling_minus_weak_ci95"]
    assert lo <= ceiling - weak <= hi
    assert m["gap_significant"] == (lo > 0)
    if m["gap_significant"]:
        assert m["pgr"] == pytest.approx((student - weak) / (ceiling - weak))
    else:
        assert m["pgr"] is None


def assert_wandb_pgr(summary: dict, results: dict) -> None:
    """wandb drops None summary values, so an undefined PGR shows as pgr_defined=False and no pgr."""
    mean = results["summary"]["pgr"]["mean"]
    assert summary["pgr_defined"] == (mean is not None)
    if mean is not None:
        assert summary["pgr"] == pytest.approx(mean)
    else:
        assert "pgr" not in summary
