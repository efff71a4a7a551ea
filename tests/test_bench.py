"""`oversight bench` end to end at a tiny size: every arm runs and reports what it did (no timing
is asserted; speed is measured by the benchmark itself, not by tests)."""

from __future__ import annotations

import json

import pytest
import torch
from cluster_helpers import oversight

from oversight.training.device import native_bf16


def test_bench_runs_every_arm_and_counts_its_work(tmp_path):
    out = tmp_path / "bench.json"
    oversight("bench", "--reps", "1", "--pool", "160", "--batch-size", "16", "--label-examples", "48", "--max-examples", "400",
              "--probe-runs", "1", "--probe-examples", "40", "--no-profile", "--pipeline-split", "64", "--pipeline-epochs", "1",
              "--pipeline-reps", "1", "--out", str(out), timeout=900)
    results = json.loads(out.read_text())
    train = results["train"]
    bf16 = native_bf16(torch.device("cpu"))  # then our arms and HF Trainer also run with bf16 autocast
    assert set(train) == {"ours", "naive", "naive_mb1", "hf_trainer"} | ({"ours_bf16", "hf_trainer_bf16"} if bf16 else set())
    assert set(results["label"]) == {"ours", "naive"} | ({"ours_bf16"} if bf16 else set())
    steps = int(160 * 0.9) // 16  # default train_steps: one epoch of the pool minus the held-out slice
    assert all(arm["examples"] == steps * 16 for arm in train.values())
    assert train["ours"]["extra"]["evaluations"] == 3 and train["ours"]["extra"]["eval_real_tokens"] > 0  # steps 4, 8, 9, as a run
    trainer = train["hf_trainer"]["extra"]  # the same job: it scores our held-out rows after the same steps
    assert trainer["evaluations"] == 3 and trainer["evaluated_after_steps"] == [4, 8, 9]
    assert trainer["eval_real_tokens"] == train["ours"]["extra"]["eval_real_tokens"]
    assert train["naive_mb1"]["padding_waste"] == 0.0 and train["naive_mb1"]["extra"]["minibatch"] == 1  # one example per pass
    for arm in train.values():
        assert 0 < arm["matmul_fraction"] <= arm["padded_matmul_fraction"]
        assert 0 < arm["rise_mb"] < arm["peak_mb"]  # its own share: gradients and optimizer moments at least
        assert arm["live_peak_mb"] > 4 * results["model"]["nonembedding_params"] / 2**20  # the arm builds its model: its weights at least
    assert all(arm["live_peak_mb"] > 0 for arm in results["label"].values()) and results["live_peak_vs_naive"] > 0
    assert results["live_tensor_pass"] == "finished" and results["live_peak_train_steps"] == steps
    assert results["speedup_vs_naive_mb1"] > 0 and results["speedup_vs_trainer"] > 0
    pipeline = results["pipeline"]  # a whole W2S run both ways, on the same rows, for the same epochs
    for name in ("ours", "reference", *(["ours_bf16"] if bf16 else [])):
        stages = pipeline[name]["stages"]
        assert list(stages) == ["weak", "labels", "ceiling", "student"] and all(s["seconds"] > 0 for s in stages.values())
        assert stages["labels"]["examples"] == 64 and 0 <= pipeline[name]["accuracy"]["student"] <= 1
    assert pipeline["reference"]["stages"]["ceiling"]["examples"] == 64 // 16 * 16  # one epoch of all 64 rows
    assert pipeline["ours"]["stages"]["ceiling"]["examples"] == round(64 * 0.9) // 16 * 16  # one epoch of the 90% not held out
    assert set(pipeline["speedups"]) == {"weak", "labels", "ceiling", "student", "pipeline_wall"}
    if bf16:
        assert set(pipeline["speedups_bf16"]) == set(pipeline["speedups"]) and results["matmul_bf16_gflops"] > 0
        assert {"vs_naive", "vs_hf_trainer_bf16", "vs_ours_fp32"} <= set(results["speedups_bf16"])
        assert train["hf_trainer_bf16"]["extra"]["train_loss"] > 0


@pytest.mark.slow
def test_bench_times_lora_on_a_decoder_in_every_training_arm(tmp_path):
    """`--model smollm2-135m --mode lora` (README "Decoder LoRA"): every arm, HF Trainer included, trains the same
    peft adapters and head on the packaged decoder, and the report says so."""
    out = tmp_path / "bench.json"
    oversight("bench", "--model", "smollm2-135m", "--mode", "lora", "--reps", "1", "--pool", "20", "--batch-size", "8",
              "--max-length", "24", "--label-examples", "8", "--max-examples", "200", "--probe-runs", "1", "--probe-examples", "20",
              "--probe-epochs", "1", "--no-profile", "--memory-steps", "1", "--no-pipeline", "--no-cpu-bf16", "--out", str(out), timeout=900)
    results = json.loads(out.read_text())
    model = results["model"]
    assert results["live_tensor_pass"] == "finished" and results["live_peak_train_steps"] == 1  # capped: a decoder's pass is heavy
    assert all(arm["live_peak_mb"] > 0 for arm in results["train"].values())
    assert model["mode"] == "lora" and 0 < model["trainable_params"] < 0.02 * model["params"]  # adapters and head only
    assert set(results["train"]) == {"ours", "naive", "naive_mb1", "hf_trainer"}
    assert all(arm["examples"] == 2 * 8 for arm in results["train"].values())  # int(20 * 0.9) // 8 steps of 8
    assert results["train"]["hf_trainer"]["extra"]["train_loss"] > 0 and results["speedup_vs_trainer"] > 0


def test_the_live_tensor_peak_counts_the_tensors_held_at_once():
    from oversight.bench.memory import live_tensor_peak_mb

    def overlapping():  # 8 MB, then 16 MB while the first is alive: 24 MB at once
        first = torch.ones(2 * 2**20)
        second = torch.ones(4 * 2**20)
        return first.sum() + second.sum()

    def one_at_a_time():  # the 8 MB tensor is freed before the 16 MB one is made
        total = torch.ones(2 * 2**20).sum()
        return total + torch.ones(4 * 2**20).sum()

    cpu = torch.device("cpu")
    assert abs(live_tensor_peak_mb(overlapping, cpu) - 24) < 0.5
    assert abs(live_tensor_peak_mb(one_at_a_time, cpu) - 16) < 0.5
