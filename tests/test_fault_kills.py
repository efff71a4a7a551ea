"""kill -9 at each phase of a tiny real run, then rerun: the result is byte for byte the clean one.

The run is killed the moment a phase's first trace appears on disk (the run's config, a stage's work folder, its
first resume checkpoint, the per-seed file before results.json), so each kill lands inside that
phase: feature extraction, weak training, labelling, ceiling and student training (with a resume
checkpoint to pick up), and the final aggregation. Long enough epochs and a large bootstrap
keep each phase open for a while; a kill that came too late would show as a results.json
already present, which the test refuses.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_helpers import cli, results_bytes, run_dir, where

pytestmark = pytest.mark.slow

# A fine-tuned weak model labels 300 rows through its transformer: a probe's labels (one product with
# features already computed) are written between two polls of the disk, so that phase would never be seen.
ARGS = ["seeds=[0]", "wandb.mode=disabled", "data.max_examples=360", "split.weak_train=30", "split.strong_train=300",
        "split.test=30", "weak.model={model: minilm-l3, mode: full}", "weak.train={epochs: 20, lr: 5.0e-5, weight_decay: 0.0}",
        "strong.model.model=minilm-l6", "strong.train.epochs=6", "bootstrap=100000", "weak.train.checkpoint_every_s=0", "strong.train.checkpoint_every_s=0"]

PHASES = {  # phase → the file whose appearance triggers the kill
    "feature extraction": "w2s-*/config.yaml",
    "weak training": "_stages/weak/*.partial/train.ckpt",
    "labelling": "_stages/labels/*.partial",
    "ceiling training": "_stages/ceiling/*.partial/train.ckpt",
    "student training": "_stages/student/*.partial/train.ckpt",
    "aggregation": "w2s-*/seeds/0.json",
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("clean")
    code, _, stderr = cli("run", *ARGS, *where(out))
    assert code == 0, stderr[-3000:]
    return results_bytes(out)


def kill_when(out: Path, pattern: str, args: list[str] = ARGS, timeout: float = 240) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "oversight.cli", "run", *args, *where(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not glob.glob(str(out / pattern)):
            assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before {pattern} appeared"
            assert time.monotonic() < deadline, f"{pattern} never appeared"
            time.sleep(0.002)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("phase", list(PHASES))
def test_kill_9_then_rerun_gives_the_clean_result_byte_for_byte(clean, phase, tmp_path):
    out = tmp_path / "out"
    kill_when(out, PHASES[phase])
    assert not glob.glob(str(out / "*/results.json")), "killed too late: the run had finished"
    code, _, stderr = cli("run", *ARGS, *where(out))
    assert code == 0, stderr[-3000:]
    assert results_bytes(out) == clean
    assert not list(out.rglob("*.partial")) and not list(out.rglob(".*.tmp"))
    assert (run_dir(out) / "config.yaml").is_file()


def wandb_state(run: Path) -> dict:
    shown = subprocess.run([str(Path(sys.executable).parent / "wandb"), "leet", "inspect", "--summary", "--json", str(run)],
                           capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)


def test_a_killed_run_stays_one_wandb_run_and_logs_each_step_once(tmp_path):
    """Launched by a process with its own wandb service (a driver script, a sweep agent: children
    inherit WANDB_SERVICE), the killed run's stream must not block the rerun's resume."""
    import wandb

    out = tmp_path / "out"
    args = [a for a in ARGS if not a.startswith("wandb.")] + ["wandb.mode=offline"]
    wandb.init(mode="offline", dir=str(tmp_path), settings=wandb.Settings(quiet=True)).finish()  # this process's service, in its env
    try:
        assert "WANDB_SERVICE" in os.environ
        kill_when(out, PHASES["ceiling training"], args)
        code, _, stderr = cli("run", *args, *where(out))
    finally:
        wandb.teardown()
    assert code == 0, stderr[-3000:]
    run = run_dir(out)
    attempts = sorted((run / "wandb").glob("offline-run-*"))
    run_id = (run / "wandb_id").read_text()
    assert len(attempts) == 2 and all(a.name.endswith(run_id) for a in attempts)  # `wandb sync` merges them into one run
    assert wandb_state(attempts[-1])["state"] == "finished"
    records = subprocess.run([str(Path(sys.executable).parent / "wandb"), "leet", "inspect", "--json", str(attempts[-1])],
                             capture_output=True, text=True, check=True).stdout
    assert '"step_metric":"seed0/student/step"' in records  # each stage's curves on its own step axis
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]  # every line whole
    assert {r["attempt"] for r in records} == {1, 2}
    steps = [(r["stage"], r["step"]) for r in records if "step" in r]
    assert len(steps) == len(set(steps)) and any(stage.endswith("/ceiling") for stage, _ in steps)


def test_a_failed_run_is_marked_failed_in_wandb(tmp_path):
    code, _, _ = cli("run", *[a for a in ARGS if not a.startswith(("wandb.", "strong.train.epochs"))], "wandb.mode=offline",
                     "strong.train.lr=1e10", "strong.train.epochs=10", *where(tmp_path))
    assert code == 2
    (attempt,) = (run_dir(tmp_path) / "wandb").glob("offline-run-*")
    state = wandb_state(attempt)
    assert (state["state"], state["exit_code"]) == ("failed", 1)
