"""Multi-process (DDP-style) training helpers: who am I, shard a batch, sum gradients, gather predictions.

A run launched by `torchrun`, `accelerate launch` or a multi-task SLURM job has RANK/WORLD_SIZE in
its environment; `init_distributed` joins the process group (NCCL on GPU, gloo on CPU). Every
helper is a no-op in a single process, so the trainer reads the same either way. Semantics: the
configured batch is the *global* batch; each rank takes every world_size-th example of it, and
gradients are summed across ranks, so one step equals the single-process step.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def _dist():
    if "torch" not in sys.modules:  # nothing imported torch, so no process group (keeps this import light)
        return None
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def world_size() -> int:
    dist = _dist()
    return dist.get_world_size() if dist else 1


def rank() -> int:
    dist = _dist()
    return dist.get_rank() if dist else 0


def is_main() -> bool:
    """Only rank 0 writes run files, stage outputs and logs."""
    return rank() == 0


def init_distributed(device: torch.device) -> torch.device:
    """Join the process group if launched with WORLD_SIZE > 1; return this rank's device."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device
    import torch
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    faulthandler.enable()  # a rank that aborts in C++ (gloo, NCCL) prints where its Python was
    if not dist.is_initialized():
        # Ranks can wait long on each other (one computes features or a stage the other reuses).
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(hours=2))
    return device


def local_shard(indices: np.ndarray) -> np.ndarray:
    """This rank's share of a global batch (strided, so shares differ by at most one example)."""
    return indices[rank() :: world_size()]


def all_reduce_grads(model: torch.nn.Module) -> None:
    """Sum gradients across ranks, flattened into one buffer (one collective per step).

    Each rank's loss is already weighted by 1/global batch, so the sum is the global-batch gradient.
    DDP would overlap this with backward; a single flat all-reduce is simpler and enough here.
    """
    dist = _dist()
    if dist is None:
        return
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:  # a rank whose shard never touched p still has to take part
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    offset = 0
    for p in params:
        n = p.numel()
        p.grad.copy_(flat[offset : offset + n].view_as(p.grad))
        offset += n


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    dist = _dist()
    if dist is not None:
        value = value.clone()
        dist.all_reduce(value)
    return value


def max_over_ranks(n: int) -> int:
    """The largest `n` any rank holds."""
    dist = _dist()
    if dist is None:
        return n
    import torch

    value = torch.tensor([n], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return int(value)


def all_gather_rows(local: torch.Tensor) -> torch.Tensor:
    """Every rank's rows of `local` stacked (rank order), on every rank; shards may differ in size."""
    dist = _dist()
    if dist is None:
        return local
    import torch

    size = torch.tensor([local.shape[0]], device=local.device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    counts = [int(s) for s in sizes]
    padded = local.new_zeros((max(counts), *local.shape[1:]))  # all_gather wants equal shapes
    padded[: local.shape[0]] = local
    parts = [torch.zeros_like(padded) for _ in counts]
    dist.all_gather(parts, padded)
    return torch.cat([part[:n] for part, n in zip(parts, counts)])


def gather_rows(local: np.ndarray, n_total: int) -> np.ndarray:
    """Reassemble rows computed on `local_shard(range(n_total))` into the full array, on every rank."""
    dist = _dist()
    if dist is None:
        return local
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, local)
    like = max(parts, key=len)  # a rank with an empty shard sends a placeholder
    out = np.zeros((n_total, *like.shape[1:]), dtype=like.dtype)
    for r, part in enumerate(parts):
        if len(part):
            out[r :: len(parts)] = part
    return out


def broadcast_object(obj):
    """Rank 0's `obj` on every rank."""
    dist = _dist()
    if dist is None:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    dist = _dist()
    if dist is not None:
        dist.barrier()


_left = False


def leave() -> None:
    """Wait for every rank, then tear the process group down while the interpreter is still whole.

    A rank that exits with a live gloo group, or destroys it while a peer is still mid-collective,
    can abort in gloo's threads ("terminate called without an active exception").
    """
    global _left
    dist = _dist()
    if dist is not None:
        dist.barrier()
        dist.destroy_process_group()
        _left = True


def end_rank(code: int) -> None:
    """End a rank that has left its process group with `code`, skipping the interpreter's teardown.

    Even after `leave`, CI twice saw rank 0 of a finished two-rank run abort on its way out
    ("terminate called without an active exception", exit -6), which fails a run whose work is done.
    Past `leave` a rank has nothing left to do, so it flushes its output and exits without
    destroying torch's C++ state. A no-op in a process that never joined a group.
    """
    if _left:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
