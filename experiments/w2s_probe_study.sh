#!/usr/bin/env bash
# README "What else was tried": the default pair under each student loss and selection rule, hard
# weak labels, another weak supervisor, and another task, 8 seeds each. Finished stages are
# shared, so after the default run each variant costs seconds (new tasks cost their feature pass).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="seeds=[0,1,2,3,4,5,6,7]"
run() { echo "=== oversight run $*"; local t0=$SECONDS; oversight run "$SEEDS" "$@" | sed -n '/^supervision transferred/,/^results:/p'; echo "wall: $((SECONDS - t0)) s"; }

run                                                     # the default: logconf, final weights
run w2s.student.select=label_loss                       # the old rule: lowest held-out loss on the weak labels
run w2s.student.select=label_auroc                      # EleutherAI/w2s: highest held-out AUROC on the weak labels
run w2s.student.loss.name=xent
run w2s.student.loss.name=xent w2s.hard_labels=true
run w2s.student.loss.name=product
run w2s.student.loss.name=xent weak.model.model=minilm-l3                   # the pair the default used on multiemo
run w2s.student.loss.name=xent data.name=quartz data.max_examples=3800 \
    split.weak_train=1400 split.strong_train=1400 split.test=1000
