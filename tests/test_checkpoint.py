"""Resume checkpoints sit in a stage's `.partial` folder, open to anyone who shares the cache: a
damaged, garbled or forged one is discarded with one line and training restarts; it never loads
into the model, never commits a wrong stage and never leaves the stage stuck."""

from __future__ import annotations

import pytest
import torch

from oversight.hashing import file_sha256
from oversight.training.checkpoint import Checkpoint, TrainState

TOTAL = 50


def objects():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    return model, optimizer, scheduler


@pytest.fixture
def saved(tmp_path):
    model, optimizer, scheduler = objects()
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    ckpt = Checkpoint(tmp_path / "train.ckpt")
    ckpt.save(model, optimizer, scheduler, TrainState(step=7, epoch=1, best_step=6, best_score=0.5), None)
    return ckpt, model


def forge(ckpt: Checkpoint, edit) -> None:
    """Rewrite the checkpoint through `edit(blob)` and its recorded sha256 with it: a forger who has both."""
    blob = torch.load(ckpt.path, weights_only=True)
    edit(blob)
    torch.save(blob, ckpt.path)
    ckpt.sidecar.write_text(file_sha256(ckpt.path))


def test_a_sound_checkpoint_resumes_exactly(saved):
    ckpt, trained = saved
    model, optimizer, scheduler = objects()
    state, best = ckpt.load(model, optimizer, scheduler, TOTAL)
    assert (state.step, state.best_step, best) == (7, 6, None)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), trained.state_dict().values()))


def garble_tensor_bytes(ckpt: Checkpoint) -> None:  # finite garbage over stored weights: still a loadable file
    data = bytearray(ckpt.path.read_bytes())
    at = data.find(b"data/0") + 200
    data[at:at + 16] = bytes(range(16))
    ckpt.path.write_bytes(bytes(data))


def nan_weights(blob):
    blob["model"]["0.weight"][0, 0] = float("nan")


FAULTS = {
    "tensor bytes overwritten": (garble_tensor_bytes, "does not match the sha256"),
    "sha256 missing": (lambda c: c.sidecar.unlink(), "no recorded sha256"),
    "step beyond the run, hash forged": (lambda c: forge(c, lambda b: b["state"].update(step=10**6)), "do not fit a run of 50 steps"),
    "step not a number, hash forged": (lambda c: forge(c, lambda b: b["state"].update(step="abc")), "do not fit a run"),
    "unknown state field, hash forged": (lambda c: forge(c, lambda b: b["state"].update(extra=1)), "unexpected keyword"),
    "NaN weights, hash forged": (lambda c: forge(c, nan_weights), "model holds NaN or inf"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_bad_checkpoint_is_discarded_and_leaves_the_model_untouched(saved, fault, capsys):
    ckpt, _ = saved
    damage, message = FAULTS[fault]
    damage(ckpt)
    model, optimizer, scheduler = objects()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert ckpt.load(model, optimizer, scheduler, TOTAL) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "discarded" in out and message in out and "training restarts" in out
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not ckpt.path.exists() and not ckpt.sidecar.exists()  # gone, so the next attempt starts clean


def test_kept_weights_are_overwritten_in_place_and_never_alias_the_model():
    """Model selection keeps one copy of the best weights: a better evaluation overwrites the
    earlier copy's buffers instead of allocating a second one, and the copy never shares storage
    with the model (training on must not move the kept weights)."""
    from oversight.training.checkpoint import trainable_state

    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    first = trainable_state(model)
    buffers = {k: v.data_ptr() for k, v in first.items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    again = trainable_state(model, into=first)
    assert again is first and {k: v.data_ptr() for k, v in again.items()} == buffers
    assert all(torch.equal(again[k], v) for k, v in model.state_dict().items())
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.0)
    assert all(v.abs().sum() > 0 for v in again.values())


def test_frozen_weights_are_not_written_and_a_resume_restores_the_trained_ones(tmp_path):
    """A LoRA-style model: the frozen base is rebuilt from its pretrained files on resume, so the
    checkpoint holds only what training changes (and the head); the resumed model equals the trained one."""
    def frozen_base():
        model, _, _ = objects()
        model[0].requires_grad_(False)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
        return model, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)

    trained, optimizer, scheduler = frozen_base()
    trained(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    ckpt = Checkpoint(tmp_path / "train.ckpt")
    ckpt.save(trained, optimizer, scheduler, TrainState(step=3), None)
    assert set(torch.load(ckpt.path, weights_only=True)["model"]) == {"1.weight", "1.bias"}
    model, optimizer, scheduler = frozen_base()
    assert not torch.equal(model[1].weight, trained[1].weight)
    state, _ = ckpt.load(model, optimizer, scheduler, TOTAL)
    assert state.step == 3 and all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), trained.state_dict().values()))
