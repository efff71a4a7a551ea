#!/usr/bin/env bash
# README "Speed", decoder LoRA: SmolLM2-135M-Instruct with LoRA adapters (the defaults: r 8, alpha 8, every
# linear layer; last-token head) in every training arm (ours, the reference loop at minibatch 16 and 1, HF
# Trainer + peft), 18 steps of 16 examples, 2 interleaved repetitions, on two tasks: sarcasm headlines
# (8-20 tokens) and QuaRTz questions (21-47 tokens, the length of the W2S presets' shorter tasks); then
# headlines again in 9 steps of 32 examples, EleutherAI/w2s's batch size.
# The live-tensor pass runs each training arm for 4 steps: the profiler keeps every event in memory, and
# over all 18 steps of every arm it ran a 24 GB machine out of memory on this model (2026-12-05).
set -euo pipefail
cd "$(dirname "$0")/.."
for run in sarcasm:64:16 quartz:128:16 sarcasm:64:32; do
  IFS=: read -r task length batch <<< "$run"
  time oversight bench --model smollm2-135m --mode lora --lr 5e-4 --data "$task" --max-examples 1000 --pool 320 \
    --batch-size "$batch" --max-length "$length" --label-examples 160 --reps 2 --no-pipeline --no-profile --memory-steps 4 \
    --probe-runs 2 --out "bench_lora_${task}_b${batch}.json" "$@"
done
