#!/usr/bin/env bash
# README "The default experiment, measured": the default config (configs/w2s_default.yaml) over 8
# seeds. Headline intervals are the paired bootstrap over seeds and the 1,000 test examples.
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight run "seeds=[0,1,2,3,4,5,6,7]" | sed -n '/^supervision transferred/,/^results:/p'
