"""Where a decoder LoRA training step's time goes on this CPU (README "Decoder LoRA").

Times one optimizer step of SmolLM2-135M-Instruct with the default LoRA adapters (the bench's
classifier: last-token head, batch 16) on batches of equal-length rows for several row lengths,
with peft's LoRA layers as they ship and with oversight's fused forward (training/lora_forward.py),
interleaved, and fits step time = fixed + per-token x tokens by least squares. The fixed part is
what every step costs however few tokens it holds (the frozen weights read in forward and again in
backward, the per-layer operator calls); on short texts it limits what removing padding can save.

Run: python experiments/lora_step_cost.py [--model smollm2-135m] [--lengths 4 8 14 24 48]
"""

from __future__ import annotations

import argparse
import copy
import math
import time

import numpy as np
import torch

from oversight.models import resolve_model
from oversight.training import lora_forward
from oversight.training.classifier import build_text_classifier
from oversight.training.config import ClassifierConfig
from oversight.training.device import configure_matmul


def seconds_each(fn, repeats: int) -> float:
    fn(), fn()  # warm-up: kernel selection, allocator
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def step_and_forward(model, optimizer, rows: int, length: int, repeats: int) -> tuple[float, float]:
    """Seconds of one training step and of one forward pass without gradients (as a held-out evaluation runs)."""
    ids = torch.randint(100, 1000, (rows, length))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def step():
        model(**batch).float().logsumexp(-1).sum().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def forward():
        with torch.inference_mode():
            model(**batch)

    return seconds_each(step, repeats), seconds_each(forward, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--lengths", type=int, nargs="+", default=[4, 8, 14, 24, 48])
    parser.add_argument("--repeats", type=int, default=4, help="steps timed together")
    parser.add_argument("--rounds", type=int, default=3, help="times each measurement is repeated; the fastest is kept")
    args = parser.parse_args()
    device = torch.device("cpu")
    configure_matmul(device, tf32=True)
    torch.manual_seed(0)
    _, model = build_text_classifier(ClassifierConfig(model=args.model, mode="lora", max_length=max(args.lengths)),
                                     resolve_model(args.model).path, 2)
    peft_model = copy.deepcopy(model)
    lora_forward.unfuse(peft_model)
    models = {"peft": peft_model, "fused": model}  # the same weights; oversight builds the fused one
    optimizers = {name: torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-4, fused=True)
                  for name, m in models.items()}
    for m in models.values():
        m.train()
    print(f"{args.model}, LoRA, {args.rows} rows a step, {torch.get_num_threads()} threads; peft's LoRA layers / fused")
    tokens, times = [], {name: [] for name in models}
    for length in args.lengths:
        step, forward = {name: math.inf for name in models}, {name: math.inf for name in models}
        for _ in range(args.rounds):  # interleaved, so drifting load hits both; the fastest round of each is kept
            for name in models:
                seconds = step_and_forward(models[name], optimizers[name], args.rows, length, args.repeats)
                step[name], forward[name] = min(step[name], seconds[0]), min(forward[name], seconds[1])
        for name in models:
            times[name].append(step[name])
        tokens.append(args.rows * length)
        print(f"  {args.rows} x {length:3d} = {args.rows * length:4d} tokens: a step {step['peft'] * 1e3:7.1f} / "
              f"{step['fused'] * 1e3:7.1f} ms ({step['peft'] / step['fused']:.2f}x), a forward pass without gradients "
              f"{forward['peft'] * 1e3:6.1f} / {forward['fused'] * 1e3:6.1f} ms", flush=True)
    for name, seconds in times.items():
        per_token, fixed = np.polyfit(tokens, seconds, 1)
        print(f"fit, {name}: {fixed * 1e3:.0f} ms a step + {per_token * 1e3:.2f} ms a token")


if __name__ == "__main__":
    main()
