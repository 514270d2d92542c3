#!/bin/sh
# Starts a single-node Slurm on this machine (Debian's slurm-wlm and munge,
# as root): munged if it is not running, then slurmctld and slurmd with a
# configuration of their own in DIR (state, spool, logs, pid files), and
# waits until the node is idle. Prints the SLURM_CONF to export; stop it with
# stop-slurm.sh DIR. The settings are the ones that work without systemd or
# cgroups: proctrack/linuxproc, task/none, select/cons_tres, the node with
# this machine's CPUs.
#
#   sh Validation/jobs/start-slurm.sh /tmp/slurm && export SLURM_CONF=/tmp/slurm/slurm.conf
set -eu
dir=${1:?usage: start-slurm.sh DIR}
[ "$(id -u)" = 0 ] || { echo "start-slurm.sh: starting slurmctld and slurmd here needs root" >&2; exit 2; }
for command in munged slurmctld slurmd sinfo; do
  command -v "$command" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
  command -v "$command" >/dev/null 2>&1 || { echo "start-slurm.sh: no $command (apt-get install slurm-wlm munge)" >&2; exit 2; }
done
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
dir=$(cd "$dir" && pwd)
host=$(hostname -s)
cat > "$dir/slurm.conf" <<CONF
ClusterName=bayesglmm
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
if ! munge -n >/dev/null 2>&1; then
  mkdir -p /run/munge && chown munge:munge /run/munge
  [ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || /usr/sbin/mungekey -c; chown munge:munge /etc/munge/munge.key; }
  runuser -u munge -- munged
  echo started > "$dir/munged.started"
fi
slurmctld -f "$dir/slurm.conf"
slurmd -f "$dir/slurm.conf"
export SLURM_CONF="$dir/slurm.conf"
tries=0
until [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; do
  tries=$((tries + 1))
  if [ $tries -gt 60 ]; then
    echo "start-slurm.sh: the node is not idle after 30 s (sinfo: $(sinfo -h -o %T 2>&1)); logs in $dir/log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "SLURM_CONF=$dir/slurm.conf"
