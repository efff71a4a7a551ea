"""kill -9 at each phase of a tiny real run, then rerun: the result is byte for byte the clean one.

The run is killed the moment a phase's first trace appears on disk (a stage's work folder, its
first resume checkpoint, the per-seed file before results.json), so each kill lands inside that
phase: feature extraction, weak training, labelling, ceiling and student training (with a resume
checkpoint to pick up), and the final aggregation. Long enough epochs and a large bootstrap
keep each phase open for a while; a kill that came too late would show as a results.json
already present, which the test refuses.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_helpers import cli, results_bytes, run_dir

pytestmark = pytest.mark.slow

ARGS = ["seeds=[0]", "wandb.mode=disabled", "data.max_examples=90", "split.weak_train=30", "split.strong_train=30",
        "split.test=30", "weak.model.model=minilm-l3", "strong.model.model=minilm-l6", "weak.train.epochs=60",
        "strong.train.epochs=60", "bootstrap=100000"]

PHASES = {  # phase → the file whose appearance triggers the kill
    "weak features": "_stages/weak/*.partial",
    "weak training": "_stages/weak/*.partial/train.ckpt",
    "labelling": "_stages/labels/*.partial",
    "ceiling training": "_stages/ceiling/*.partial/train.ckpt",
    "student training": "_stages/student/*.partial/train.ckpt",
    "aggregation": "w2s-*/seeds/0.json",
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("clean")
    code, _, stderr = cli("run", *ARGS, f"out_dir={out}")
    assert code == 0, stderr[-3000:]
    return results_bytes(out)


def kill_when(out: Path, pattern: str, timeout: float = 240) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "oversight.cli", "run", *ARGS, f"out_dir={out}"], stdout=subprocess.DEVNULL,
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
    code, _, stderr = cli("run", *ARGS, f"out_dir={out}")
    assert code == 0, stderr[-3000:]
    assert results_bytes(out) == clean
    assert not list(out.rglob("*.partial")) and not list(out.rglob(".*.tmp"))
    assert (run_dir(out) / "config.yaml").is_file()
