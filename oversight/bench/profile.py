"""`torch.profiler` summaries of our training steps and our labelling: where the time goes.

The top operators by self time say what limits throughput: matmuls (`aten::mm`, `addmm`, `bmm`)
mean compute-bound, as it should be; elementwise ops, copies or the optimizer mean overhead.
"""

from __future__ import annotations

import torch

from oversight.bench.ours import our_labelling, our_training
from oversight.bench.task import BenchConfig, Task, fresh_model

MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::linear")


def top_ops(prof, limit: int = 12) -> list[dict]:
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    return [{"op": e.key, "self_ms": e.self_cpu_time_total / 1e3, "self_pct": 100.0 * e.self_cpu_time_total / total,
             "calls": e.count} for e in events[:limit]]


def matmul_share(prof) -> float:
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    return sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS) / total


def profile_ours(cfg: BenchConfig, task: Task, device: torch.device, steps: int = 6) -> dict:
    """Profile a few of our training steps and one labelling pass (shortened copies of the bench arms)."""
    from dataclasses import replace

    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    short = replace(cfg, train_steps=min(steps, cfg.steps()))
    with profile(activities=activities) as train_prof:
        our_training(short, task, device)
    with profile(activities=activities) as label_prof:
        our_labelling(cfg, task, fresh_model(task, device), device)
    return {"train": {"top_ops": top_ops(train_prof), "matmul_share": matmul_share(train_prof)},
            "label": {"top_ops": top_ops(label_prof), "matmul_share": matmul_share(label_prof)}}
