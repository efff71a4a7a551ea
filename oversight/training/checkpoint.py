"""Resume state for one training stage: `TrainState` (everything besides tensors) and the
`Checkpoint` file that carries it with the weights, optimizer, scheduler and RNG.

A checkpoint sits in the stage's `.partial` folder, which a shared cache exposes to other users, so
loading checks everything before it touches the model: the file must match the sha256 written
beside it (a torn or garbled write), load as tensors only (`weights_only=True`: nothing planted can
run), fit this run's objects part by part (optimizer moments shaped like their parameters), hold no
NaN/inf and have counters that fit the run. One that fails is discarded with one line and training
restarts; a stage never gets stuck on a bad file. Whoever can write the folder can still plant a
well-formed checkpoint with a matching sha256, as with any file of a shared store (README,
"Reliability").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from oversight.atomic import atomic_write_bytes
from oversight.errors import CacheError
from oversight.hashing import file_sha256, sidecar_mismatch
from oversight.training import distributed as dist
from oversight.training import sharding
from oversight.training.weights import check_fit, read_tensors, save_tensors


@dataclass
class TrainState:
    """Everything besides tensors that a resumed run needs to continue exactly."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_score: float = -math.inf  # under the `select` rule, higher is better
    best_step: int = 0  # the step whose weights are kept (the last step when select=none)
    first_eval_step: int = 0
    bad_evals: int = 0
    history: list = field(default_factory=list)

    def kept(self, select: str) -> dict[str, int | str | bool]:
        """What the stage meta records about selection: the rule, the kept step, whether it is the first eval."""
        return {"select": select, "kept_step": self.best_step, "total_steps": self.step,
                "kept_first_eval": select != "none" and self.best_step == self.first_eval_step < self.step}


def trainable_state(model: torch.nn.Module, into: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """A copy of the weights training changes (and the head). `into`, an earlier copy, is overwritten
    in place, so model selection holds one copy of the kept weights, never an old and a new one."""
    if into is not None:
        current = model.state_dict()
        for k, v in into.items():
            v.copy_(current[k].detach())
        return into
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k in names or "head" in k}


def resume_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """What a resume needs of the model: the weights training changes (and the head) and its saved
    buffers. Frozen weights (a LoRA model's base, 540 MB of SmolLM2's 545) are not written at every
    checkpoint: a resumed stage rebuilds them from the pretrained files, as the first run did."""
    keep = {n for n, p in model.named_parameters() if p.requires_grad} | {n for n, _ in model.named_buffers()}
    return {k: v for k, v in model.state_dict().items() if k in keep or "head" in k}


class Checkpoint:
    """Resume file for one training stage: trained weights, optimizer, scheduler, RNG and TrainState."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def save(self, model, optimizer, scheduler, state: TrainState, best_weights) -> None:
        """Every rank calls it: sharded tensors are gathered whole (a collective), and rank 0 writes them,
        so the file is the same for any number of ranks. Fully fine-tuned, it holds only the embedding rows
        the stage uses unless the model is sharded (training/used_rows.py), so it resumes in the same
        `parallel` mode; from the other one it does not fit and is discarded."""
        if self.path is None:
            return
        weights, moments, best = sharding.gathered((resume_state(model), optimizer.state_dict(), best_weights))
        if not dist.is_main():
            return
        blob = {"model": weights, "optimizer": moments, "scheduler": scheduler.state_dict(),
                "state": asdict(state), "best": best, "torch_rng": torch.get_rng_state()}
        save_tensors(self.path, blob)
        atomic_write_bytes(self.sidecar, file_sha256(self.path).encode())  # after the file: a kill between the two discards it

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + ".sha256")

    def load(self, model, optimizer, scheduler, total_steps: int) -> tuple[TrainState, dict | None] | None:
        """The saved progress, loaded into the three objects; None if there is none.

        Everything is checked before anything is loaded: the file against the sha256 written beside
        it, then every part against this run's objects, its counters against `total_steps`, and its
        tensors for NaN/inf. A checkpoint that fails (a killed disk write, garbled bytes, a planted
        file) leaves the objects untouched: it is discarded with a one-line warning and training
        restarts from scratch, so the stage never gets stuck.
        """
        if self.path is None or not self.path.exists():
            return None
        try:
            if (problem := sidecar_mismatch(self.path, self.sidecar)) is not None:
                raise CacheError(problem)
            blob = read_tensors(self.path)
            state = self.check(blob, model, optimizer, total_steps)
        except (CacheError, KeyError, TypeError, ValueError) as err:
            if dist.is_main():
                print(f"warning: resume checkpoint {self.path} discarded ({type(err).__name__}: {err}); training restarts", flush=True)
            self.path.unlink(missing_ok=True)
            self.sidecar.unlink(missing_ok=True)
            return None
        optimizer.load_state_dict(sharding.placed_optimizer_state(blob["optimizer"], optimizer))  # shards where sharded
        scheduler.load_state_dict(blob["scheduler"])
        model.load_state_dict(sharding.placed_state(blob["model"], model), strict=False)  # check() saw exactly resume_state's keys
        torch.set_rng_state(blob["torch_rng"])
        return state, None if blob["best"] is None else sharding.placed_state(blob["best"], model)

    def check(self, blob: dict, model, optimizer, total_steps: int) -> TrainState:
        """The checkpoint's TrainState, after checking every part of it fits this run's objects."""
        check_fit(blob["model"], resume_state(model), self.path)
        if blob["best"] is not None:
            check_fit(blob["best"], trainable_state(model), self.path)
        for part in ("model", "best", "optimizer"):
            if not all(torch.isfinite(t).all() for t in _tensors(blob[part]) if t.is_floating_point()):
                raise ValueError(f"{part} holds NaN or inf")
        saved, fresh = blob["optimizer"], optimizer.state_dict()
        if [len(g["params"]) for g in saved["param_groups"]] != [len(g["params"]) for g in fresh["param_groups"]]:
            raise ValueError("optimizer parameter groups differ from the model's")
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for index, moments in saved["state"].items():
            shapes = {tuple(t.shape) for t in _tensors(moments) if t.ndim > 0}
            if not isinstance(index, int) or not 0 <= index < len(params) or shapes - {tuple(params[index].shape)}:
                raise ValueError(f"optimizer state {index!r} does not fit its parameter")
        rng = blob["torch_rng"]
        if not isinstance(rng, torch.Tensor) or rng.dtype != torch.uint8:
            raise ValueError("torch_rng is not a uint8 tensor")
        if not isinstance(blob["scheduler"], dict):
            raise ValueError("scheduler state is not a mapping")
        state = TrainState(**blob["state"])
        counters = [state.step, state.epoch, state.batch_in_epoch, state.best_step, state.first_eval_step, state.bad_evals]
        if not all(type(c) is int and c >= 0 for c in counters) or not state.best_step <= state.step <= total_steps:
            raise ValueError(f"its counters do not fit a run of {total_steps} steps (step {state.step!r}, best step {state.best_step!r})")
        if not isinstance(state.best_score, float) or math.isnan(state.best_score) or not isinstance(state.history, list):
            raise ValueError("its best score or history is malformed")
        return state


def _tensors(node) -> list[torch.Tensor]:
    """Every tensor inside nested dicts and lists (a state dict, an optimizer state)."""
    if isinstance(node, torch.Tensor):
        return [node]
    if isinstance(node, dict):
        return [t for v in node.values() for t in _tensors(v)]
    if isinstance(node, (list, tuple)):
        return [t for v in node for t in _tensors(v)]
    return []
