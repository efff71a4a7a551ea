"""Multi-process training on CPU (gloo): two ranks end with identical weights, equal to one process's (a probe, and full and LoRA fine-tuning, replicated and sharded).

Launched the ways the README documents: torchrun, and `accelerate launch --multi_gpu` with
ACCELERATE_USE_CPU=true (plain `accelerate launch --cpu --num_processes 2` silently runs one
process, hence the world_size assertions). Then the CLI end to end under torchrun.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch
from cluster_helpers import ROOT, TINY, oversight, wandb_record

BIN = Path(sys.executable).parent
WORKER = str(ROOT / "tests" / "distributed_worker.py")


def launch(prefix: list[str], out: Path, env: dict | None = None, mode: str = "probe") -> list[dict]:
    import subprocess

    result = subprocess.run([*prefix, WORKER, str(out), mode], capture_output=True, text=True, timeout=300, cwd=ROOT,
                            env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    assert result.returncode == 0, result.stderr[-8000:]  # room for an aborted rank's faulthandler stack above the launcher's summary
    return [torch.load(p, weights_only=True) for p in sorted(out.glob("rank*.pt"))]


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> dict:
    (one,) = launch([sys.executable], tmp_path_factory.mktemp("one"))
    assert one["world_size"] == 1
    return one


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_ranks_agree_with_each_other_and_with_one_process(single, tmp_path, launcher):
    if launcher == "torchrun":
        ranks = launch([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2"], tmp_path)
    else:
        ranks = launch([str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                        "--mixed_precision", "no", "--dynamo_backend", "no"], tmp_path, env={"ACCELERATE_USE_CPU": "true"})
    assert [r["world_size"] for r in ranks] == [2, 2] and [r["rank"] for r in ranks] == [0, 1]
    for key, value in ranks[0]["weights"].items():
        assert torch.equal(value, ranks[1]["weights"][key]), key  # same all-reduced gradient → same update
        assert torch.allclose(value, single["weights"][key], atol=1e-5), key  # global batch semantics
    assert abs(ranks[0]["probs"] - single["probs"]).max() < 1e-5  # gathered predictions, in order
    assert [h["val/loss"] for h in ranks[0]["history"]] == pytest.approx([h["val/loss"] for h in single["history"]], abs=1e-5)
    assert ranks[0]["kept_step"] == ranks[1]["kept_step"] == single["kept_step"]
    train_losses = [m["train/loss"] for m in ranks[0]["logged"] if "train/loss" in m]
    assert train_losses == pytest.approx([m["train/loss"] for m in single["logged"] if "train/loss" in m], abs=1e-5)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The single-process fine-tuning run of a mode, computed once for every test that compares with it."""
    runs: dict[str, dict] = {}

    def get(mode: str) -> dict:
        if mode not in runs:
            (runs[mode],) = launch([sys.executable], tmp_path_factory.mktemp(mode), mode=mode)
        return runs[mode]

    return get


@pytest.mark.parametrize("parallel", ["", "fsdp-"], ids=["replicate", "fsdp"])
@pytest.mark.parametrize("mode", ["full", "lora"])
def test_fine_tuning_on_two_ranks_matches_one_process(one_process, tmp_path, mode, parallel):
    """Fine-tuning MiniLM-L3 on two ranks, every weight or through LoRA adapters, replicated (DDP-style)
    or sharded (FSDP): the ranks end equal, and equal to one process up to the float reordering of a
    split batch's gradient sum. Sharded, each rank holds half the weights, and a fresh model resumed
    from the (gathered) checkpoint ends with the same kept weights."""
    single = one_process(mode)
    ranks = launch([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2"], tmp_path, mode=parallel + mode)
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert any("lora_" in k for k in single["weights"]) == (mode == "lora")
    for key in single["weights"]:
        assert torch.equal(ranks[0]["weights"][key], ranks[1]["weights"][key]), key
        assert torch.allclose(ranks[0]["weights"][key], single["weights"][key], atol=1e-4), key
    assert abs(ranks[0]["probs"] - single["probs"]).max() < 1e-4
    losses = [h["val/loss"] for h in single["history"]]
    assert losses[-1] < losses[0]  # it trained (a model that never moved would match trivially)
    assert [h["val/loss"] for h in ranks[0]["history"]] == pytest.approx(losses, abs=1e-4)
    held = ranks[0]["held"]
    assert held["local"] == (held["whole"] if not parallel else pytest.approx(held["whole"] / 2, rel=0.02))
    if parallel:
        saved = torch.load(tmp_path / "train.ckpt", weights_only=True)["model"]
        # whole tensors, not one rank's shards; under LoRA only what training changes (the frozen base is rebuilt)
        trained = {k for k in single["weights"] if mode != "lora" or "lora_" in k or "head" in k}
        assert trained <= set(saved) and all(saved[k].shape == single["weights"][k].shape for k in saved if k in single["weights"])
        for key, value in ranks[0]["weights"].items():
            assert torch.equal(ranks[0]["resumed"][key], value), key


def test_sharded_training_leaves_out_a_batch_smaller_than_the_ranks(tmp_path):
    """Sharded, every rank runs every forward: 33 rows in batches of 16 leave a one-row batch, which
    both ranks skip alike (a rank with no row would wait on the other forever); training still
    takes its 4 steps, in more epochs."""
    ranks = launch([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2"], tmp_path, mode="fsdp-full",
                   env={"WORKER_TRAIN_ROWS": "37"})  # 4 held out, 33 trained on, 2 steps an epoch
    # each epoch's first two batches are [1, 16] or [16, 1]: one step an epoch, so 4 epochs (one process: 2)
    assert [(r["steps"], r["epochs"]) for r in ranks] == [(4, 4), (4, 4)]
    for key, value in ranks[0]["weights"].items():
        assert torch.equal(value, ranks[1]["weights"][key]), key


def test_sharded_training_with_fewer_rows_than_ranks_stops_with_an_error(tmp_path):
    """One row, two ranks: every batch would be left out, so training says so instead of looping forever."""
    import subprocess

    result = subprocess.run([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", WORKER, str(tmp_path), "fsdp-full"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "WORKER_TRAIN_ROWS": "1"})
    assert result.returncode != 0
    assert "every batch holds fewer rows than the 2 ranks sharding the model" in result.stderr


def test_cli_run_under_torchrun_matches_one_process(tmp_path):
    """The CLI on two ranks (the strong model and student sharded, FSDP) gives one process's results."""
    args = ["configs/w2s_default.yaml", *TINY, "w2s.student.loss.name=xent", "wandb.mode=offline"]
    oversight("run", *args, f"out_dir={tmp_path / 'one'}")
    two = oversight("run", *args, f"out_dir={tmp_path / 'two'}", "strong.train.parallel=fsdp", prefix=[str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m"],
                    env={"OMP_NUM_THREADS": "1"})
    assert two.stdout.count("results:") == 1  # only rank 0 reports and writes
    (run_one,) = [p for p in (tmp_path / "one").iterdir() if not p.name.startswith("_")]
    (run_two,) = [p for p in (tmp_path / "two").iterdir() if not p.name.startswith("_")]
    one, both = (json.loads((d / "results.json").read_text())["summary"] for d in (run_one, run_two))
    for key in ("weak_acc", "ceiling_acc", "student_acc"):
        assert both[key]["mean"] == pytest.approx(one[key]["mean"], abs=0.02), key
    record = wandb_record(run_two)  # exactly one wandb run: rank 1 never logs
    assert record["config"]["world_size"] == 2 and record["state"] == "finished"
