"""`BenchConfig`: the benchmark's sizes and switches. Light on purpose: the CLI imports it to build flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class BenchConfig:
    """Sizes and switches of `oversight bench`; every field is a CLI flag of the same name."""

    model: str = "minilm-l3"  # model of the training and labelling loops (short name, folder or hub id)
    mode: str = "full"  # how every training arm trains it: full | lora (peft adapters, the rest frozen)
    data: str = "sarcasm"  # registered dataset
    max_examples: int = 5000  # examples loaded (the default experiment's size)
    pool: int = 2000  # training pool the batches are drawn from (the default split's weak_train)
    train_steps: int = 0  # optimizer steps per training arm; 0 = one epoch of the pool's training part, as a run trains
    val_frac: float = 0.1  # our arm holds this slice of the pool out and evaluates on it, as a run does (the others do not)
    batch_size: int = 32  # examples per optimizer step, every arm
    lr: float = 5e-5  # learning rate, every arm
    max_length: int = 128  # truncation length, every arm
    label_examples: int = 1000  # examples labelled per labelling arm (disjoint from the pool)
    eval_batch_size: int = 256  # our labelling batch size (inference mode, length-sorted)
    naive_eval_batch_size: int = 32  # the naive labelling batch (the reference defaults it to the training batch)
    naive_pad: str = "batch"  # naive padding: batch (pad_sequence to the batch's longest, as the reference) | max_length
    reps: int = 3  # interleaved repetitions per arm; medians are reported
    probe_model: str = "minilm-l3"  # backbone of the probe sweep (the default weak model)
    probe_examples: int = 300  # training examples per probe run
    probe_epochs: int = 2  # epochs per probe run
    probe_runs: int = 5  # runs in the probe sweep (seeds)
    pipeline: bool = True  # time a whole W2S run (weak, labels, ceiling, student) against the reference loop's pipeline
    pipeline_weak: str = "minilm-l3"  # the pipeline's weak model (fully fine-tuned)
    pipeline_strong: str = "minilm-l6"  # the pipeline's strong model (fully fine-tuned: ceiling and student)
    pipeline_split: int = 600  # examples in each of the pipeline's weak_train and strong_train splits (test: half of it)
    pipeline_epochs: float = 2.0  # epochs of every pipeline training stage
    pipeline_reps: int = 2  # interleaved repetitions of each pipeline
    trainer: bool = True  # include the HF Trainer arm
    cpu_bf16: bool = True  # on a CPU that multiplies bf16 natively, also time our arms with bf16 autocast (a run's train.cpu_bf16=true) and HF Trainer with bf16=True; the reference loop stays fp32
    memory: bool = True  # last, after the timed results are written, one more pass of every training and labelling arm under torch.profiler for its live-tensor peak
    memory_steps: int = 0  # training steps of each arm in that pass (0 = as many as timed): the profiler keeps every event in memory, ~0.2 GB a step on SmolLM2
    profile: bool = True  # torch.profiler top ops of our training step and labelling
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0  # data order and initialisation

    def steps(self) -> int:
        """Optimizer steps every training arm takes: `train_steps`, or one epoch of the pool minus its held-out slice."""
        return self.train_steps or max(1, int(self.pool * (1 - self.val_frac)) // self.batch_size)

    def validate(self) -> None:
        from oversight.errors import ConfigError

        if self.mode not in ("full", "lora"):
            raise ConfigError(f"mode={self.mode!r}; the bench fine-tunes: full or lora")
        if self.naive_pad not in ("batch", "max_length"):
            raise ConfigError(f"naive_pad={self.naive_pad!r}; choose batch or max_length")
        if min(self.reps, self.batch_size, self.probe_runs, self.probe_epochs) < 1 or min(self.train_steps, self.memory_steps) < 0:
            raise ConfigError("reps, batch_size, probe_runs and probe_epochs must be at least 1, train_steps and memory_steps at least 0")
        if not 0 < self.val_frac < 1:
            raise ConfigError(f"val_frac={self.val_frac} must be in (0, 1): our arm evaluates and selects as a run does")
        if self.pipeline and (self.pipeline_reps < 1 or self.pipeline_split < 2 * self.batch_size or not self.pipeline_epochs > 0):
            raise ConfigError("pipeline_reps must be >= 1, pipeline_split at least two batches and pipeline_epochs > 0")
        if self.pool < self.batch_size or self.probe_examples < 2:
            raise ConfigError(f"pool ({self.pool}) must hold a batch ({self.batch_size}); probe_examples at least 2")


def field_help() -> dict[str, str]:
    """Each field's trailing comment, so the flags' help is written once, here."""
    pattern = re.compile(r"^    (\w+): [^=]+=[^#]*#\s*(.+)$")
    return {m.group(1): m.group(2) for line in Path(__file__).read_text().splitlines() if (m := pattern.match(line))}
