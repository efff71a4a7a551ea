"""What a trained role is configured by: its model (`ClassifierConfig`) and its training (`TrainConfig`).

Schemas only: no torch here, so loading and printing a config stays fast. A student follows the
strong model's training unless its section says otherwise (`follows("strong.train", ...)`): its
fields are interpolations of the strong role's, resolved into the saved config.yaml, so the ceiling
and the student train alike by default (the comparison PGR rests on) and every value is explicit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from oversight.errors import ConfigError
from oversight.keys import keyed_if_set, unkeyed
from oversight.models.catalog import check_model_name
from oversight.training.losses import LOSSES, LossConfig
from oversight.training.selection import check_selection

SCHEDULES = ("cosine", "linear", "constant")
PARALLEL = ("replicate", "fsdp")  # how several ranks hold a model (oversight/training/sharding.py)


@dataclass
class TrainConfig:
    epochs: float = 3.0  # passes over the training set (fractions allowed)
    batch_size: int = 32  # examples per optimizer step (micro_batch_size × grad accumulation)
    micro_batch_size: int = 0  # examples per forward pass; 0 = batch_size (no accumulation)
    eval_batch_size: int = 256  # examples per forward pass when predicting (no grads, so larger)
    lr: float = 1e-3  # peak learning rate
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    schedule: str = "cosine"  # cosine | linear | constant, after warm-up
    warmup_frac: float = 0.1  # fraction of steps with linear lr warm-up
    max_grad_norm: float = 1.0  # clip the global gradient norm (0 = off)
    val_frac: float = 0.1  # held-out slice of the training targets, scored at every eval (and used by `select`)
    evals_per_epoch: int = 2  # held-out evaluations per epoch
    checkpoint_every_s: float = unkeyed(60.0)  # a resume checkpoint at the first evaluation this many seconds after the last (0 = every one)
    select: str = "gold_holdout"  # which weights to keep: none (final) | gold_holdout | label_loss | label_agreement | label_auroc
    patience: int = 0  # evals without improvement under `select` before stopping (0 = train to the end)
    bf16: bool = True  # bf16 autocast on CUDA
    cpu_bf16: bool = keyed_if_set(False)  # bf16 autocast on a CPU too (~1.8x faster training where it multiplies bf16 natively: AVX512-BF16 or AMX; numbers differ from fp32 by bf16 rounding)
    tf32: bool = True  # TF32 matmuls on CUDA (ignored on CPU)
    parallel: str = unkeyed("replicate")  # with several ranks: replicate (each holds the model; gradients all-reduced, as DDP) | fsdp (weights, gradients and optimizer state sharded)
    log_every: int = unkeyed(20)  # optimizer steps between logged train losses (the only host-device syncs)
    loss: LossConfig = field(default_factory=lambda: LOSSES.config("xent"))  # registered loss and its own settings ({name: logconf, alpha_max: 0.75})

    def autocasts(self, device) -> bool:
        """Whether this training runs its matmuls in bf16 on `device` (a `torch.device`)."""
        return self.bf16 if device.type == "cuda" else self.cpu_bf16 and device.type == "cpu"

    def validate(self) -> None:
        positive(self, "lr", "batch_size", "eval_batch_size", "log_every", "evals_per_epoch", "epochs")
        non_negative(self, "weight_decay", "max_grad_norm", "patience", "micro_batch_size", "checkpoint_every_s")
        if not 0 <= self.warmup_frac < 1:
            raise ConfigError(f"warmup_frac={self.warmup_frac} must be in [0, 1)")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule={self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if self.micro_batch_size and self.batch_size % self.micro_batch_size:
            raise ConfigError(f"batch_size {self.batch_size} is not a multiple of micro_batch_size {self.micro_batch_size}")
        if not 0 <= self.val_frac < 1:
            raise ConfigError(f"val_frac={self.val_frac} must be in [0, 1)")
        check_selection(self.select, gold_targets=True)
        if self.select != "none" and self.val_frac == 0:
            raise ConfigError(f"select={self.select} needs a held-out slice; set val_frac > 0 or select=none")
        if self.parallel not in PARALLEL:
            raise ConfigError(f"parallel={self.parallel!r}; choose one of {', '.join(PARALLEL)}")
        if self.patience and self.select == "none":
            raise ConfigError("patience needs a selection rule; select=none trains to the end")


MODES = ("probe", "full", "lora")
POOLINGS = ("auto", "mean", "cls", "last")


@dataclass
class ClassifierConfig:
    model: str = "minilm-l6"  # registered short name (`oversight list`), local folder or hub id
    revision: str = ""  # hub branch, tag or commit (e.g. Pythia's step1000); "" = main. Keys use the resolved commit
    mode: str = "probe"  # probe (frozen backbone, cached features) | full | lora
    pooling: str = "auto"  # auto (mean for encoders, last token for decoders) | mean | cls | last
    layer: int = -1  # hidden layer whose states are pooled (-1 = last)
    max_length: int = 128  # tokens per example after truncation
    head_dropout: float = 0.0  # dropout before the linear head
    lora_r: int = 8  # LoRA rank (mode=lora); the LoRA defaults are EleutherAI/w2s's (peft's own on every linear layer)
    lora_alpha: int = 8  # LoRA scaling numerator (mode=lora)
    lora_dropout: float = 0.0  # LoRA dropout (mode=lora)
    gradient_checkpointing: bool = False  # recompute activations in backward (large students)
    compile: bool = False  # torch.compile the model (GPU runs; slow to warm up on CPU)
    packing: bool = keyed_if_set(True)  # pack each batch's examples into shared rows, none attending across (oversight/training/packing.py); models it would change pad as before

    def validate(self) -> None:
        check_model_name(self.model)
        if self.mode not in MODES:
            raise ConfigError(f"mode={self.mode!r} for model {self.model!r}; choose one of {', '.join(MODES)}")
        if self.pooling not in POOLINGS:
            raise ConfigError(f"pooling={self.pooling!r}; choose one of {', '.join(POOLINGS)}")
        positive(self, "max_length", "lora_r", "lora_alpha")
        if not 0 <= self.head_dropout < 1 or not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"head_dropout={self.head_dropout}, lora_dropout={self.lora_dropout}: dropout must be in [0, 1)")


def positive(cfg, *names: str, zero: bool = False) -> None:
    """Each named field is a finite number > 0 (>= 0 with `zero`; NaN and inf fail), else a ConfigError naming it."""
    for name in names:
        value = getattr(cfg, name)
        if not (math.isfinite(value) and (value >= 0 if zero else value > 0)):
            raise ConfigError(f"{name}={value} must be a finite number {'>=' if zero else '>'} 0")


def non_negative(cfg, *names: str) -> None:
    positive(cfg, *names, zero=True)


@dataclass
class RoleConfig:
    """A model and how it trains (the weak supervisor, the strong model, ...)."""

    model: ClassifierConfig = field(default_factory=ClassifierConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def follows(section: str, **explicit) -> TrainConfig:
    """A TrainConfig whose fields not in `explicit` interpolate `section`'s (`${strong.train.lr}`, ...)."""
    values = {f.name: explicit[f.name] if f.name in explicit else f"${{{section}.{f.name}}}" for f in fields(TrainConfig)}
    return TrainConfig(**values)
