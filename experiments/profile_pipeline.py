"""Where a whole W2S run's time goes (README "Speed"): `oversight bench`'s pipeline, ours in fp32,
run once untimed and once under cProfile; prints each stage's seconds and the top functions by
cumulative time (training passes, predictions, held-out evaluation, optimizer).

    python experiments/profile_pipeline.py [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from dataclasses import replace

import torch

from oversight.bench.config import BenchConfig
from oversight.bench.pipeline import our_pipeline

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(2)
    cfg = BenchConfig()
    our_pipeline(replace(cfg, pipeline_split=2 * cfg.batch_size, pipeline_epochs=1.0))  # one-time costs, untimed
    profiler = cProfile.Profile()
    profiler.enable()
    run = our_pipeline(cfg)
    profiler.disable()
    print({kind: round(stage["seconds"], 2) for kind, stage in run["stages"].items()}, f"wall {run['wall_seconds']:.1f} s")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
