#!/usr/bin/env bash
# make test-slurm: a one-node Slurm cluster from Debian's packages (slurmctld, slurmd, munge) on
# this machine, an 8-task job array of `thresher run` (and a 3-stage calibrate) submitted with
# submit-slurm.sh, and the merged reports compared number by number with single-process runs.
# Needs root (it starts daemons); stops them and removes its files at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$root/.build/release/thresher
[ -x "$bin" ] || { echo "build thresher first (make build)" >&2; exit 1; }
need=""
for p in slurm-wlm munge python3; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need; fi

work=$(mktemp -d /tmp/thresher-slurm.XXXXXX)
node=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/spool/ctld" "$work/spool/d" /run/munge
cat > "$work/slurm.conf" <<CONF
ClusterName=thresher-test
SlurmctldHost=$node
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF=$work/slurm.conf

cleanup() {
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
  [ -n "${munge_pid:-}" ] && kill "$munge_pid" 2>/dev/null || true
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a fresh key and socket of our own, so a machine's own munge is left alone.
dd if=/dev/urandom bs=1 count=1024 of="$work/munge.key" status=none
chmod 400 "$work/munge.key"
munged --force --key-file="$work/munge.key" --socket="$work/munge.socket" --pid-file="$work/munged.pid" \
  --log-file="$work/munged.log" --seed-file="$work/munge.seed" &
sleep 1
munge_pid=$(cat "$work/munged.pid")
echo "AuthInfo=socket=$work/munge.socket" >> "$work/slurm.conf"

slurmctld -f "$work/slurm.conf"
slurmd -f "$work/slurm.conf"
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo

compare() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def numbers(path):
    report = json.load(open(path))
    for key in ("elapsed_seconds", "paths_per_second", "thresher", "threads"):
        report.pop(key, None)
    return report
a, b = numbers(sys.argv[1]), numbers(sys.argv[2])
if a != b:
    sys.exit(f"{sys.argv[1]} and {sys.argv[2]} differ")
print(f"{sys.argv[2]}: every number equals the single-process report's")
PY
}

wait_for() {
  for _ in $(seq 600); do
    squeue -h -j "$1" 2>/dev/null | grep -q . || break
    sleep 1
  done
}

fail=0
for job in "run --paths 200000" "calibrate --paths 40960 --sections 4"; do
  set -- $job
  command=$1; shift
  "$bin" "$command" Scenarios/default.yaml "$@" --json "$work/single-$command.json" --quiet
  last=$(Scenarios/cluster/submit-slurm.sh -n 8 -d "$work/$command" -b "$bin" "$command" Scenarios/default.yaml "$@" --threads 1)
  echo "$command: submitted; final merge job $last"
  wait_for "$last"
  if [ -f "$work/$command/report.json" ]; then
    compare "$work/single-$command.json" "$work/$command/report.json" || fail=1
  else
    echo "no report from the $command jobs:"; tail -n 5 "$work/$command"/logs/*.log; tail -n 20 "$work/slurmctld.log"; fail=1
  fi
done
[ $fail = 0 ] && echo "test-slurm: 2 passed, 0 failed" || { echo "test-slurm: failed"; exit 1; }
