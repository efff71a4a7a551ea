"""experiments/gpu_check.sh, the script prepared for a GPU machine, in its CPU --dry-run: it builds its
random-init Qwen2 models, times LoRA and full fine-tuning and labelling, and runs a W2S pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cluster_helpers import ROOT

pytestmark = pytest.mark.slow


def test_gpu_check_dry_run(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(ROOT / "experiments" / "gpu_check.sh"), "--dry-run", "--out", str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert [(r["model"], r["mode"]) for r in report["rows"]] == [("tiny-a", "lora"), ("tiny-a", "full"), ("tiny-b", "lora"), ("tiny-b", "full")]
    assert all(r["train_tokens_per_s"] > 0 and 0 < r["train_mfu"] < 1 and r["peak_mb"] > 0 for r in report["rows"])
    assert report["w2s_seconds"] > 0 and "W2S pass (tiny-a -> tiny-b, LoRA, cpu)" in done.stdout
    (run,) = (tmp_path / "runs").glob("w2s-*")
    assert json.loads((run / "results.json").read_text())["complete"]
