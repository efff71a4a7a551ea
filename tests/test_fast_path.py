"""Speed never changes the science: the fast paths give the simple paths' losses and accuracies.

On a real packaged model (MiniLM-L3) and a few dozen real sarcasm headlines:
- fine-tuning: dynamic padding + fused AdamW + gradient accumulation + inference-mode, length-sorted
  large-batch prediction vs padding to max_length, the for-loop AdamW, one pass per batch and
  no_grad prediction in dataset order, over the same batch order;
- probes: features cached on disk once vs the frozen backbone recomputed on every batch, and the
  shared store computing only the texts a run uses, once for every out_dir;
- gradient checkpointing vs none;
- bf16 autocast on a CPU (`cpu_bf16`, opt-in) vs fp32: the same training within bf16 rounding.
No timing here (that is `oversight bench`); only equalities within float tolerance.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from oversight.data import TextDataset, data_config, load_dataset_from_config
from oversight.models import resolve_model
from oversight.training import trainer as trainer_module
from oversight.training.batching import TokenSource, collate_tokens, length_grouped_order, padding_waste, sorted_order, tokenize
from oversight.training.classifier import build_text_classifier, enable_checkpointing
from oversight.training.config import ClassifierConfig, TrainConfig
from oversight.training.trainer import predict, soft_targets, train

MODEL = "minilm-l3"
MAX_LENGTH = 64


@pytest.fixture(scope="module")
def data() -> TextDataset:
    return load_dataset_from_config(data_config("sarcasm", max_examples=80))


@pytest.fixture(scope="module")
def initial(data):
    """Tokenizer and one initial classifier with dropout off, so runs compare step by step."""
    torch.manual_seed(0)
    tokenizer, model = build_text_classifier(ClassifierConfig(model=MODEL, mode="full"), resolve_model(MODEL).path, 2)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0  # dropout masks depend on the padded shape; the math must not
    return tokenizer, model


class MaxLengthSource(TokenSource):
    """The simple path: same batches, every one padded to max_length."""

    def collate(self, indices):
        batch = collate_tokens(self.tokens, indices)
        pad = MAX_LENGTH - batch["input_ids"].shape[1]
        return {"input_ids": nn.functional.pad(batch["input_ids"], (0, pad), value=self.tokens.pad_id),
                "attention_mask": nn.functional.pad(batch["attention_mask"], (0, pad))}


def simple_predict(model, source, indices, batch_size=4) -> np.ndarray:
    """no_grad, dataset order, small batches padded to max_length."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            out.append(torch.softmax(model(**source.collate(indices[start : start + batch_size])), -1).numpy())
    return np.concatenate(out)


def plain_adamw(model, cfg, device):
    """The default for-loop AdamW with the trainer's parameter groups, instead of the fused kernel."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, foreach=False, fused=False)


def run(model, source, idx, targets, cfg, build_optimizer=None) -> list[float]:
    """Train with the trainer; return the loss logged at every step."""
    losses: list[float] = []
    with pytest.MonkeyPatch.context() as mp:
        if build_optimizer is not None:
            mp.setattr(trainer_module, "build_optimizer", build_optimizer)
        train(model, source, idx, targets, cfg, seed=0, device=torch.device("cpu"),
              log=lambda m: losses.append(m["train/loss"]) if "train/loss" in m else None)
    return losses


def test_fine_tuning_fast_path_matches_simple_path(data, initial):
    tokenizer, model0 = initial
    tokens = tokenize(tokenizer, data.texts, MAX_LENGTH)
    targets = soft_targets(data.labels, 2)
    train_idx, test_idx = np.arange(48), np.arange(48, 80)
    common = dict(epochs=2, batch_size=8, lr=5e-5, val_frac=0.0, select="none", log_every=1, evals_per_epoch=1)

    fast_model = copy.deepcopy(model0)
    fast_losses = run(fast_model, TokenSource(tokens), train_idx, targets, TrainConfig(**common, micro_batch_size=4))
    simple_model = copy.deepcopy(model0)
    simple_source = MaxLengthSource(tokens)
    simple_losses = run(simple_model, simple_source, train_idx, targets, TrainConfig(**common), build_optimizer=plain_adamw)

    assert len(fast_losses) == len(simple_losses) == 12
    np.testing.assert_allclose(fast_losses, simple_losses, rtol=2e-4, atol=2e-5)
    assert fast_losses[-1] < fast_losses[0]  # it did learn something, so the comparison means something

    fast_probs = predict(fast_model, TokenSource(tokens), test_idx, 256, torch.device("cpu"))
    simple_probs = simple_predict(simple_model, simple_source, test_idx)
    np.testing.assert_allclose(fast_probs, simple_probs, atol=5e-4)
    labels = data.labels[test_idx]
    assert (fast_probs.argmax(-1) == labels).mean() == (simple_probs.argmax(-1) == labels).mean()


def test_cpu_bf16_trains_in_bf16_and_stays_within_its_rounding_of_fp32(data, initial, capsys):
    from oversight.training.device import native_bf16

    tokenizer, model0 = initial
    tokens = tokenize(tokenizer, data.texts, MAX_LENGTH)
    targets = soft_targets(data.labels, 2)
    train_idx, test_idx = np.arange(48), np.arange(48, 80)
    common = dict(epochs=2, batch_size=8, lr=5e-5, val_frac=0.0, select="none", log_every=1, evals_per_epoch=1)
    runs = {}
    for cpu_bf16 in (False, True):
        model = copy.deepcopy(model0)
        dtypes = set()
        hook = model.head.register_forward_hook(lambda m, i, out, seen=dtypes: seen.add(out.dtype))
        cfg = TrainConfig(**common, cpu_bf16=cpu_bf16)
        losses = run(model, TokenSource(tokens), train_idx, targets, cfg)
        probs = predict(model, TokenSource(tokens), test_idx, 256, torch.device("cpu"), bf16=cfg.autocasts(torch.device("cpu")))
        hook.remove()
        runs[cpu_bf16] = (losses, probs, dtypes)
    (fp_losses, fp_probs, fp_dtypes), (bf_losses, bf_probs, bf_dtypes) = runs[False], runs[True]
    assert fp_dtypes == {torch.float32} and bf_dtypes == {torch.bfloat16}  # the head's matmul ran in bf16: autocast was on
    assert fp_losses != bf_losses  # so the numbers moved, by rounding only:
    np.testing.assert_allclose(bf_losses, fp_losses, rtol=0.03, atol=0.01)
    np.testing.assert_allclose(bf_probs, fp_probs, atol=0.03)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
    assert ("emulated" in capsys.readouterr().out) != native_bf16(torch.device("cpu"))  # a slow CPU says so


def test_cached_probe_features_match_recomputed_backbone(data, tmp_path):
    from oversight.bench.probe import CountingTokens, RecomputeProbe, _standardized_head
    from oversight.bench.task import TokenCounter
    from oversight.training.classifier import load_backbone
    from oversight.training.fit import Learner, Workspace

    cfg = TrainConfig(epochs=2, batch_size=8, lr=1e-3, weight_decay=1.0, log_every=1)
    targets = soft_targets(data.labels, 2)
    train_idx, test_idx = np.arange(48), np.arange(48, 80)
    learner = Learner(ClassifierConfig(model=MODEL, mode="probe", max_length=MAX_LENGTH), data,
                      Workspace(device=torch.device("cpu"), feature_cache=tmp_path))
    cached_losses: list[float] = []
    learner.ws.log = lambda m, stage: cached_losses.append(m["train/loss"]) if "train/loss" in m else None
    cached_model, _ = learner.fit(cfg, train_idx, targets, seed=0, workdir=tmp_path, stage="probe")
    cached_probs = learner.predict(cached_model, test_idx, cfg, desc="test")
    assert list(tmp_path.glob("*.npz")), "features were cached on disk"

    tokenizer, backbone = load_backbone(resolve_model(MODEL).path)
    source = CountingTokens(tokenize(tokenizer, data.texts, MAX_LENGTH), TokenCounter())
    head = _standardized_head(backbone.eval(), source, train_idx, "mean", -1, 2, seed=0, device=torch.device("cpu"))
    recompute = RecomputeProbe(backbone, head, "mean", -1)
    recompute_losses = run(recompute, source, train_idx, targets, cfg)
    recompute_probs = predict(recompute, source, test_idx, 256, torch.device("cpu"))

    np.testing.assert_allclose(cached_losses, recompute_losses, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cached_probs, recompute_probs, atol=1e-4)
    assert (cached_probs.argmax(-1) == recompute_probs.argmax(-1)).all()


def test_gradient_checkpointing_gives_the_same_loss_and_gradients(data, initial):
    tokenizer, model0 = initial
    batch = collate_tokens(tokenize(tokenizer, data.texts[:8], MAX_LENGTH), np.arange(8))
    targets = torch.from_numpy(soft_targets(data.labels[:8], 2))
    grads = []
    for checkpointing in (False, True):
        model = copy.deepcopy(model0).train()
        if checkpointing:
            enable_checkpointing(model.backbone)
        loss = -(targets * torch.log_softmax(model(**batch), -1)).sum(-1).mean()
        loss.backward()
        grads.append((loss.item(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}))
    (loss_a, grad_a), (loss_b, grad_b) = grads
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    assert grad_a.keys() == grad_b.keys()
    for name in grad_a:
        torch.testing.assert_close(grad_a[name], grad_b[name], rtol=1e-4, atol=1e-6)


def test_batching_covers_every_example_once_and_keeps_padding_low():
    lengths = np.random.default_rng(0).lognormal(3.0, 0.6, 2000).astype(np.int64).clip(1, 128)

    class Lengths:
        def __init__(self, lengths):
            self.lengths = lengths

    for batches in (sorted_order(lengths, 256), length_grouped_order(lengths, 32, torch.Generator().manual_seed(0))):
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(len(lengths)))
    grouped = length_grouped_order(lengths, 32, torch.Generator().manual_seed(0))
    assert padding_waste(Lengths(lengths), grouped) < 0.10
    assert padding_waste(Lengths(lengths), grouped[:5]) < 0.10  # a subset counts only its own examples
    budget = 256 * int(np.ceil(lengths.mean()))
    assert all(len(b) * lengths[b].max() <= max(budget, lengths.max()) for b in sorted_order(lengths, 256))
    capped = sorted_order(lengths, 256, max_tokens=2048)  # a CPU's cache-sized batches
    assert np.array_equal(np.sort(np.concatenate(capped)), np.arange(len(lengths)))
    assert all(len(b) * lengths[b].max() <= max(2048, lengths.max()) for b in capped) and len(capped) > len(sorted_order(lengths, 256))


def test_sync_free_quantile_equals_torch_quantile():
    from oversight.training.losses import quantile_on_device

    g = torch.Generator().manual_seed(0)
    for n in (1, 2, 3, 32, 33):
        for _ in range(20):
            values, q = torch.rand(n, generator=g), torch.rand((), generator=g)
            assert quantile_on_device(values, q) == torch.quantile(values, float(q))
        assert quantile_on_device(values, torch.tensor(0.0)) == values.min()
        assert quantile_on_device(values, torch.tensor(1.0)) == values.max()


def test_feature_store_computes_only_used_texts_once_for_every_out_dir(tmp_path):
    from fault_helpers import cli

    store = tmp_path / "store"
    small = ["seeds=[0]", "wandb.mode=disabled", "data.max_examples=600", "split.weak_train=30", "split.strong_train=30",
             "split.test=30", "weak.model.model=minilm-l3", "strong.model.model=minilm-l3", "weak.train.epochs=1",
             "strong.train.epochs=1", f"feature_cache={store}"]
    code, first, err = cli("run", *small, f"out_dir={tmp_path / 'a'}")
    assert code == 0, err[-2000:]
    assert "features minilm-l3: computing 90 new texts (0 of the 90 asked for are cached)" in first  # not all 600
    (file,) = store.glob("*.npz")
    assert np.load(file)["features"].shape[0] == 90
    code, second, _ = cli("run", *small, f"out_dir={tmp_path / 'b'}")  # a new out_dir: nothing recomputed
    assert code == 0 and "computing" not in second
    code, third, _ = cli("run", *small, "seeds=[1]", f"out_dir={tmp_path / 'b'}")  # another seed: only its new rows
    new = int(third.split("features minilm-l3: computing ")[1].split()[0])
    assert 0 < new <= 60 and np.load(file)["features"].shape[0] == 90 + new
