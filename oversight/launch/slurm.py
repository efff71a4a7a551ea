"""SLURM submission through submitit: one job array per sweep (or one job per run), requeued on preemption.

`SlurmConfig` is the `slurm:` section of a sweep file (or `slurm.*` overrides on `run --launcher
slurm`). Jobs get `--signal=USR2@<signal_delay_s>`: on preemption or a coming time limit submitit
calls `OversightJob.checkpoint`, which resubmits the same run and exits; the requeued job reuses
finished stages (the stage cache) and continues a training stage from its last `train.ckpt`.
The same jobs can be submitted by hand with the templates in `slurm/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight.errors import ConfigError


@dataclass
class SlurmConfig:
    partition: str = ""  # --partition ("" = the cluster's default)
    time_min: int = 240  # --time, minutes per job; a job near its limit checkpoints and requeues
    gpus_per_node: int = 0  # --gpus-per-node
    cpus_per_task: int = 4  # --cpus-per-task
    mem_gb: float = 16  # --mem per node, GB
    tasks_per_node: int = 1  # processes per job; >1 runs multi-process (DDP) training, one per GPU
    account: str = ""  # --account ("" = your default)
    qos: str = ""  # --qos ("" = the partition's default)
    array_parallelism: int = 64  # at most this many array tasks run at once
    signal_delay_s: int = 120  # USR2 this many seconds before the time limit, to checkpoint and requeue
    max_num_timeout: int = 3  # requeues after hitting the time limit before giving up (preemptions are unlimited)
    extra_sbatch: list[str] = field(default_factory=list)  # extra sbatch options, e.g. ["constraint=a100", "exclusive"]
    setup: list[str] = field(default_factory=list)  # shell lines run before the job, e.g. ["module load cuda"]
    folder: str = ""  # submitit logs and pickles ("" = <out_dir>/_slurm/<sweep or run name>)
    job_name: str = ""  # --job-name ("" = the sweep or run name)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SlurmConfig:
        """Checked like the run config: an unknown key or a wrong type is an error naming the key."""
        from omegaconf import OmegaConf
        from omegaconf.errors import OmegaConfBaseException

        try:
            merged = OmegaConf.merge(OmegaConf.structured(cls), values)
            return OmegaConf.to_object(merged)
        except OmegaConfBaseException as err:
            raise ConfigError(f"slurm.{getattr(err, 'full_key', '') or ''}: {str(err).splitlines()[0]}") from err


def split_slurm_overrides(overrides: list[str]) -> tuple[list[str], dict[str, Any]]:
    """`slurm.key=value` items go to SlurmConfig; the rest stay run overrides."""
    from omegaconf import OmegaConf

    from oversight.config import parse_override

    rest, slurm = [], {}
    for item in overrides:
        if item.startswith("slurm.") and "=" in item:
            slurm.update(OmegaConf.to_container(parse_override(item))["slurm"])  # the parser of every other override
        else:
            rest.append(item)
    return rest, slurm


def sbatch_parameters(cfg: SlurmConfig) -> dict[str, Any]:
    """submitit's slurm_* parameters for this config (what ends up as #SBATCH lines)."""
    params: dict[str, Any] = {"slurm_time": cfg.time_min, "slurm_cpus_per_task": cfg.cpus_per_task,
                              "slurm_mem": f"{int(cfg.mem_gb * 1024)}M", "slurm_ntasks_per_node": cfg.tasks_per_node,
                              "slurm_signal_delay_s": cfg.signal_delay_s, "slurm_array_parallelism": cfg.array_parallelism,
                              "slurm_setup": list(cfg.setup)}
    if cfg.partition:
        params["slurm_partition"] = cfg.partition
    if cfg.gpus_per_node:
        params["slurm_gpus_per_node"] = cfg.gpus_per_node
    if cfg.account:
        params["slurm_account"] = cfg.account
    if cfg.qos:
        params["slurm_qos"] = cfg.qos
    if cfg.job_name:
        params["slurm_job_name"] = cfg.job_name
    extra = {}
    for line in cfg.extra_sbatch:
        key, _, value = line.removeprefix("--").partition("=")
        extra[key] = value if value else None
    if extra:
        params["slurm_additional_parameters"] = extra
    return params


def build_executor(cfg: SlurmConfig, folder: Path, name: str):
    import submitit

    from oversight.launch.cluster import fit_to_cluster, read_nodes

    cfg, notes = fit_to_cluster(cfg, read_nodes())
    for note in notes:
        print(note, flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    executor = submitit.SlurmExecutor(folder=str(folder), max_num_timeout=cfg.max_num_timeout)
    params = sbatch_parameters(cfg)
    params.setdefault("slurm_job_name", name)
    executor.update_parameters(**{k.removeprefix("slurm_"): v for k, v in params.items()})
    return executor


class OversightJob:
    """A picklable job: run one sweep point (`sweep_path`, `index`) or one experiment (`config`, `overrides`)."""

    def __init__(self, sweep_path: str = "", index: int = -1, config: str = "", overrides: list[str] | None = None) -> None:
        self.sweep_path, self.index, self.config, self.overrides = sweep_path, index, config, list(overrides or [])

    def __call__(self) -> dict | None:
        import os

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if int(os.environ.get("SLURM_NTASKS", "1")) > 1:  # one process per task: join them for DDP
            import submitit

            submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        if self.sweep_path:
            from oversight.sweep import run_one

            return run_one(self.sweep_path, self.index, self.overrides)
        from oversight.config import load_config
        from oversight.experiment import run_experiment

        return run_experiment(load_config(self.config, self.overrides))

    def checkpoint(self, *args: Any, **kwargs: Any):
        """Called by submitit on USR2: requeue this same call. Progress lives on disk (stages, train.ckpt)."""
        import submitit

        return submitit.helpers.DelayedSubmission(OversightJob(self.sweep_path, self.index, self.config, self.overrides))


def submit_sweep(sweep, runs, folder: Path) -> list:
    """One job array, task i running grid point i."""
    executor = build_executor(sweep.slurm, folder, sweep.slurm.job_name or sweep.name)
    jobs = []
    with executor.batch():
        for i in range(len(runs)):
            jobs.append(executor.submit(OversightJob(sweep_path=sweep.path, index=i, overrides=_sweep_extra(sweep))))
    return jobs


def _sweep_extra(sweep) -> list[str]:
    """Command-line overrides given to `oversight sweep` travel with the job (the file has the rest)."""
    return list(sweep.extra)


def submit_run(config: str, overrides: list[str], slurm: SlurmConfig, folder: Path, name: str):
    executor = build_executor(slurm, folder, slurm.job_name or name)
    return executor.submit(OversightJob(config=config, overrides=overrides))

