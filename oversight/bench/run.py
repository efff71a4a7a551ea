"""Run the whole benchmark: training arms, labelling arms, matmul rate, probe sweep, profile.

Arms are interleaved (the order rotates each repetition) so that load from other processes on a
shared machine hits every arm alike; medians are reported. The matmul rate is measured between
repetitions in the same process, so the "fraction of matmul" compares like with like.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from oversight.atomic import atomic_write_bytes
from oversight.bench.flops import matmul_dtype, matmul_flops_per_second, sync
from oversight.bench.hf import trainer_training
from oversight.bench.memory import live_tensor_peak_mb
from oversight.bench.naive import naive_labelling, naive_training, naive_training_mb1
from oversight.bench.ours import our_labelling, our_training
from oversight.bench.pipeline import format_pipeline, pipeline_bench
from oversight.bench.probe import probe_sweep, sweep_flops_ratio
from oversight.bench.profile import profile_ours
from oversight.bench.report import format_profile, format_table, summarize
from oversight.bench.task import BenchConfig, Task, bf16_arms, fresh_model, load_task, rotated
from oversight.training.batching import length_grouped_order, sorted_order
from oversight.training.device import configure_matmul, pick_device


def padding_report(cfg: BenchConfig, task: Task) -> dict:
    """Padding waste of each batching over one full epoch of the training pool (no model run)."""
    lengths = task.tokens.lengths[task.pool_idx].astype(np.float64)
    grouped = length_grouped_order(lengths, cfg.batch_size, torch.Generator().manual_seed(cfg.seed))
    perm = np.random.default_rng(cfg.seed).permutation(len(lengths))
    fixed = [perm[i : i + cfg.batch_size] for i in range(0, len(perm), cfg.batch_size)]

    def waste(batches) -> float:
        return 1.0 - lengths.sum() / sum(lengths[b].max() * len(b) for b in batches)

    label_lengths = task.tokens.lengths[task.label_idx].astype(np.float64)
    by_length = np.argsort(-label_lengths, kind="stable")
    plain_sorted = [by_length[i : i + cfg.eval_batch_size] for i in range(0, len(by_length), cfg.eval_batch_size)]

    def label_waste(batches) -> float:
        return 1.0 - label_lengths.sum() / sum(label_lengths[b].max() * len(b) for b in batches)

    return {"ours_full_pool": waste(grouped), "naive_full_pool": waste(fixed),
            "max_length_full_pool": 1.0 - lengths.mean() / cfg.max_length, "n_texts": len(task.tokens.ids),
            "label_token_budget": label_waste(sorted_order(label_lengths, cfg.eval_batch_size)),
            "label_plain_sorted": label_waste(plain_sorted)}


def measure_matmul(samples: dict[str, list[float]], device: torch.device) -> None:
    for name in samples:
        samples[name].append(matmul_flops_per_second(device, dtype=getattr(torch, name)))


def bf16_speedups(train: dict, label: dict) -> dict[str, float]:
    """Our bf16 arms against the reference loop (fp32, it has no bf16 mode) and against HF Trainer in both precisions."""
    ours = train["ours_bf16"]["examples_per_s"]
    out = {"vs_naive": ours / train["naive"]["examples_per_s"], "vs_naive_mb1": ours / train["naive_mb1"]["examples_per_s"],
           "label_vs_naive": label["ours_bf16"]["examples_per_s"] / label["naive"]["examples_per_s"],
           "vs_ours_fp32": ours / train["ours"]["examples_per_s"]}
    for name in ("hf_trainer", "hf_trainer_bf16"):
        if name in train:
            out[f"vs_{name}"] = ours / train[name]["examples_per_s"]
    return out


def optimizer_step_seconds(task: Task, device: torch.device, repeats: int = 5) -> dict[str, float]:
    """One AdamW step over the whole model: the default (for-loop on CPU) vs foreach vs fused."""
    model = fresh_model(task, device)
    params = list(model.parameters())
    for p in params:
        p.grad = torch.randn_like(p)
    out = {}
    for name, kwargs in (("default", {}), ("foreach", {"foreach": True}), ("fused", {"fused": True})):
        optimizer = torch.optim.AdamW(params, lr=1e-5, **kwargs)
        optimizer.step()  # allocates the moment buffers
        times = []
        for _ in range(repeats):
            sync(device)
            start = time.perf_counter()
            optimizer.step()
            sync(device)
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    return out


def run_bench(cfg: BenchConfig, out: Path | None = None, log=print) -> dict:
    cfg.validate()
    device = pick_device(cfg.device)
    configure_matmul(device, tf32=True)
    started = time.time()
    task = load_task(cfg)
    bf16 = bf16_arms(cfg, device)
    train_arms = {"ours": our_training, "naive": naive_training, "naive_mb1": naive_training_mb1}
    if cfg.trainer:
        train_arms["hf_trainer"] = trainer_training
    label_arms = {"ours": our_labelling, "naive": naive_labelling}
    if bf16:  # the same loops with bf16 matmuls; the reference loop has no such mode and stays fp32
        train_arms["ours_bf16"] = partial(our_training, bf16=True)
        label_arms["ours_bf16"] = partial(our_labelling, bf16=True)
        if cfg.trainer:
            train_arms["hf_trainer_bf16"] = partial(trainer_training, bf16=True)
    train_runs: dict[str, list] = {k: [] for k in train_arms}
    label_runs: dict[str, list] = {k: [] for k in label_arms}
    matmul: dict[str, list[float]] = {"float32": [], "bfloat16": []} if bf16 else {str(matmul_dtype(device)).removeprefix("torch."): []}
    label_model = fresh_model(task, device)
    label_models = {name: fresh_model(task, device, peft_layers=True) if name == "naive" and cfg.mode == "lora" else label_model
                    for name in label_arms}  # the reference labels with peft's LoRA layers as they ship
    # Untimed warm-up: the first training loop in a process pays one-time costs (thread pool,
    # allocator, kernel selection) that would otherwise fall on whichever arm runs first.
    warm = replace(cfg, train_steps=2)
    for fn in train_arms.values():
        fn(warm, task, device)
    for rep in range(cfg.reps):
        measure_matmul(matmul, device)
        for name in rotated(train_arms, rep):
            arm = train_arms[name](cfg, task, device)
            train_runs[name].append(arm)
            log(f"[rep {rep}] train {name:<15} {arm.seconds:7.1f} s  {arm.rates()['examples_per_s']:7.1f} ex/s")
        for name in rotated(label_arms, rep):
            arm = label_arms[name](cfg, task, label_models[name], device)
            label_runs[name].append(arm)
            log(f"[rep {rep}] label {name:<15} {arm.seconds:7.1f} s  {arm.rates()['examples_per_s']:7.1f} ex/s")
        measure_matmul(matmul, device)
    rates = {k: statistics.median(v) for k, v in matmul.items()}
    rate = rates.get("float32", next(iter(rates.values())))  # every arm's own dtype: fp32 on CPU, bf16 on CUDA

    def of_matmul(name: str) -> float:
        return rates["bfloat16"] if name.endswith("_bf16") else rate

    train = {k: summarize(v, of_matmul(k)) for k, v in train_runs.items()}
    label = {k: summarize(v, of_matmul(k)) for k, v in label_runs.items()}
    log("probe sweep ...")
    probe = probe_sweep(cfg, device)
    probe["default_config_flops_saving"] = sweep_flops_ratio(2000, 10, cfg.probe_runs, 2000)  # the default config's weak probe
    results = {
        "speedup_vs_naive": train["ours"]["examples_per_s"] / train["naive"]["examples_per_s"],
        "speedup_vs_naive_mb1": train["ours"]["examples_per_s"] / train["naive_mb1"]["examples_per_s"],
        "speedup_vs_trainer": train["ours"]["examples_per_s"] / train["hf_trainer"]["examples_per_s"] if cfg.trainer else None,
        "label_matmul_fraction": label["ours"]["matmul_fraction"],
        "probe_backbone_flops_saving": probe["flops_saving"],
        "label_speedup_vs_naive": label["ours"]["examples_per_s"] / label["naive"]["examples_per_s"],
        # per repetition, arms run back to back: robust to load that drifts over the run
        "paired_speedups": {f"{'ours_bf16_' if k.endswith('_bf16') else ''}vs_{k}":  # each arm against ours in its precision
                            [b.seconds / a.seconds for a, b in zip(train_runs["ours_bf16" if k.endswith("_bf16") else "ours"], v)]
                            for k, v in train_runs.items() if not k.startswith("ours")},
        "speedups_bf16": bf16_speedups(train, label) if bf16 else None,
        "matmul_gflops": rate / 1e9, "matmul_gflops_samples": [m / 1e9 for m in next(iter(matmul.values()))],
        "matmul_dtype": str(matmul_dtype(device)), "matmul_bf16_gflops": rates["bfloat16"] / 1e9 if bf16 else None,
        "train": train, "label": label, "probe_sweep": probe, "padding": padding_report(cfg, task),
        "tokenize_seconds": task.tokenize_seconds, "optimizer_step_seconds": optimizer_step_seconds(task, device),
        "model": {"name": task.model_name, "mode": cfg.mode, "nonembedding_params": task.shape.nonembedding_params,
                  "params": sum(p.numel() for p in task.base_model.parameters()),
                  "trainable_params": sum(p.numel() for p in task.base_model.parameters() if p.requires_grad),
                  "lora_forward": "ours: oversight's fused; naive, hf_trainer: peft's as shipped" if cfg.mode == "lora" else None,
                  "n_layers": task.shape.n_layers, "d_model": task.shape.d_model},
        "flops_formula": "forward = 2*N_nonembedding*T + 4*n_layers*d_model*T^2 per sequence of T real tokens; training = 3x forward",
        "device": str(device), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(), "config": asdict(cfg),
    }
    if cfg.pipeline:
        log("whole W2S pipeline, ours vs the reference loop ...")
        results["pipeline"] = pipeline_bench(cfg, device, log, bf16)
    if cfg.profile:
        log("profile ...")
        results["profile"] = profile_ours(cfg, task, device)
    if cfg.memory:  # last, and after the timed results are on disk: the profiler holds every event in memory
        results["live_tensor_pass"] = "not finished"
        write_results(results, out, log)
        live_tensor_pass(cfg, task, label_models, device, train_arms, label_arms, results, log)
        results["live_tensor_pass"] = "finished"
    results["wall_seconds"] = time.time() - started
    log(format_table(results))
    if cfg.pipeline:
        log(format_pipeline(results["pipeline"]))
    if cfg.profile:
        log(format_profile(results["profile"]))
    write_results(results, out, log)
    return results


def live_tensor_pass(cfg: BenchConfig, task: Task, label_models: dict, device: torch.device, train_arms: dict,
                     label_arms: dict, results: dict, log) -> None:
    """One more run of every arm under the profiler for its live-tensor peak; training arms for
    `cfg.memory_steps` steps if set (the profiler keeps ~0.2 GB of events a step on SmolLM2)."""
    steps = min(cfg.memory_steps, cfg.steps()) if cfg.memory_steps else cfg.steps()
    short = replace(cfg, train_steps=steps)
    log(f"live-tensor peaks (one more pass of every arm under the profiler, training arms for {steps} steps) ...")
    train, label = results["train"], results["label"]
    for name, fn in train_arms.items():
        train[name]["live_peak_mb"] = live_tensor_peak_mb(partial(fn, short, task, device), device)
    for name, fn in label_arms.items():
        label[name]["live_peak_mb"] = live_tensor_peak_mb(partial(fn, cfg, task, label_models[name], device), device)
    results["live_peak_vs_naive"] = train["ours"]["live_peak_mb"] / train["naive"]["live_peak_mb"]
    results["live_peak_train_steps"] = steps


def write_results(results: dict, out: Path | None, log) -> None:
    if out is not None:
        atomic_write_bytes(out, json.dumps(results, indent=2, default=float).encode())
        log(f"wrote {out}")
