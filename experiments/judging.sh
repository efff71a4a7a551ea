#!/usr/bin/env bash
# README "Debate and critiques, measured": six judging protocols on reviews with SmolLM2-135M in
# every role; the same pool with a trained classifier judge (on its own 96 gold items); W2S with
# `judged: {scheme: debate}` (reuses every stage); and the VitaminC hidden-evidence config.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "=== oversight run $*"; local t0=$SECONDS; oversight run "$@" | sed -n '/^supervision transferred/,$p'; echo "wall: $((SECONDS - t0)) s"; }

run configs/debate_sarcasm.yaml
run configs/debate_sarcasm.yaml assisted_judging.judge.kind=classifier split.weak_train=96
run configs/w2s_debate.yaml
run configs/debate_vitaminc.yaml
