"""The HF `Trainer` arm: the same classifier, token ids, batch size and steps, with Trainer's defaults.

What we set: batch size, max_steps, lr, weight decay 0.01, 10% warm-up then cosine (as our loop),
grad-norm clip 1.0 (its default), bf16 on CUDA (and on a CPU for the bf16 comparison), no saving, no evaluation, no reporting.
With `mode=lora` the model has peft's LoRA layers as they ship. Everything else is Trainer's default: its optimizer (`args.optim`, recorded in the output), a
random sampler (no length grouping) and `DataCollatorWithPadding`, which pads each batch to its
longest example. Tokenization happens once, outside the timing, as for the other arms.
"""

from __future__ import annotations

import tempfile

import torch
from torch import nn

from oversight.bench.task import Arm, BenchConfig, Task, TokenCounter, fresh_model, timed
from oversight.training.losses import soft_cross_entropy


class WithLoss(nn.Module):
    """Trainer wants `forward(**batch, labels)` to return the loss."""

    def __init__(self, model: nn.Module, n_classes: int) -> None:
        super().__init__()
        self.model, self.n_classes = model, n_classes

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return {"loss": soft_cross_entropy(logits, nn.functional.one_hot(labels, self.n_classes).float()), "logits": logits}


class CountingCollator:
    def __init__(self, collator, counter: TokenCounter) -> None:
        self.collator, self.counter = collator, counter

    def __call__(self, features):
        batch = self.collator(features)
        self.counter.add(batch)
        return batch


def trainer_training(cfg: BenchConfig, task: Task, device: torch.device, bf16: bool = False) -> Arm:
    from transformers import DataCollatorWithPadding, PrinterCallback, Trainer, TrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    n_classes = int(task.labels.max()) + 1
    model = WithLoss(fresh_model(task, device, peft_layers=True), n_classes)
    rows = [{"input_ids": task.tokens.ids[i], "labels": int(task.labels[i])} for i in task.pool_idx]
    used: dict = {}

    def body(counter: TokenCounter):
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(
                output_dir=out, per_device_train_batch_size=cfg.batch_size, max_steps=cfg.steps(), learning_rate=cfg.lr,
                weight_decay=0.01, warmup_steps=max(1, int(0.1 * cfg.steps())), lr_scheduler_type="cosine",
                logging_steps=20, save_strategy="no", eval_strategy="no", report_to="none", seed=cfg.seed,
                bf16=device.type == "cuda" or bf16, use_cpu=device.type == "cpu", disable_tqdm=True, dataloader_num_workers=0)
            used.update(optim=str(args.optim), sampler="random (Trainer default)", collator="DataCollatorWithPadding")
            collator = CountingCollator(DataCollatorWithPadding(task.tokenizer), counter)
            trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collator)
            trainer.remove_callback(PrinterCallback)  # its log lines only clutter the table
            result = trainer.train()
        return cfg.steps() * cfg.batch_size, {**used, "train_loss": float(result.training_loss)}

    return timed("hf_trainer_bf16" if bf16 else "hf_trainer", device, body, 3.0, task.shape)
