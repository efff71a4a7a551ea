#!/usr/bin/env bash
# README "Speed": the training core against the reference-style loop and HF Trainer (defaults:
# 2 threads; the README's first table used --threads 1 on a loaded machine).
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight bench --out bench.json "$@"
