"""A whole weak-to-strong run, stage by stage: `oversight run` as a user runs it against the same
pipeline written the way openai/weak-to-strong's `train_simple` runs it.

Both pipelines do Burns et al.'s four steps on the same rows of the same data: train the weak
model on gold (weak_train), label strong_train with it, train the strong ceiling on gold, train
the strong student on the weak labels (soft, cross-entropy), each fully fine-tuned for the same
epochs at the same batch size and lr, scoring the test split after each training. Ours is
`run_experiment` on a generated W2S config, timed from its stages' own `seconds`; it holds 10% of
each training set out and evaluates on it as a run does, so it takes 10% fewer steps and does that
extra work, and its labelling stage loads the weak model back from disk. The reference loads a
fresh pretrained model for each training and tokenizes the data for it, runs `naive_fit` (the
reference loop, minibatch = batch), predicts the test split in dataset order and saves the
trained weights (`train_simple` saves every model it trains). In both, a
training stage's time includes building its model from the pretrained weights; ours tokenizes once
per model (the student reuses the ceiling's tokens), the reference once per training. Examples/s
compares the stages; the whole run's wall time includes loading the data. On CUDA ours runs its
bf16 autocast and the reference plain fp32, as each does by default. On a CPU that multiplies bf16
natively, `ours_bf16` is the same run with `train.cpu_bf16=true`; the reference stays fp32.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from oversight.bench.config import BenchConfig
from oversight.bench.naive import naive_fit, naive_predict, strict_fp32
from oversight.bench.task import TokenCounter, rotated

STAGES = ("weak", "labels", "ceiling", "student")


def pipeline_overrides(cfg: BenchConfig, out_dir: Path, bf16: bool = False) -> list[str]:
    """The W2S run both pipelines perform, as `oversight run` overrides (`bf16`: ours with `cpu_bf16`)."""
    n = cfg.pipeline_split
    train = (f"{{epochs: {cfg.pipeline_epochs}, lr: {cfg.lr}, batch_size: {cfg.batch_size}, weight_decay: 0.01, "
             f"val_frac: {cfg.val_frac}, eval_batch_size: {cfg.eval_batch_size}, cpu_bf16: {str(bf16).lower()}}}")
    return ["protocol=w2s", f"seeds=[{cfg.seed}]", f"out_dir={out_dir}", f"feature_cache={out_dir / '_features'}",
            "wandb.mode=disabled", f"device={cfg.device}", f"data.name={cfg.data}", f"data.max_examples={cfg.max_examples}",
            f"split.weak_train={n}", f"split.strong_train={n}", f"split.test={n // 2}",
            f"weak.model={{model: {cfg.pipeline_weak}, mode: full, max_length: {cfg.max_length}}}",
            f"strong.model={{model: {cfg.pipeline_strong}, mode: full, max_length: {cfg.max_length}}}",
            f"weak.train={train}", f"strong.train={train}", "w2s.student.loss=xent"]


def our_pipeline(cfg: BenchConfig, bf16: bool = False) -> dict:
    """`run_experiment` in a fresh store: wall seconds, and each stage's seconds and examples."""
    from oversight.config import load_config
    from oversight.experiment import run_experiment

    with tempfile.TemporaryDirectory() as tmp:
        exp = load_config(None, pipeline_overrides(cfg, Path(tmp), bf16))
        start = time.perf_counter()
        results = run_experiment(exp)
        wall = time.perf_counter() - start
        stages = {}
        for kind in STAGES:
            (meta_file,) = (Path(tmp) / "_stages" / kind).glob("*/meta.json")
            meta = json.loads(meta_file.read_text())
            examples = meta["total_steps"] * cfg.batch_size if kind != "labels" else cfg.pipeline_split
            stages[kind] = {"seconds": meta["seconds"], "examples": examples}
    summary = results["summary"]
    return {"wall_seconds": wall, "stages": stages,
            "accuracy": {k: summary[f"{k}_acc"]["mean"] for k in ("weak", "student", "ceiling")}}


def reference_pipeline(cfg: BenchConfig, device: torch.device) -> dict:
    """The same four steps with the reference loop, on the rows our run uses."""
    from oversight.config import load_config
    from oversight.data import load_dataset_from_config
    from oversight.protocols.splits import make_split

    with tempfile.TemporaryDirectory() as tmp:
        run = load_config(None, pipeline_overrides(cfg, Path(tmp))).run
    saved = tempfile.TemporaryDirectory()
    start = time.perf_counter()
    dataset = load_dataset_from_config(run.data)
    split = make_split(len(dataset), run.split, run.data.seed, cfg.seed)
    gold = np.eye(len(dataset.classes), dtype=np.float32)[dataset.labels]
    stages: dict[str, dict] = {}

    def fit(kind: str, model_name: str, rows: np.ndarray, targets: np.ndarray):
        began = time.perf_counter()
        model, tokens = _fresh(cfg, model_name, dataset, device)
        steps = max(1, int(cfg.pipeline_epochs * len(rows)) // cfg.batch_size)
        naive_fit(model, tokens, rows, targets, steps, cfg, device, TokenCounter())
        test = naive_predict(model, tokens, split.test, cfg, device, TokenCounter())
        torch.save(model.state_dict(), Path(saved.name) / f"{kind}.bin")  # as train_simple's save_pretrained
        stages[kind] = {"seconds": time.perf_counter() - began, "examples": steps * cfg.batch_size}
        return model, tokens, float((test.argmax(-1) == dataset.labels[split.test]).mean())

    with strict_fp32(device):
        weak, weak_tokens, weak_acc = fit("weak", cfg.pipeline_weak, split.weak_train, gold)
        began = time.perf_counter()
        labels = np.zeros_like(gold)
        labels[split.strong_train] = naive_predict(weak, weak_tokens, split.strong_train, cfg, device, TokenCounter())
        stages["labels"] = {"seconds": time.perf_counter() - began, "examples": len(split.strong_train)}
        _, _, ceiling_acc = fit("ceiling", cfg.pipeline_strong, split.strong_train, gold)
        _, _, student_acc = fit("student", cfg.pipeline_strong, split.strong_train, labels)
    wall = time.perf_counter() - start
    saved.cleanup()
    return {"wall_seconds": wall, "stages": {k: stages[k] for k in STAGES},
            "accuracy": {"weak": weak_acc, "student": student_acc, "ceiling": ceiling_acc}}


def _fresh(cfg: BenchConfig, model_name: str, dataset, device: torch.device):
    """A pretrained model with a new head and the dataset's tokens, as the reference builds one per training."""
    from oversight.models import resolve_model
    from oversight.training.batching import tokenize
    from oversight.training.classifier import build_text_classifier
    from oversight.training.config import ClassifierConfig

    torch.manual_seed(cfg.seed)
    tokenizer, model = build_text_classifier(ClassifierConfig(model=model_name, mode="full", max_length=cfg.max_length),
                                             resolve_model(model_name).path, len(dataset.classes))
    return model.to(device), tokenize(tokenizer, dataset.texts, cfg.max_length)


def pipeline_bench(cfg: BenchConfig, device: torch.device, log=print, bf16: bool = False) -> dict:
    """The pipelines, interleaved `pipeline_reps` times; medians and per-stage speed-ups of ours (and `ours_bf16`).

    Each pipeline first runs once, untimed, on two batches for one epoch: the first run in a process
    pays one-time costs (loading the strong model's files, first calls into code paths the training
    arms did not take) that would otherwise fall on whichever arm runs first (measured: ours' weak
    stage took 16.1 s cold and 10.2 s warm).
    """
    arms = {"ours": our_pipeline, "reference": partial(reference_pipeline, device=device)}
    if bf16:
        arms["ours_bf16"] = partial(our_pipeline, bf16=True)
    warm = replace(cfg, pipeline_split=2 * cfg.batch_size, pipeline_epochs=1.0)
    for arm in arms.values():
        arm(warm)
    runs: dict[str, list[dict]] = {name: [] for name in arms}
    for rep in range(cfg.pipeline_reps):
        for name in rotated(arms, rep):
            runs[name].append(arms[name](cfg))
            log(f"[rep {rep}] pipeline {name:<10} {runs[name][-1]['wall_seconds']:7.1f} s")
    out = {name: _median_run(r) for name, r in runs.items()}
    out["speedups"] = _speedups(out["ours"], out["reference"])
    if bf16:
        out["speedups_bf16"] = _speedups(out["ours_bf16"], out["reference"])
    out["runs"] = runs
    return out


def _speedups(ours: dict, ref: dict) -> dict[str, float]:
    rate = lambda run, kind: run["stages"][kind]["examples"] / run["stages"][kind]["seconds"]  # noqa: E731
    return {**{kind: rate(ours, kind) / rate(ref, kind) for kind in STAGES}, "pipeline_wall": ref["wall_seconds"] / ours["wall_seconds"]}


def _median_run(runs: list[dict]) -> dict:
    med = lambda xs: float(np.median(xs))  # noqa: E731
    return {"wall_seconds": med([r["wall_seconds"] for r in runs]),
            "stages": {k: {"seconds": med([r["stages"][k]["seconds"] for r in runs]), "examples": runs[0]["stages"][k]["examples"]}
                       for k in STAGES},
            "accuracy": runs[-1]["accuracy"]}


def format_pipeline(p: dict) -> str:
    ours = [name for name in ("ours", "ours_bf16") if name in p]
    head = f"{'stage':<14} {'ref s':>8} {'ref ex/s':>10}" + "".join(f" {n + ' s':>14} {'ex/s':>8} {'speed-up':>9}" for n in ours)
    lines = [head, "-" * len(head)]
    for kind in [*STAGES, "whole run"]:
        key = "pipeline_wall" if kind == "whole run" else kind
        r = p["reference"]["stages"].get(kind, {"seconds": p["reference"]["wall_seconds"]})
        row = f"{kind:<14} {r['seconds']:>8.1f} {_rate(r):>10}"
        for name in ours:
            o = p[name]["stages"].get(kind, {"seconds": p[name]["wall_seconds"]})
            row += f" {o['seconds']:>14.1f} {_rate(o):>8} {p['speedups' if name == 'ours' else 'speedups_bf16'][key]:>8.2f}x"
        lines.append(row)
    acc = lambda a: ", ".join(f"{k} {v:.3f}" for k, v in a.items())  # noqa: E731
    lines += [f"test accuracy: {name} {acc(p[name]['accuracy'])}" for name in ("reference", *ours)]
    return "\n".join(lines)


def _rate(stage: dict) -> str:
    return f"{stage['examples'] / stage['seconds']:.1f}" if "examples" in stage else ""
