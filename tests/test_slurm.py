"""SLURM for real: a single-node cluster on localhost, a 2-run sweep as one job array, and a
preempted job that checkpoints, requeues and resumes from its finished stages.

The cluster comes from `slurm/local_cluster.sh` (apt packages munge, slurmctld, slurmd,
slurm-client). Skipped only when that is impossible: not root, or no apt-get and no SLURM.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cluster_helpers import ROOT, TINY, oversight, sweep_run, wandb_record


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    if os.geteuid() != 0:
        pytest.skip("SLURM test needs root to install and start a local cluster (running as non-root)")
    if not shutil.which("sbatch") and not shutil.which("apt-get"):
        pytest.skip("SLURM test needs apt-get to install slurm (no apt-get, no SLURM on this machine)")
    started = subprocess.run(["bash", str(ROOT / "slurm" / "local_cluster.sh")], capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, f"local cluster failed to start:\n{started.stdout}\n{started.stderr}"


def slurm_section(folder: Path) -> dict:
    # One CPU each so both array tasks run at once on a 2-core node; a unique folder per test,
    # since job ids restart when a cluster's state is wiped and submitit would read stale results.
    return {"cpus_per_task": 1, "mem_gb": 3, "time_min": 15, "folder": str(folder), "signal_delay_s": 30}


def test_sweep_runs_as_one_job_array(slurm_cluster, tmp_path):
    runs = tmp_path / "runs"
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "tiny_slurm", "base": str(ROOT / "configs" / "w2s_default.yaml"), "seeds": [0], "out_dir": str(runs),
        "overrides": [*TINY, "wandb.mode=offline"], "grid": {"w2s.student.loss.name": ["xent", "logconf"]},
        "slurm": slurm_section(tmp_path / "submitit")}, sort_keys=False))
    result = oversight("sweep", str(sweep), "--launcher", "slurm", "--wait", timeout=600)
    assert "as job array" in result.stdout
    array_id = result.stdout.split("as job array ")[1].split(";")[0]
    logs = sorted(p.name for p in (tmp_path / "submitit").glob("*_log.out"))
    assert logs == [f"{array_id}_0_0_log.out", f"{array_id}_1_0_log.out"]
    for loss in ("xent", "logconf"):
        run_dir = sweep_run(runs, f"tiny_slurm__loss.name={loss}")
        results = json.loads((run_dir / "results.json").read_text())
        assert results["complete"] and 0 < results["summary"]["weak_acc"]["mean"] <= 1
        record = wandb_record(run_dir)
        assert record["state"] == "finished" and record["config"]["wandb"]["group"] == "tiny_slurm"
        assert f"loss:{loss}" in record["tags"]
    assert "tiny_slurm__loss.name=logconf" in result.stdout  # the compare table after the array
    assert (runs / "_compare" / "tiny_slurm" / "accuracy.png").exists()

    # The by-hand template runs the same grid points: both are finished now, so each task skips its run.
    by_hand = subprocess.run(["sbatch", "--wait", "--array=0-1", "--cpus-per-task=1", "--mem=2G", f"--output={tmp_path}/hand-%a.out",
                              f"--export=ALL,OVERSIGHT={Path(sys.executable).parent / 'oversight'}",
                              str(ROOT / "slurm" / "sweep_array.sbatch"), str(sweep)], capture_output=True, text=True, timeout=300)
    assert by_hand.returncode == 0, by_hand.stderr
    for i, loss in enumerate(("xent", "logconf")):
        assert f"{sweep_run(runs, f'tiny_slurm__loss.name={loss}').name}: finished, skipped" in (tmp_path / f"hand-{i}.out").read_text()


def release_when_requeued(job_id: str, timeout: float = 60) -> None:
    """A requeued job waits ~2 minutes before it may start again (SLURM's requeue begin time); skip the wait."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True).stdout.strip()
        if state == "PENDING":
            # slurmd refuses a credential issued in the same second the old one was revoked
            # ("Job credential revoked": the requeued job dies and never writes a result), so let a second pass
            time.sleep(1.5)
            subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], check=True, capture_output=True)
            return
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} was not requeued (state {state!r})")


def test_preempted_job_checkpoints_requeues_and_resumes(slurm_cluster, tmp_path):
    from oversight.launch.slurm import SlurmConfig, submit_run

    # long enough strong stages (1,500 steps each, about 5 s) that the signal lands while one trains: with
    # 10 epochs everything after the weak stage took under a second and the job could finish first
    overrides = [*TINY, "strong.train.epochs=300", "strong.train.evals_per_epoch=1", "wandb.mode=disabled", f"out_dir={tmp_path}"]
    slurm = SlurmConfig.from_dict(slurm_section(tmp_path / "submitit"))
    job = submit_run(str(ROOT / "configs" / "w2s_default.yaml"), overrides, slurm, tmp_path / "submitit", "preempt")
    log = tmp_path / "submitit" / f"{job.job_id}_0_log.out"
    deadline = time.time() + 300
    while not (log.exists() and " done " in log.read_text()):  # a stage finished: now preempt it
        assert time.time() < deadline and not job.done(), "job never finished a stage"
        time.sleep(0.5)
    # What `--signal=USR2@<delay>` does before a preemption or the time limit: USR2 to the job. Not
    # submitit's `_interrupt()`, which sends SIGTERM first: srun then ends the job step and can kill
    # the handler's own `scontrol requeue` before it returns (seen: exit 1, never requeued).
    subprocess.run(["scancel", "--signal=USR2", job.job_id], check=True, capture_output=True)
    release_when_requeued(job.job_id)
    deadline = time.time() + 300
    while not job.done():  # a bounded wait: a requeued job that died must fail the test, not hang it
        assert time.time() < deadline, f"requeued job {job.job_id} never finished"
        time.sleep(1)
    assert job.result()["complete"]
    text = log.read_text()
    assert "Exiting gracefully after preemption" in text  # checkpointed and requeued ...
    after = text.split("Exiting gracefully after preemption")[1]
    assert "[seed 0] weak     reused" in after  # ... and resumed from the finished stages
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("w2s-")]
    assert json.loads((run_dir / "results.json").read_text())["complete"]


def test_run_launcher_slurm_with_two_processes_per_job(slurm_cluster, tmp_path):
    result = oversight("run", "configs/w2s_default.yaml", *TINY, "w2s.student.loss.name=xent", "wandb.mode=offline", f"out_dir={tmp_path}",
                       f"slurm.folder={tmp_path / 'submitit'}", "slurm.cpus_per_task=1", "slurm.mem_gb=3", "slurm.tasks_per_node=2",
                       "--launcher", "slurm", "--wait", timeout=300)
    assert "submitted job" in result.stdout
    assert "student_acc" in result.stdout and "per seed" in result.stdout  # --wait prints the run's table
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("w2s-")]
    assert json.loads((run_dir / "results.json").read_text())["complete"]
    assert wandb_record(run_dir)["config"]["world_size"] == 2  # two SLURM tasks joined one process group
    assert len(list((tmp_path / "submitit").glob("*_result.pkl"))) == 2


def test_requests_are_fitted_to_the_cluster_or_warned_about(slurm_cluster, tmp_path):
    """The default 4 CPUs do not fit the 2-CPU node: shrunk (announced) and the job runs; an explicit
    8 CPUs is submitted with a warning instead of pending unannounced."""
    args = ["run", "configs/w2s_default.yaml", *TINY, "w2s.student.loss.name=xent", "wandb.mode=disabled", f"out_dir={tmp_path}"]
    cpus = int(subprocess.run(["sinfo", "-h", "-N", "-o", "%c"], capture_output=True, text=True, check=True).stdout.split()[0])
    fitted = oversight(*args, f"slurm.folder={tmp_path / 'fitted'}", "--launcher", "slurm", "--wait", timeout=300)
    assert f"slurm: cpus_per_task 4 -> {cpus} (the default does not fit partition" in fitted.stdout
    assert "student_acc" in fitted.stdout
    explicit = cpus * 4 + 1  # never the default 4, which would count as left at its default and shrink
    too_big = oversight(*args, "name=too_big", f"slurm.folder={tmp_path / 'too_big'}", f"slurm.cpus_per_task={explicit}",
                        "--launcher", "slurm", timeout=120)
    job_id = too_big.stdout.split("submitted job ")[1].split()[0]
    subprocess.run(["scancel", job_id], check=True)
    assert "warning: slurm: no node of partition" in too_big.stdout and f"1 x {explicit} CPUs" in too_big.stdout


def test_the_local_cluster_node_holds_every_core_even_from_a_one_thread_worker(slurm_cluster):
    """`nproc` honours OMP_NUM_THREADS, which test workers set to 1: the node must still get every core
    (it once got 1, and two-process jobs pended until their timeout)."""
    if "written by oversight" not in Path("/etc/slurm/slurm.conf").read_text():
        pytest.skip("this machine's slurm.conf was not written by slurm/local_cluster.sh")
    started = subprocess.run(["bash", str(ROOT / "slurm" / "local_cluster.sh")], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert started.returncode == 0, started.stderr
    cpus = int(subprocess.run(["sinfo", "-h", "-N", "-o", "%c"], capture_output=True, text=True, check=True).stdout.split()[0])
    assert cpus == len(os.sched_getaffinity(0))


def test_sinfo_lines_parse_into_node_sizes():
    from oversight.launch.cluster import Node, fit_to_cluster, parse_node
    from oversight.launch.slurm import SlurmConfig

    assert parse_node("debug*|2|21694|(null)") == Node("debug", True, 2, 21694 / 1024, 0)
    assert parse_node("gpu|64|515000|gpu:a100:8(S:0-1)").gpus == 8
    assert parse_node("gpu|64|515000|gpu:4,gpu:v100:2").gpus == 6
    assert parse_node("PARTITION|CPUS|MEMORY|GRES") is None
    nodes = [parse_node("cpu*|16|64000|(null)"), parse_node("gpu|32|256000|gpu:a100:4")]
    fitted, notes = fit_to_cluster(SlurmConfig(partition="gpu", gpus_per_node=8), nodes)
    assert fitted.gpus_per_node == 8 and notes[-1].startswith("warning: slurm: no node of partition gpu holds")
    fitted, notes = fit_to_cluster(SlurmConfig(tasks_per_node=8), nodes)
    assert fitted.cpus_per_task == 2 and notes == ["slurm: cpus_per_task 4 -> 2 (the default does not fit partition cpu's largest node)"]
    assert fit_to_cluster(SlurmConfig(), None) == (SlurmConfig(), [])
