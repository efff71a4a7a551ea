"""What the cluster can run: node sizes from `sinfo`, and a job request fitted to them before it is submitted.

sbatch accepts a job that asks for more CPUs, memory or GPUs than any node of its partition has; the
job then pends forever (reason `PartitionConfig`) and `--wait` hangs. So before submitting,
`fit_to_cluster` reads the partition's nodes: a request left at its default shrinks to the largest
node (announced), and an explicit request no node can hold gets a one-line warning naming what the
largest node has. Without `sinfo` (submitting from a login node that lacks it) the request goes as
written.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, fields, replace

from oversight.launch.slurm import SlurmConfig

SIZES = ("cpus_per_task", "mem_gb", "gpus_per_node")  # what a node must hold


@dataclass(frozen=True)
class Node:
    partition: str
    default: bool  # the partition used when a job names none (`*` in sinfo)
    cpus: int
    mem_gb: float
    gpus: int


def read_nodes() -> list[Node] | None:
    """Every (node, partition) pair `sinfo` reports; None when there is no working sinfo here."""
    sinfo = shutil.which("sinfo")
    if sinfo is None:
        return None
    try:
        shown = subprocess.run([sinfo, "-h", "-N", "-o", "%P|%c|%m|%G"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if shown.returncode != 0:
        return None
    return [node for line in shown.stdout.splitlines() if (node := parse_node(line)) is not None]


def parse_node(line: str) -> Node | None:
    """One `%P|%c|%m|%G` line of sinfo: `debug*|2|21694|(null)` or `gpu|64|515000|gpu:a100:8(S:0-1)`."""
    parts = line.strip().split("|")
    if len(parts) != 4 or not parts[1].strip("+").isdigit() or not parts[2].strip("+").isdigit():
        return None
    partition, cpus, mem_mb, gres = parts
    gpus = sum(int(m.group(1)) for m in re.finditer(r"gpu(?::[^:,(]+)?:(\d+)", gres))
    return Node(partition.rstrip("*"), partition.endswith("*"), int(cpus.strip("+")), int(mem_mb.strip("+")) / 1024, gpus)


def fit_to_cluster(cfg: SlurmConfig, nodes: list[Node] | None) -> tuple[SlurmConfig, list[str]]:
    """`cfg` with its default sizes shrunk to the partition's largest node, and lines to print."""
    if not nodes:
        return cfg, []
    partition = cfg.partition or next((n.partition for n in nodes if n.default), "")
    members = [n for n in nodes if n.partition == partition]
    if not members:
        return cfg, []  # sbatch itself rejects an unknown partition, with its own message
    defaults = {f.name: f.default for f in fields(SlurmConfig)}
    largest = {"cpus_per_task": max(n.cpus for n in members) // max(cfg.tasks_per_node, 1),
               "mem_gb": max(n.mem_gb for n in members), "gpus_per_node": max(n.gpus for n in members)}
    notes, fitted = [], {}
    for key in SIZES:
        asked = getattr(cfg, key)
        if asked == defaults[key] and asked > largest[key] >= (1 if key == "cpus_per_task" else 0):
            fitted[key] = round(largest[key], 1) if key == "mem_gb" else largest[key]
            notes.append(f"slurm: {key} {asked} -> {fitted[key]} (the default does not fit partition {partition}'s largest node)")
    cfg = replace(cfg, **fitted)
    if not any(fits(cfg, n) for n in members):
        biggest = max(members, key=lambda n: (n.gpus, n.cpus, n.mem_gb))
        notes.append(f"warning: slurm: no node of partition {partition} holds {cfg.tasks_per_node} x {cfg.cpus_per_task} CPUs, "
                     f"{cfg.mem_gb:g} GB and {cfg.gpus_per_node} GPUs (largest: {biggest.cpus} CPUs, {biggest.mem_gb:.1f} GB, "
                     f"{biggest.gpus} GPUs); the job would pend until it is cancelled")
    return cfg, notes


def fits(cfg: SlurmConfig, node: Node) -> bool:
    return (cfg.tasks_per_node * cfg.cpus_per_task <= node.cpus and cfg.mem_gb <= node.mem_gb + 1e-9
            and cfg.gpus_per_node <= node.gpus)
