"""Memory of our training arm, measured two ways (README "Speed"): `oversight bench`'s `ours` arm run
alone `--reps` times, each reporting its time, examples/s, RSS rise and live-tensor peak, so the
spread of the RSS rise between identical runs shows beside the live peak, which does not move.

    python experiments/arm_memory.py [--reps 2] [--arm ours|naive]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from oversight.bench.config import BenchConfig
from oversight.bench.memory import live_tensor_peak_mb
from oversight.bench.naive import naive_training
from oversight.bench.ours import our_training
from oversight.bench.task import load_task

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--arm", choices=["ours", "naive"], default="ours")
    args = parser.parse_args()
    torch.set_num_threads(2)
    cfg, device = BenchConfig(), torch.device("cpu")
    task = load_task(cfg)
    arm = {"ours": our_training, "naive": naive_training}[args.arm]
    arm(replace(cfg, train_steps=2), task, device)  # one-time costs, untimed
    for _ in range(args.reps):
        run = arm(cfg, task, device)
        live = live_tensor_peak_mb(lambda: arm(cfg, task, device), device)
        print(f"{args.arm}: {run.seconds:.1f} s, {run.rates()['examples_per_s']:.1f} ex/s, RSS rise {run.rise_mb:.0f} MB, "
              f"live-tensor peak {live:.0f} MB", flush=True)
