#!/usr/bin/env bash
# README "Assisted judging", best-of-N debaters (Khan et al. 2024): SmolLM2-135M debaters sampling
# at temperature 0.7, one round, on the default pool of 96 reviews (the judge reads 3 words of each),
# with 1 and with 4 candidates per turn; the ranker (SmolLM2 too) keeps the candidate that makes
# the judge's view most convincing for the debater's side. Same judge, same items.
set -euo pipefail
cd "$(dirname "$0")/.."
debater="debater: {model: smollm2-135m, max_new_tokens: 40, temperature: 0.7, backend: {name: hf, batch_size: 32}}"
for n in 1 4; do
  time oversight run configs/debate_sarcasm.yaml \
    "assisted_judging.schemes=[direct, {name: debate, $debater, rounds: 1, best_of: $n}]" \
    "assisted_judging.transfer=[direct]" assisted_judging.headline=direct assisted_judging.model_alone=none \
    out_dir=runs/best_of "$@"
done
