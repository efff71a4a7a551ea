"""Losses and transfer metrics against values computed by hand."""

import math

import numpy as np
import pytest
import torch

from oversight.metrics import accuracy, agreement, auroc, mean_ci95, pgr, rank_auroc
from oversight.training.losses import LOSSES, build_loss, harden, prior_threshold


def ce(p_logits, target):
    z = [math.exp(x) for x in p_logits]
    logp = [math.log(v / sum(z)) for v in z]
    return -sum(t * lp for t, lp in zip(target, logp))


def test_registry_lists_the_paper_losses():
    assert {"xent", "logconf", "product"} <= set(LOSSES.names())


def test_xent_matches_hand_values():
    loss = build_loss(LOSSES.config("xent"))
    assert loss(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]]), 0.5).item() == pytest.approx(math.log(2), abs=1e-6)
    # log(1 + e) = 1.31326; 0.25 * 0.31326 + 0.75 * 1.31326 = 1.06326
    value = loss(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.25, 0.75]]), 0.5).item()
    assert value == pytest.approx(1.063262, abs=1e-5)


LOGITS = [[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 3.0]]
WEAK = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]


def test_logconf_hardens_to_the_weak_prior_and_mixes_with_alpha():
    cfg = LOSSES.config("logconf", alpha_max=0.75, warmup_frac=0.2)
    loss = build_loss(cfg)
    # student P(class 1) = 0.119, 0.731, 0.269, 0.953; prior 0.5 → threshold at the median (0.5) → hardened 0,1,0,1
    hardened = [[1, 0], [0, 1], [1, 0], [0, 1]]
    ce_weak = sum(ce(lg, t) for lg, t in zip(LOGITS, WEAK)) / 4
    ce_self = sum(ce(lg, t) for lg, t in zip(LOGITS, hardened)) / 4
    full = loss(torch.tensor(LOGITS), torch.tensor(WEAK), 0.9).item()
    assert full == pytest.approx(0.25 * ce_weak + 0.75 * ce_self, abs=1e-5)
    half_warm = loss(torch.tensor(LOGITS), torch.tensor(WEAK), 0.1).item()  # α = 0.75 * 0.1/0.2
    assert half_warm == pytest.approx(0.625 * ce_weak + 0.375 * ce_self, abs=1e-5)
    assert loss(torch.tensor(LOGITS), torch.tensor(WEAK), 0.0).item() == pytest.approx(ce_weak, abs=1e-6)


def test_harden_to_prior_keeps_the_class_balance():
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    balanced = torch.tensor([[1.0, 0.0], [0.0, 1.0]] * 2)  # targets whose class-1 prior is 0.5
    hard = harden(probs, prior_threshold(probs, balanced))
    assert hard[:, 1].tolist() == [0, 0, 1, 1]  # argmax would have said class 0 for all four


def test_product_with_uniform_weak_labels_is_the_students_entropy():
    loss = build_loss(LOSSES.config("product", beta_max=1.0, warmup_frac=0.0))
    logits = torch.tensor([[0.0, math.log(3.0)]])  # student probs 0.25, 0.75
    expected = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert loss(logits, torch.tensor([[0.5, 0.5]]), 1.0).item() == pytest.approx(expected, abs=1e-6)
    # one-hot weak labels make the product target the weak label itself
    assert loss(logits, torch.tensor([[1.0, 0.0]]), 1.0).item() == pytest.approx(ce([0.0, math.log(3.0)], [1, 0]), abs=1e-6)


def test_losses_are_differentiable():
    for name in LOSSES.names():
        logits = torch.tensor(LOGITS, requires_grad=True)
        build_loss(LOSSES.config(name))(logits, torch.tensor(WEAK), 0.5).backward()
        assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_pgr_and_accuracy_by_hand():
    assert pgr(0.6, 0.7, 0.8) == pytest.approx(0.5)
    assert pgr(0.6, 0.55, 0.8) == pytest.approx(-0.25)
    assert math.isnan(pgr(0.8, 0.7, 0.8))  # no gap to recover
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert accuracy(probs, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert agreement(probs, np.array([[0.1, 0.9], [0.2, 0.8], [0.6, 0.4]])) == pytest.approx(2 / 3)


def test_auroc_by_hand():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    # positives 0.35, 0.8 vs negatives 0.1, 0.4: 3 of 4 pairs ordered correctly
    assert auroc(probs, np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert math.isnan(auroc(probs, np.array([1, 1, 1, 1])))


def test_mean_ci95_uses_student_t():
    mean, half, n = mean_ci95([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(4.302653 / math.sqrt(3), abs=1e-5)  # t(0.975, 2) · sd / √n, sd = 1
    assert math.isnan(mean_ci95([0.5])[1])
    assert mean_ci95([1.0, float("nan"), 3.0])[2] == 2


def test_rank_auroc_equals_sklearns_with_ties_and_one_vs_rest():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    for trial in range(100):
        n = int(rng.integers(2, 60))
        scores = rng.integers(0, 6, n).astype(float) if trial % 2 else rng.random(n)  # heavy ties, then none
        positive = rng.random(n) < 0.4
        if positive.all() or not positive.any():
            assert np.isnan(rank_auroc(scores, positive))
            continue
        assert rank_auroc(scores, positive) == pytest.approx(roc_auc_score(positive, scores), abs=1e-12)
    probs, labels = rng.dirichlet([1, 1, 1], 80), rng.integers(0, 3, 80)
    assert auroc(probs, labels) == pytest.approx(np.mean([roc_auc_score(labels == c, probs[:, c]) for c in range(3)]))
