#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for tests and for trying `--launcher slurm` on a laptop.
#
#   sudo slurm/local_cluster.sh          # install (Debian/Ubuntu apt) if needed, configure, start; idempotent
#   sudo slurm/local_cluster.sh stop     # stop slurmd, slurmctld and munged
#
# Needs root and apt. Writes /etc/slurm/slurm.conf (only if it does not exist or was written by this
# script). Known pitfalls it handles: munged needs /run/munge owned by munge; slurmd is started as
# `-N localhost` since the hostname may differ; DefMemPerCPU is set or jobs serialize on memory;
# batch_sched_delay=0 so array tasks start at once.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by oversight slurm/local_cluster.sh"

stop() {
  for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    if [[ -f $pidfile ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
}

if [[ "${1:-start}" == "stop" ]]; then stop; exit 0; fi
[[ $(id -u) -eq 0 ]] || { echo "local_cluster.sh: needs root" >&2; exit 3; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  command -v apt-get >/dev/null || { echo "local_cluster.sh: no apt-get to install slurm" >&2; exit 3; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq munge slurmctld slurmd slurm-client >/dev/null
fi

# munge: the key is created by the package; the runtime dir is not (it lives on tmpfs).
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
[[ -f /etc/munge/munge.key ]] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
if ! munge -n >/dev/null 2>&1 </dev/null; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 </dev/null && break; sleep 0.1; done
fi

changed=0
if [[ ! -f $CONF ]] || grep -q "$MARK" $CONF; then
  # GNU nproc honours OMP_NUM_THREADS (a test worker or job step limited to one thread would make a
  # 1-CPU node); the node holds every core this machine lets us use.
  CPUS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
  MEM=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 9 / 10 ))  # leave the OS some room
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  cat > $CONF.new <<EOF
$MARK
ClusterName=localcluster
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=2000
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobRequeue=1
NodeName=localhost CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  if cmp -s $CONF.new $CONF; then rm $CONF.new; else mv $CONF.new $CONF; changed=1; fi
fi

daemons() { pgrep -x slurmctld || true; pgrep -x slurmd || true; }
if (( changed )) && [[ -n $(daemons) ]]; then  # running on an older config: restart on the new one
  kill $(daemons)
  for _ in $(seq 100); do [[ -z $(daemons) ]] && break; sleep 0.1; done
  [[ -z $(daemons) ]] || { echo "local_cluster.sh: slurmctld/slurmd still running on the old slurm.conf after 10 s" >&2; exit 1; }
fi

if ! scontrol ping 2>/dev/null | grep -q UP; then
  /usr/sbin/slurmctld
fi
if ! pgrep -x slurmd >/dev/null; then
  /usr/sbin/slurmd -N localhost
fi
for _ in $(seq 100); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  [[ $state == idle* || $state == mixed* || $state == allocated* ]] && { echo "slurm up: node localhost $state"; exit 0; }
  [[ $state == down* || $state == drain* ]] && scontrol update nodename=localhost state=resume 2>/dev/null || true
  sleep 0.2
done
echo "local_cluster.sh: node did not come up; see /var/log/slurm/" >&2
exit 1
