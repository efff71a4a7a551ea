"""Bootstrapping chain: the split, and a 3-model chain (MiniLM-L3 → MiniLM-L6 → mpnet probes) end to
end through the CLI on 200 real news headlines, read back from results.json, the stage cache
and the offline wandb run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from headline_checks import assert_seed_pgr, assert_wandb_pgr

from oversight.config import SplitConfig
from oversight.metrics import pgr
from oversight.protocols.splits import chain_split, make_split

TINY = ["data.max_examples=200", "split.weak_train=60", "split.strong_train=50", "split.test=40", "seeds=[0,1]",
        "weak.train.epochs=20", "strong.train.epochs=20", "strong.model.max_length=64"]  # short: mpnet features dominate


def test_chain_split_is_disjoint_and_one_link_is_w2s():
    s = chain_split(1000, 200, 150, 3, 100, data_seed=0, seed=4)
    parts = [s.test, s.first, *s.chunks]
    assert [len(p) for p in parts] == [100, 200, 150, 150, 150]
    assert len(set(np.concatenate(parts))) == 750
    assert np.array_equal(s.test, chain_split(1000, 200, 150, 3, 100, data_seed=0, seed=5).test)
    w2s = make_split(1000, SplitConfig(weak_train=200, strong_train=150, test=100), 0, 4)
    one = chain_split(1000, 200, 150, 1, 100, data_seed=0, seed=4)
    assert np.array_equal(one.first, w2s.weak_train) and np.array_equal(one.chunks[0], w2s.strong_train)
    assert np.array_equal(one.test, w2s.test)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("chain")
    result = subprocess.run([sys.executable, "-m", "oversight.cli", "run", "configs/w2s_chain_default.yaml", *TINY, f"out_dir={out}"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, result


def test_three_model_chain_end_to_end(finished):
    out, result = finished
    (run_dir,) = [p for p in out.iterdir() if not p.name.startswith("_")]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["complete"] and list(results["summary"])[:4] == ["weak_acc", "student_acc", "ceiling_acc", "pgr"]
    for m in results["per_seed"].values():
        assert m["student_acc"] == m["link2_acc"] and m["ceiling_acc"] == m["link2_ceiling_acc"]
        assert_seed_pgr(m, m["weak_acc"], m["link2_acc"], m["link2_ceiling_acc"])
        # the direct student shares the headline's weak and ceiling, so the same significance decides it
        direct = pgr(m["weak_acc"], m["direct_student_acc"], m["ceiling_acc"]) if m["gap_significant"] else None
        assert m["direct_pgr"] == (pytest.approx(direct) if direct is not None else None)
        for link, before in (("link1", "weak_acc"), ("link2", "link1_acc")):  # a link's PGR: defined, or None
            hand = pgr(m[before], m[f"{link}_acc"], m[f"{link}_ceiling_acc"])
            assert m[f"{link}_pgr"] is None or m[f"{link}_pgr"] == pytest.approx(hand)
        assert 0.5 < m["ceiling_acc"] <= 1 and 0 <= m["link1_label_acc"] <= 1
    # per seed: weak, link1, link2, 2 link ceilings, direct student; 3 label sets
    assert result.stdout.count(" done ") == 2 * 9


def test_each_link_learns_the_previous_links_labels(finished):
    out, _ = finished
    stages = out / "_stages"
    metas = {p.parent.name: json.loads(p.read_text()) for p in stages.glob("*/*/meta.json")}
    kind_of = {key: m["kind"] for key, m in metas.items()}
    labelled_by = sorted(kind_of[m["spec"]["model_stage"]] for m in metas.values() if m["kind"] == "labels")
    # per seed: weak labels chunk 1 (→ link1), link1 labels chunk 2 (→ link2), weak labels chunk 2 (→ direct)
    assert labelled_by == ["link1", "link1", "weak", "weak", "weak", "weak"]
    models = {m["kind"]: m["spec"]["model"]["model"] for m in metas.values() if m["kind"] in ("weak", "link1", "link2", "student")}
    assert models == {"weak": "minilm-l6", "link1": "minilm-l3", "link2": "mpnet-base", "student": "mpnet-base"}


def test_wandb_summary_has_the_transfer_keys(finished):
    out, _ = finished
    (run_dir,) = [p for p in out.iterdir() if not p.name.startswith("_")]
    (wandb_run,) = (run_dir / "wandb").glob("offline-run-*")
    shown = subprocess.run([str(Path(sys.executable).parent / "wandb"), "leet", "inspect", "--summary", "--json", str(wandb_run)],
                           capture_output=True, text=True, check=True)
    summary = json.loads(shown.stdout)["summary"]
    for key in ("weak_acc", "student_acc", "ceiling_acc", "direct_student_acc", "link1_acc", "student_acc_lo", "student_acc_hi"):
        assert key in summary
    assert_wandb_pgr(summary, json.loads((run_dir / "results.json").read_text()))
