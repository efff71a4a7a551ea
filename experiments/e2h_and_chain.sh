#!/usr/bin/env bash
# README "Easy-to-hard and bootstrapping": e2h under both floors (zero-shot, the default, and the
# majority class) and the three-model chain, 8 seeds each.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="seeds=[0,1,2,3,4,5,6,7]"
run() { echo "=== oversight run $*"; local t0=$SECONDS; oversight run "$@" "$SEEDS" | sed -n '/^supervision transferred/,/^results:/p'; echo "wall: $((SECONDS - t0)) s"; }

run configs/e2h_default.yaml                     # SGR over the zero-shot floor
run configs/e2h_default.yaml e2h.floor=majority  # SGR over the majority-class floor (same stages)
run configs/w2s_chain_default.yaml
run configs/e2h_default.yaml "e2h.zero_shot_template=This text is {label}." e2h.cross=false  # the prompt moves the floor
