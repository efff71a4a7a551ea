#!/usr/bin/env bash
# README "PGR against strong-model size": configs/sweeps/w2s_sizes.yaml (5 probe runs x 3 seeds,
# offline), then its comparison table and pgr_vs_strong_size.png.
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight sweep configs/sweeps/w2s_sizes.yaml "$@"
oversight compare w2s_sizes --format md
