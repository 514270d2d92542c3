#!/bin/sh
# Stops what start-slurm.sh DIR started: slurmd, slurmctld, and munged if it
# started it.
dir=${1:?usage: stop-slurm.sh DIR}
pids=""
for file in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
  [ -s "$file" ] && pids="$pids $(cat "$file")"
done
if [ -e "$dir/munged.started" ] && [ -s /run/munge/munged.pid ]; then
  pids="$pids $(cat /run/munge/munged.pid)"
fi
# shellcheck disable=SC2086
[ -n "$pids" ] && kill $pids 2>/dev/null
# Wait (up to 10 s) until they have gone, so that their files can be removed.
tries=0
for pid in $pids; do
  while kill -0 "$pid" 2>/dev/null && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
done
exit 0
