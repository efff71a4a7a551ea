#!/usr/bin/env bash
# The runs behind README's "What else was tried" table: the default pair under each student loss,
# hard weak labels, a narrower weak-strong gap, and two other tasks. Finished stages are shared,
# so after the default run each variant costs seconds (new tasks cost their feature pass).
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "=== oversight run $*"; oversight run "$@" | sed -n '/^supervision transferred/,/^results:/p'; }

run                                                     # the default: logconf
run w2s.student_loss.name=xent
run w2s.student_loss.name=xent w2s.hard_labels=true
run w2s.student_loss.name=product
run w2s.student_loss.name=xent weak.model.model=minilm-l6
run w2s.student_loss.name=xent data.name=sarcasm
run w2s.student_loss.name=xent data.name=hyperbaton data.max_examples=4000 \
    split.weak_train=1500 split.strong_train=1500 split.test=1000 seeds=[0,1]
