"""The HF `Trainer` arm: the same classifier, token ids, batch size and steps, with Trainer's defaults.

It does the job our arm does: it trains on the pool minus the held-out slice our loop holds out and
scores that slice after the same steps (as EleutherAI/w2s's Trainer scores a validation split for
early stopping), in batches of the training batch size. What we set besides: max_steps, lr, weight
decay 0.01, 10% warm-up then cosine (as our loop), grad-norm clip 1.0 (its default), bf16 on CUDA
(and on a CPU for the bf16 comparison), no saving (so no best-checkpoint reload), no reporting.
With `mode=lora` the model has peft's LoRA layers as they ship. Everything else is Trainer's default: its optimizer (`args.optim`, recorded in the output), a
random sampler (no length grouping) and `DataCollatorWithPadding`, which pads each batch to its
longest example. Tokenization happens once, outside the timing, as for the other arms.
"""

from __future__ import annotations

import tempfile

import torch
from torch import nn

from oversight.bench.ours import our_train_config
from oversight.bench.task import EVAL_COUNTER, Arm, BenchConfig, Task, TokenCounter, fresh_model, timed
from oversight.training.losses import soft_cross_entropy
from oversight.training.trainer import evaluation_steps, split_validation


class WithLoss(nn.Module):
    """Trainer wants `forward(**batch, labels)` to return the loss."""

    def __init__(self, model: nn.Module, n_classes: int) -> None:
        super().__init__()
        self.model, self.n_classes = model, n_classes

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return {"loss": soft_cross_entropy(logits, nn.functional.one_hot(labels, self.n_classes).float()), "logits": logits}


HELD_OUT = "held_out"  # marks the rows of the evaluation set, so their batches are counted as forward passes


class CountingCollator:
    def __init__(self, collator, counter: TokenCounter, eval_counter: TokenCounter) -> None:
        self.collator, self.counter, self.eval_counter = collator, counter, eval_counter

    def __call__(self, features):
        held_out = any(f.get(HELD_OUT) for f in features)
        batch = self.collator([{k: v for k, v in f.items() if k != HELD_OUT} for f in features])
        (self.eval_counter if held_out else self.counter).add(batch)
        return batch


def evaluate_after(steps: list[int]):
    """A callback that has the Trainer evaluate after exactly these optimizer steps (our loop's)."""
    from transformers import TrainerCallback

    class EvaluateAfter(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            control.should_evaluate = state.global_step in steps
            return control

    return EvaluateAfter()


def trainer_training(cfg: BenchConfig, task: Task, device: torch.device, bf16: bool = False) -> Arm:
    from transformers import DataCollatorWithPadding, PrinterCallback, Trainer, TrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    n_classes = int(task.labels.max()) + 1
    model = WithLoss(fresh_model(task, device, peft_layers=True), n_classes)
    fit, held_out = split_validation(task.pool_idx, cfg.val_frac, cfg.seed)  # the rows our loop trains on and scores
    rows = [{"input_ids": task.tokens.ids[i], "labels": int(task.labels[i])} for i in fit]
    eval_rows = [{"input_ids": task.tokens.ids[i], "labels": int(task.labels[i]), HELD_OUT: True} for i in held_out]
    steps = evaluation_steps(our_train_config(cfg, len(task.pool_idx)), len(task.pool_idx))
    used: dict = {"evaluated_after_steps": steps}

    def body(counter: TokenCounter):
        evaluated = TokenCounter()
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(
                output_dir=out, per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
                max_steps=cfg.steps(), learning_rate=cfg.lr,
                weight_decay=0.01, warmup_steps=max(1, int(0.1 * cfg.steps())), lr_scheduler_type="cosine",
                logging_steps=20, save_strategy="no", eval_strategy="no", report_to="none", seed=cfg.seed,
                bf16=device.type == "cuda" or bf16, use_cpu=device.type == "cpu", disable_tqdm=True, dataloader_num_workers=0,
                remove_unused_columns=False)  # the collator drops the held-out mark itself
            used.update(optim=str(args.optim), sampler="random (Trainer default)", collator="DataCollatorWithPadding")
            collator = CountingCollator(DataCollatorWithPadding(task.tokenizer), counter, evaluated)
            trainer = Trainer(model=model, args=args, train_dataset=rows, eval_dataset=eval_rows, data_collator=collator,
                              callbacks=[evaluate_after(steps)])
            trainer.remove_callback(PrinterCallback)  # its log lines only clutter the table
            result = trainer.train()
        evaluations = sum(1 for entry in trainer.state.log_history if "eval_loss" in entry)
        return cfg.steps() * cfg.batch_size, {**used, "train_loss": float(result.training_loss), "evaluations": evaluations,
                                              EVAL_COUNTER: evaluated}

    return timed("hf_trainer_bf16" if bf16 else "hf_trainer", device, body, 3.0, task.shape)
