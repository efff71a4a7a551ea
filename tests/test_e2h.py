"""Easy-to-hard: the difficulty split, out-of-fold difficulty, SGR by hand, and the protocol end to end.

Real data (sarcasm headlines, 300 of them) and real packaged models (MiniLM-L3/L6 probes); the
split tests are pure numpy.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from headline_checks import assert_seed_pgr

from oversight.config import load_config
from oversight.context import Context
from oversight.data import load_dataset_from_config
from oversight.difficulty import DIFFICULTIES, difficulty_scores, fold_assignment
from oversight.errors import ConfigError
from oversight.experiment import run_experiment
from oversight.protocols.e2h import majority_floor, supervision_gap_recovered
from oversight.protocols.splits import difficulty_bands, difficulty_split
from oversight.stages import StageStore, digest
from oversight.training.device import pick_device
from oversight.training.fit import Workspace
from oversight.zero_shot import zero_shot_probs

TINY = ["protocol=e2h", "data.max_examples=300", "seeds=[0,1]", "weak.model.model=minilm-l3", "strong.model.model=minilm-l6",
        "weak.train.epochs=3", "strong.train.epochs=3", "e2h.difficulty.reference=minilm-l3", "e2h.difficulty.folds=3",
        "e2h.difficulty.train.epochs=3", "e2h.train=50", "e2h.test=40", "wandb.mode=disabled"]


@pytest.mark.parametrize("scores", [np.random.default_rng(1).normal(size=1000), np.random.default_rng(2).integers(0, 5, 1000)])
def test_bands_are_disjoint_and_cut_at_the_percentiles(scores):
    easy, hard = difficulty_bands(scores, 30, 30, data_seed=0)
    assert len(easy) == 300 and len(hard) == 300 and not set(easy) & set(hard)
    assert scores[easy].max() <= scores[hard].min()  # every easy example at most as hard as any hard one
    if len(np.unique(scores)) == len(scores):  # no ties: the cuts sit at the 30th and 70th percentiles
        assert scores[easy].max() <= np.percentile(scores, 30) <= np.percentile(scores, 70) <= scores[hard].min()
    assert (scores < scores[easy].max()).sum() <= 300 <= (scores <= scores[easy].max()).sum()  # rank 300 is the 30th pct
    assert (scores > scores[hard].min()).sum() <= 300 <= (scores >= scores[hard].min()).sum()


def test_split_is_disjoint_deterministic_and_keeps_the_test_fixed():
    scores = np.random.default_rng(0).normal(size=1000)
    a, b, a_again = (difficulty_split(scores, 30, 40, 150, 100, data_seed=0, seed=s) for s in (0, 1, 0))
    for s in (a, b):
        parts = [s.easy_train, s.hard_train, s.hard_test]
        assert sum(map(len, parts)) == len(set(np.concatenate(parts))) == 400
        assert set(s.easy_train) <= set(s.easy_pool) and set(s.hard_train) | set(s.hard_test) <= set(s.hard_pool)
        assert len(s.easy_pool) == 300 and len(s.hard_pool) == 400
    assert np.array_equal(a.hard_test, b.hard_test) and not np.array_equal(a.hard_train, b.hard_train)
    assert np.array_equal(a.easy_train, a_again.easy_train) and np.array_equal(a.hard_train, a_again.hard_train)


def test_sgr_and_floor_against_hand_computation():
    assert supervision_gap_recovered(0.5, 0.7, 0.9) == pytest.approx(0.5)
    assert supervision_gap_recovered(0.6, 0.9, 0.8) == pytest.approx(1.5)  # easy beating hard is allowed
    assert np.isnan(supervision_gap_recovered(0.6, 0.7, 0.6))
    assert majority_floor(np.array([0, 1, 1, 1]), np.array([1, 0, 0, 1, 0]), 2).tolist() == [True, False, False, True, False]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> Context:
    out = tmp_path_factory.mktemp("e2h")
    exp = load_config("configs/e2h_default.yaml", [*TINY, f"out_dir={out}"])
    dataset = load_dataset_from_config(exp.run.data)
    ws = Workspace(device=pick_device("cpu"), feature_cache=out / "_features", offline=None)
    return Context(exp, dataset, StageStore(out / "_stages"), ws)


def test_model_difficulty_is_out_of_fold(ctx):
    cfg = ctx.protocol_cfg.difficulty
    arrays = difficulty_scores(ctx, cfg)
    folds, probs, scores = arrays["folds"], arrays["probs"], arrays["scores"]
    assert np.array_equal(folds, fold_assignment(len(ctx.dataset), cfg.folds, ctx.cfg.data.seed))
    assert np.allclose(scores, -np.log(probs[np.arange(len(probs)), ctx.dataset.labels]), atol=1e-5)
    # each fold's probe trained on exactly the other folds and scored exactly its own
    for f in range(cfg.folds):
        (meta_file,) = [p for p in (ctx.store.root / f"difficulty_fold{f}").glob("*/meta.json")]
        spec = json.loads(meta_file.read_text())["spec"]
        assert spec["train_idx"] == digest(np.flatnonzero(folds != f))
        assert spec["test_idx"] == digest(np.flatnonzero(folds == f))
    # independent check of fold 0: a probe fitted here on folds 1.. reproduces the stored scores
    learner = ctx.learner(replace(ctx.cfg.strong.model, model=cfg.reference, mode="probe"))
    workdir = ctx.store.root.parent / "check"
    workdir.mkdir()
    model, _ = learner.fit(cfg.train, np.flatnonzero(folds != 0), ctx.gold_targets(), ctx.cfg.data.seed, workdir, "check")
    again = learner.predict(model, np.flatnonzero(folds == 0), cfg.train, desc="check")
    assert np.allclose(again, probs[folds == 0], atol=1e-4)
    # and the cached stage is reused, not recomputed
    assert np.array_equal(difficulty_scores(ctx, cfg)["scores"], scores)


def test_length_and_column_measures(ctx):
    lengths = difficulty_scores(ctx, DIFFICULTIES.config("length", tokenizer="minilm-l3"))["scores"]
    words = np.array([len(t.split()) for t in ctx.dataset.texts])
    assert np.corrcoef(lengths, words)[0, 1] > 0.8 and (lengths >= 1).all()
    ctx.dataset.columns["grade"] = [i % 7 for i in range(len(ctx.dataset))]
    grades = difficulty_scores(ctx, DIFFICULTIES.config("column", column="grade"))["scores"]
    assert np.array_equal(grades, np.arange(len(ctx.dataset)) % 7)


def test_e2h_end_to_end_reports_sgr_and_the_cross(ctx):
    out = Path(ctx.store.root).parent
    results = run_experiment(load_config("configs/e2h_default.yaml", [*TINY, f"out_dir={out}"]))
    assert results["complete"] and list(results["summary"])[:4] == ["weak_acc", "student_acc", "ceiling_acc", "pgr"]
    scores = difficulty_scores(ctx, ctx.protocol_cfg.difficulty)["scores"]
    labels = ctx.dataset.labels
    for seed, m in results["per_seed"].items():
        split = difficulty_split(scores, 30, 30, 50, 40, ctx.cfg.data.seed, int(seed))
        majority = majority_floor(labels[split.hard_train], labels[split.hard_test], 2).mean()
        assert m["floor_majority_acc"] == pytest.approx(majority)
        assert m["weak_acc"] == m["floor_acc"] == m["floor_zero_shot_acc"]  # the config's floor: zero-shot
        assert_seed_pgr(m, m["floor_acc"], m["easy_acc"], m["hard_acc"])  # the SGR, defined only over a significant gap
        assert m["student_acc"] == m["easy_acc"] and m["ceiling_acc"] == m["hard_acc"]
        assert m["difficulty_hard_mean"] > m["difficulty_easy_mean"]
        w, s = m["w2s_e2h_weak_acc"], m["w2s_e2h_student_acc"]
        hand = (s - w) / (m["hard_acc"] - w) if m["hard_acc"] > w else None
        assert m["w2s_e2h_pgr"] is None or m["w2s_e2h_pgr"] == pytest.approx(hand)
    summary = results["summary"]["pgr"]
    defined = [v for v in summary["values"] if v is not None]  # a seed whose hard model does not beat the floor has no SGR
    assert len(summary["values"]) == 2 and summary["n"] == len(defined) == 2 - len(summary["undefined_seeds"])
    assert summary["seed_mean"] == (pytest.approx(np.mean(defined)) if defined and summary["mean"] is not None else None)
    assert results["statistics"]["baseline"].startswith("zero-shot floor (minilm-l6, no labels)")


def test_zero_shot_floor_reads_no_labels_and_follows_the_prompt(ctx):
    idx = np.arange(60)
    model = ctx.cfg.strong.model
    probs = zero_shot_probs(ctx, model, "This review is {label}.", idx)
    assert probs.shape == (60, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    saved = ctx.dataset.labels.copy()
    try:
        ctx.dataset.labels[:] = np.random.default_rng(0).permutation(saved)  # scrambled labels change nothing
        assert np.array_equal(zero_shot_probs(ctx, model, "This review is {label}.", idx), probs)
    finally:
        ctx.dataset.labels[:] = saved
    # the prompt is the only supervision: a different wording gives different similarities
    assert not np.allclose(zero_shot_probs(ctx, model, "{label}!", idx), probs)
    with pytest.raises(ConfigError, match="must contain"):
        zero_shot_probs(ctx, model, "no placeholder", idx)
