#!/usr/bin/env bash
# README "Debate and critiques", critique-then-refine (Khan et al. 2024): SmolLM2-135M debaters (greedy,
# one round) on the default pool of 96 reviews (the judge reads 3 words of each), without and with
# each turn critiqued by a SmolLM2 critic that read the review and rewritten by its debater. Same
# judge, same items.
set -euo pipefail
cd "$(dirname "$0")/.."
speaker="{model: smollm2-135m, max_new_tokens: 40, backend: {name: hf, batch_size: 32}}"
for refine in false true; do
  time oversight run configs/debate_sarcasm.yaml \
    "assisted_judging.schemes=[direct, {name: debate, debater: $speaker, critic: $speaker, rounds: 1, refine: $refine}]" \
    "assisted_judging.transfer=[direct]" assisted_judging.headline=direct assisted_judging.model_alone=none \
    out_dir=runs/refine "$@"
done
