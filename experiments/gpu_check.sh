#!/usr/bin/env bash
# The GPU check (README "Speed", "On a GPU box"): on one NVIDIA GPU, no hub needed, under 8 minutes.
# `bash experiments/gpu_check.sh --dry-run` runs it with tiny models on a CPU (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
time python experiments/gpu_check.py "$@"
