#!/usr/bin/env bash
# README "Speed", decoder LoRA: SmolLM2-135M-Instruct with LoRA adapters (the defaults: r 8, alpha 8, every
# linear layer; last-token head) in every training arm (ours, the reference loop at minibatch 16 and 1, HF
# Trainer + peft), 18 steps of 16 sarcasm headlines, 2 interleaved repetitions. --no-memory: the
# live-tensor pass under torch.profiler ran a 24 GB machine out of memory on this model (2026-12-05).
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight bench --model smollm2-135m --mode lora --lr 5e-4 --max-examples 1000 --pool 320 --batch-size 16 \
  --max-length 64 --label-examples 160 --reps 2 --no-pipeline --no-profile --no-memory --probe-runs 2 --out bench_lora.json "$@"
