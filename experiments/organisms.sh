#!/usr/bin/env bash
# README "Adversarial testing": the backdoored, sandbagging and password-locked organisms (MiniLM-L6 fully
# fine-tuned, 3 seeds each), the backdoor in SmolLM2-135M with LoRA, every registered detector, and
# the detection tables lined up by `oversight compare`.
set -euo pipefail
cd "$(dirname "$0")/.."
time oversight run organisms_backdoor out_dir=runs/organisms "$@"
time oversight run organisms_sandbagging out_dir=runs/organisms "$@"
time oversight run organisms_sandbagging organisms.organism.imitate=weak out_dir=runs/organisms "$@"
time oversight run organisms_password out_dir=runs/organisms "$@"
time oversight run organisms_password organisms.organism.locked=constant out_dir=runs/organisms "$@"
time oversight run organisms_backdoor_decoder out_dir=runs/organisms "$@"
oversight compare runs/organisms --format md
