#!/usr/bin/env bash
# README "Comparing": three small W2S runs (MiniLM-L3 supervising MiniLM-L3, MiniLM-L6 and mpnet
# probes; 600 headlines, 200/200/200 split, 3 seeds), then the comparison as a LaTeX table.
set -euo pipefail
cd "$(dirname "$0")/.."
for strong in minilm-l3 minilm-l6 mpnet-base; do
  oversight run "seeds=[0,1,2]" data.max_examples=600 split.weak_train=200 split.strong_train=200 split.test=200 \
    weak.model.model=minilm-l3 strong.model.model=$strong out_dir=runs/strong_sizes > /dev/null
done
oversight compare runs/strong_sizes --format latex
