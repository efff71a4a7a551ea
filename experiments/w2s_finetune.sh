#!/usr/bin/env bash
# README "Fine-tuned weak-to-strong": the fine-tuning study (configs/sweeps/w2s_finetune.yaml, 12 runs
# x 3 seeds, offline), then its comparison table and pgr_vs_strong_size.png.
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight sweep configs/sweeps/w2s_finetune.yaml "$@"
oversight compare w2s_finetune --format md
