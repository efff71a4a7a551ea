"""The stage cache (skip, rerun on change, atomic, corrupt outputs) and exact resume of training."""

import numpy as np
import pytest
import torch

from oversight.errors import CacheError
from oversight.stages import StageStore
from oversight.training.batching import FeatureSource
from oversight.training.classifier import build_feature_head
from oversight.training.config import TrainConfig
from oversight.training.trainer import train


def counting_compute(calls):
    def compute(workdir):
        calls.append(workdir)
        return {"value": len(calls)}, {"x": np.arange(3)}

    return compute


def test_rerun_skips_and_changed_spec_reruns(tmp_path):
    store, calls = StageStore(tmp_path), []
    first = store.run("weak", {"lr": 1}, counting_compute(calls))
    again = store.run("weak", {"lr": 1}, counting_compute(calls))
    changed = store.run("weak", {"lr": 2}, counting_compute(calls))
    assert len(calls) == 2
    assert (first.reused, again.reused, changed.reused) == (False, True, False)
    assert again.meta["value"] == 1 and changed.key != first.key
    assert np.array_equal(again.arrays()["x"], np.arange(3))


def test_killed_stage_leaves_nothing_complete_and_resumes(tmp_path):
    store = StageStore(tmp_path)

    def dies(workdir):
        (workdir / "train.ckpt").write_text("progress")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.run("ceiling", {"a": 1}, dies)
    seen = []

    def resumes(workdir):
        seen.append((workdir / "train.ckpt").read_text())  # the partial work is still there to resume from
        return {}, {"p": np.ones(2)}

    result = store.run("ceiling", {"a": 1}, resumes)
    assert seen == ["progress"] and not result.reused
    assert not (result.path / "train.ckpt").exists()  # checkpoints go once the stage is complete
    assert [p.name for p in (tmp_path / "ceiling").iterdir() if p.suffix == ".partial"] == []


def test_corrupt_output_is_recomputed_saying_so(tmp_path, capsys):
    store = StageStore(tmp_path)
    result = store.run("labels", {"k": 1}, lambda w: ({}, {"probs": np.zeros((4, 2))}))
    (result.path / "arrays.npz").write_bytes(b"not a zip")
    again = store.run("labels", {"k": 1}, lambda w: ({}, {"probs": np.ones((4, 2))}))
    assert not again.reused and (again.arrays()["probs"] == 1).all()
    assert "arrays.npz does not match its recorded sha256; recomputing it" in capsys.readouterr().out
    with pytest.raises(CacheError, match="corrupt stage output"):  # read without the check: still one line
        (again.path / "arrays.npz").write_bytes(b"not a zip")
        again.arrays()


class Interrupt(Exception):
    pass


def tiny_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return x, np.eye(2, dtype=np.float32)[y]


def run_training(x, targets, cfg, ckpt, stop_at=None):
    torch.manual_seed(0)
    steps = []
    model = build_feature_head(torch.from_numpy(x), 2, 0.0)

    def log(metrics):
        steps.append(metrics["step"])
        if stop_at is not None and metrics.get("step") == stop_at and "val/loss" in metrics:
            raise Interrupt

    train(model, FeatureSource(x), np.arange(200), targets, cfg, seed=3, device=torch.device("cpu"), log=log, checkpoint=ckpt)
    return model, steps


def test_interrupted_training_resumes_to_identical_weights(tmp_path):
    x, targets = tiny_problem()
    cfg = TrainConfig(epochs=4, batch_size=16, lr=0.05, evals_per_epoch=2, log_every=1000, checkpoint_every_s=0)
    straight, _ = run_training(x, targets, cfg, tmp_path / "a.ckpt")
    with pytest.raises(Interrupt):
        run_training(x, targets, cfg, tmp_path / "b.ckpt", stop_at=15)  # dies at the third eval; resumes from the second
    resumed, steps = run_training(x, targets, cfg, tmp_path / "b.ckpt")
    assert min(steps) > 10  # continued after the step-10 checkpoint instead of starting over
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), name
