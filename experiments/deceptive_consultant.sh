#!/usr/bin/env bash
# README "Adversarial testing", the deceptive assistant: SmolLM2-135M as consultant and judge on 240
# reviews, first as the standard consultancy (honest on a random half), then honest everywhere but
# on reviews that mention a hotel topic, where it argues for the wrong answer. The judge's doubt in
# the argued answer is scored as a detector of the dishonest arguments. The judge alone is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
speaker="consultant: {model: smollm2-135m, max_new_tokens: 40, backend: {name: hf, batch_size: 32}}, rounds: 2"
for assign in "" ", assign: topic, topic: [hotel, hotels, room, rooms, staff, breakfast]"; do
  time oversight run configs/debate_sarcasm.yaml split.strong_train=240 \
    "assisted_judging.schemes=[direct, {name: consultancy, $speaker$assign}]" \
    "assisted_judging.transfer=[direct]" assisted_judging.headline=direct assisted_judging.model_alone=none \
    out_dir=runs/deceive "$@"
done
