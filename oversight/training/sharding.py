"""Fully sharded data parallel training (FSDP; Zhao et al. 2023, "PyTorch FSDP"), through torch's FSDP2.

With `train.parallel=fsdp` and several ranks, every transformer block (the classes a Hugging Face
model lists in `_no_split_modules`, as accelerate's auto-wrap policy reads them) and then the whole
classifier become FSDP units: each rank keeps 1/world of every weight, gradient and AdamW moment,
and a unit's full weights exist only while it runs forward or backward. A strong model whose
weights, gradients and optimizer state do not fit one device is trained this way. This is the engine
accelerate's FSDP plugin (`fsdp_version=2`) drives; `oversight` calls it directly because
accelerate falls back to DDP without a GPU (a CPU launch with an FSDP plugin trains replicated), so
the same code path is tested here on 2 CPU processes (gloo) and runs on GPUs (NCCL).

The trainer's global-batch semantics hold: gradients are reduce-scattered as a sum (divide factor
1), since each rank's loss is already weighted by its share of the global batch. Every rank must
run the same number of forward passes (each one gathers weights from all), so prediction pads the
shorter ranks' batch lists (`same_count`). Saved weights and resume checkpoints hold the full,
gathered tensors, so a stage's files are the same whatever the number of ranks.
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from oversight.errors import ConfigError
from oversight.training import distributed as dist


def shard(model: torch.nn.Module) -> None:
    """Make each transformer block of `model`, then `model` itself, an FSDP unit (in place)."""
    from torch.distributed.fsdp import fully_shard

    blocks = {name for m in model.modules() for name in (getattr(m, "_no_split_modules", None) or [])}
    for module in list(model.modules())[1:]:
        if type(module).__name__ in blocks:
            fully_shard(module)
    fully_shard(model)
    for unit in model.modules():  # both walk only one unit's groups
        if hasattr(unit, "set_gradient_divide_factor"):
            unit.set_gradient_divide_factor(1.0)  # a sum: each rank's loss already carries its share of the batch
            unit.set_force_sum_reduction_for_comms(True)  # plain SUM collectives (gloo has no PREMUL_SUM)


def wanted(parallel: str, batch_size: int) -> bool:
    """Whether a training with `parallel` shards its model in this process group."""
    if parallel != "fsdp" or dist.world_size() == 1:
        return False
    if batch_size < dist.world_size():
        raise ConfigError(f"parallel=fsdp needs batch_size ({batch_size}) >= the number of ranks ({dist.world_size()}): "
                          "every rank runs every forward pass")
    return True


def is_sharded(model: torch.nn.Module) -> bool:
    if "torch.distributed.fsdp" not in sys.modules:  # nothing sharded yet
        return False
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def _dtensor():
    from torch.distributed.tensor import DTensor

    return DTensor


def local(t: torch.Tensor) -> torch.Tensor:
    """This rank's part of a tensor (the tensor itself when it is not sharded)."""
    return t.to_local() if isinstance(t, _dtensor()) else t


def whole(t: torch.Tensor) -> torch.Tensor:
    """A tensor gathered whole on this device (itself when it is not sharded); a collective if sharded."""
    return t.full_tensor() if isinstance(t, _dtensor()) else t


def gathered(tree: Any) -> Any:
    """`tree` (nested dicts and lists of tensors) with every sharded tensor gathered whole, on the CPU.

    A collective when anything is sharded: every rank calls it with the same structure. One tensor
    is whole on the device at a time, so a device never holds the whole model and its optimizer state.
    """
    if isinstance(tree, torch.Tensor):
        return whole(tree).cpu() if isinstance(tree, _dtensor()) else tree
    if isinstance(tree, dict):
        return {k: gathered(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(gathered(v) for v in tree)
    return tree


def placed_like(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A whole tensor cut to `like`'s layout: this rank's shard if `like` is sharded, else itself."""
    if isinstance(like, _dtensor()) and not isinstance(value, _dtensor()):
        from torch.distributed.tensor import distribute_tensor

        return distribute_tensor(value.to(like.device, like.dtype), like.device_mesh, like.placements)
    return value


def placed_state(state: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A whole state dict laid out as `model`'s own (shards where the model is sharded)."""
    own = model.state_dict()
    return {k: placed_like(v, own[k]) if k in own else v for k, v in state.items()}


def placed_optimizer_state(saved: dict, optimizer: torch.optim.Optimizer) -> dict:
    """A whole optimizer state dict with each parameter's moments laid out as that parameter."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state = {i: {k: placed_like(v, params[i]) if isinstance(v, torch.Tensor) and v.ndim > 0 else v for k, v in moments.items()}
             for i, moments in saved["state"].items()}
    return {**saved, "state": state}
