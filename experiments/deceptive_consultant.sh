#!/usr/bin/env bash
# README "Adversarial testing", the deceptive assistant: SmolLM2-135M as consultant and judge on 240
# movie reviews, first as the standard consultancy (honest on a random half), then honest everywhere
# but on reviews about the story and its writing, where it argues for the wrong answer. Two blind
# detectors of the dishonest arguments: the judge's doubt in the argued answer, and how far the judge
# ends up from the consultant's own model answering alone (the model row). The judge alone is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
speaker="consultant: {model: smollm2-135m, max_new_tokens: 40, backend: {name: hf, batch_size: 32}}, rounds: 2"
for assign in "" ", assign: topic, topic: [story, stories, script, plot, screenplay, dialogue, character, characters, writing, written, writer, narrative]"; do
  time oversight run configs/debate_sentiment.yaml split.strong_train=240 \
    "assisted_judging.schemes=[direct, {name: consultancy, $speaker$assign}]" \
    "assisted_judging.transfer=[direct]" assisted_judging.headline=direct assisted_judging.model_alone=consultancy.consultant \
    out_dir=runs/deceive "$@"
done
