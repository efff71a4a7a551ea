"""Training only the embedding rows a stage uses gives the weights a full-table AdamW gives.

On the packaged MiniLM-L3 and real sarcasm headlines, `train` runs once as it does (the used rows
swapped in) and once with the swap turned off, from the same weights, with a weight decay large
enough that the unused rows visibly move. Every weight must agree within float rounding, with gold
model selection keeping an earlier step as well as with the final step kept.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from oversight.data import data_config, load_dataset_from_config
from oversight.models import resolve_model
from oversight.training import trainer as trainer_module
from oversight.training import used_rows
from oversight.training.batching import TokenSource, tokenize
from oversight.training.classifier import build_text_classifier
from oversight.training.config import ClassifierConfig, TrainConfig
from oversight.training.trainer import lr_lambda, planned_steps, soft_targets, train

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def setup():
    data = load_dataset_from_config(data_config("sarcasm", max_examples=80))
    torch.manual_seed(0)
    tokenizer, model = build_text_classifier(ClassifierConfig(model="minilm-l3", mode="full"), resolve_model("minilm-l3").path, 2)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
    return TokenSource(tokenize(tokenizer, data.texts, 64)), soft_targets(data.labels, 2), model


def _train(model, source, targets, cfg, swap: bool):
    trainable = []
    real_build = trainer_module.build_optimizer

    def counting(m, c, d):  # what the optimizer is given to update
        trainable.append(sum(p.numel() for p in m.parameters() if p.requires_grad))
        return real_build(m, c, d)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trainer_module, "build_optimizer", counting)
        if not swap:
            mp.setattr(used_rows, "swap_in", lambda *a: None)
        state = train(model, source, np.arange(48), targets, cfg, seed=0, device=CPU)
    return state, trainable[0]


@pytest.mark.parametrize("select", ["none", "gold_holdout"])
def test_the_used_rows_train_to_the_full_tables_weights(setup, select):
    source, targets, model0 = setup
    cfg = TrainConfig(epochs=3, batch_size=8, lr=1e-3, weight_decay=0.5, val_frac=0.25, select=select, evals_per_epoch=2)
    fast, slow = copy.deepcopy(model0), copy.deepcopy(model0)
    fast_state, fast_trainable = _train(fast, source, targets, cfg, swap=True)
    slow_state, slow_trainable = _train(slow, source, targets, cfg, swap=False)

    assert fast_state.best_step == slow_state.best_step and fast_state.step == slow_state.step == 12
    if select == "gold_holdout":
        assert fast_state.best_step < fast_state.step  # an earlier step is kept: its rows decayed over fewer steps
        assert [h["val/loss"] for h in fast_state.history] == pytest.approx([h["val/loss"] for h in slow_state.history], abs=1e-6)
    full_table = model0.backbone.get_input_embeddings().weight.numel()
    assert slow_trainable - fast_trainable > 0.8 * full_table  # most of the 30,522 rows never reached the optimizer

    embedding = fast.backbone.get_input_embeddings()
    assert type(embedding) is nn.Embedding and embedding.weight.requires_grad  # the full table is back, trainable
    fast_weights, slow_weights = fast.state_dict(), slow.state_dict()
    assert fast_weights.keys() == slow_weights.keys()
    for name in fast_weights:
        torch.testing.assert_close(fast_weights[name], slow_weights[name], rtol=1e-5, atol=1e-6, msg=name)

    rows = np.unique(np.concatenate([source.tokens.ids[i] for i in range(48)]))
    unused = np.setdiff1d(np.arange(embedding.num_embeddings), rows)[:100]
    before = model0.backbone.get_input_embeddings().weight[unused]
    lr_at = lr_lambda(cfg, planned_steps(cfg, 48)[1])
    decay = used_rows.decay_over(lambda t: cfg.lr * lr_at(t), cfg.weight_decay, fast_state.best_step)
    assert decay < 1 - 5e-4  # a change 50 times the tolerance below
    torch.testing.assert_close(embedding.weight[unused], before * decay, rtol=1e-5, atol=1e-7)


def test_a_tied_or_frozen_table_is_left_whole(setup):
    source, _, model0 = setup
    model = copy.deepcopy(model0)
    model.backbone.get_input_embeddings().weight.requires_grad_(False)
    assert used_rows.swap_in(model, source, np.arange(8)) is None
    model = copy.deepcopy(model0)
    model.extra = nn.Linear(1, 1)
    model.extra.weight = model.backbone.get_input_embeddings().weight  # tied to another module
    assert used_rows.swap_in(model, source, np.arange(8)) is None
    table = used_rows.swap_in(copy.deepcopy(model0), source, np.arange(8))
    assert table is not None and len(table.rows) < 300
    stray = int(np.setdiff1d(np.arange(1000), table.rows.numpy())[0])
    with pytest.raises(IndexError):  # an id the table does not hold fails, never reads another row
        table(torch.tensor([[stray]]))


def test_a_run_resumed_from_its_early_stop_checkpoint_stays_stopped_and_keeps_its_weights(setup, tmp_path):
    """Used rows, gold selection and patience: the checkpoint written at the early stop resumes
    (as after a kill at that point) into a run that takes no further step and ends with the same weights."""
    source, targets, model0 = setup
    cfg = TrainConfig(epochs=6, batch_size=8, lr=1e-3, weight_decay=0.5, val_frac=0.25, select="gold_holdout",
                      evals_per_epoch=2, patience=1, checkpoint_every_s=0)
    ckpt = tmp_path / "train.ckpt"
    first = copy.deepcopy(model0)
    stopped = train(first, source, np.arange(48), targets, cfg, seed=0, device=CPU, checkpoint=ckpt)
    assert stopped.step < planned_steps(cfg, 48)[1] and stopped.bad_evals == 1 and ckpt.exists()  # stopped early
    resumed = copy.deepcopy(model0)
    again = train(resumed, source, np.arange(48), targets, cfg, seed=0, device=CPU, checkpoint=ckpt)
    assert (again.step, again.best_step, len(again.history)) == (stopped.step, stopped.best_step, len(stopped.history))
    first_weights, resumed_weights = first.state_dict(), resumed.state_dict()
    for name in first_weights:
        torch.testing.assert_close(resumed_weights[name], first_weights[name], rtol=0, atol=0, msg=name)
