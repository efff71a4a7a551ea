"""Quiet logs: a redirected run prints one line per stage, no progress frames, no wandb footer; `-v` brings both back."""

from __future__ import annotations

from cluster_helpers import TINY, oversight


def test_redirected_output_is_quiet_unless_verbose(tmp_path):
    args = ["run", "w2s_default", *TINY, "wandb.mode=offline", f"feature_cache={tmp_path / 'features'}"]  # computed: backbones load
    loudest = {"WANDB_SILENT": None}  # the suite's quiet wandb off: the project's own setting is what is tested
    # captured: not a terminal; a GGUF-packaged decoder as the strong model, whose loader draws its own tqdm bar
    quiet = oversight(*args, "strong.model.model=smollm2-135m", f"out_dir={tmp_path / 'quiet'}", env=loudest)
    loud = oversight(*args, "-v", f"out_dir={tmp_path / 'loud'}", env=loudest)
    for shown in (quiet, loud):
        assert "results:" in shown.stdout and shown.stdout.count(" done ") == 4  # weak, labels, ceiling, student: a line each
    assert "\r" not in quiet.stderr + quiet.stdout and "Run history" not in quiet.stderr + quiet.stdout  # wandb's footer
    assert "Loading weights" not in quiet.stderr  # transformers' own bar (the features are computed: a backbone loads)
    assert "de-quantizing GGUF" not in quiet.stderr
    assert "step/s" in loud.stderr or "s/step" in loud.stderr  # the training bars, though redirected
    assert "Run history" in loud.stderr + loud.stdout
