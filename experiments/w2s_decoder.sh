#!/usr/bin/env bash
# README "Fine-tuned decoders": configs/w2s_decoder.yaml (MiniLM-L3 fully fine-tuned → SmolLM2-135M
# with LoRA), one seed, with the logconf student and then the xent student (weak and ceiling reused).
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight run w2s_decoder "$@"
time oversight run w2s_decoder w2s.student.loss.name=xent "$@"
