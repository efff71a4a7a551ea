"""The shipped fine-tuned decoder config runs offline end to end (tiny sizes): LoRA on SmolLM2-135M
under a last-token head, supervised by a fully fine-tuned MiniLM-L3."""

from __future__ import annotations

import json

import pytest
from cluster_helpers import oversight

pytestmark = pytest.mark.slow


def test_shipped_decoder_config_runs_offline(tmp_path):
    done = oversight("run", "w2s_decoder", "offline=true", "wandb.mode=disabled", f"out_dir={tmp_path}", "data.max_examples=300",
                     "split.weak_train=64", "split.strong_train=64", "split.test=64", "weak.train.epochs=1", "strong.train.epochs=1",
                     timeout=900)
    (run,) = [p for p in tmp_path.iterdir() if p.name.startswith("w2s-")]
    results = json.loads((run / "results.json").read_text())
    assert results["complete"] and "smollm2-135m" in run.name
    for key in ("weak_acc", "student_acc", "ceiling_acc"):
        assert 0 < results["summary"][key]["mean"] <= 1
    assert "[seed 0] student  done" in done.stdout and "FutureWarning" not in done.stderr
