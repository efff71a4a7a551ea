#!/usr/bin/env bash
# README "Debate on digits": the main table, then each variant one override away (3 seeds each).
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "=== oversight run configs/debate_digits.yaml $*"; local t0=$SECONDS
        oversight run configs/debate_digits.yaml "$@" | sed -n '/^supervision transferred/,/^results:/p'; echo "wall: $((SECONDS - t0)) s"; }

run
run digits_debate.honest_first=false
run digits_debate.liar=search
run "digits_debate.ks=[4]" digits_debate.headline_k=4 digits_debate.beam=8
run "digits_debate.agents=[random]"
