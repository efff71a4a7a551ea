#!/usr/bin/env bash
# README "Speed": the training core (as a run calls it) against openai/weak-to-strong's loop in both
# minibatch modes and HF Trainer, with the defaults (2 threads, 3 interleaved repetitions), then a
# whole W2S run stage by stage against the same pipeline on the reference loop (2 repetitions).
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight bench --out bench.json "$@"
