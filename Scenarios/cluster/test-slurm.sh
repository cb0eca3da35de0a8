#!/usr/bin/env bash
# make test-slurm: a one-node Slurm cluster from Debian's packages (slurmctld, slurmd, munge) on
# this machine; every Monte Carlo command (run, calibrate, evaluate, robustness) submitted with
# submit-slurm.sh as 8-task job arrays whose merge jobs chain the stages thresher asks for; the
# merged reports compared number by number with single-process runs.
# Needs root (it starts daemons). At the end, pass or fail, it stops its daemons, removes its files,
# and stops and disables the munge, slurmctld and slurmd services that were not enabled before it
# ran (installing the packages may enable them): no system service is left enabled by it.
# THRESHER=PATH tests another thresher binary than make build's .build/release/thresher.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=${THRESHER:-$root/.build/release/thresher}
[ -x "$bin" ] || { echo "build thresher first (make build)" >&2; exit 1; }

services="munge slurmctld slurmd"
# Whether a system service is enabled (systemd's wants/ links, or SysV rc links).
enabled() {
  ls /etc/systemd/system/*.wants/"$1".service >/dev/null 2>&1 || ls /etc/rc[2-5].d/S??"$1" >/dev/null 2>&1
}
was_enabled=""
for s in $services; do if enabled "$s"; then was_enabled="$was_enabled $s"; fi; done
# Stops and disables the services this run may have enabled (not those enabled before it).
restore_services() {
  for s in $services; do
    case " $was_enabled " in *" $s "*) continue ;; esac
    if [ -d /run/systemd/system ]; then systemctl disable --now --quiet "$s" 2>/dev/null || true
    else
      [ -x "/etc/init.d/$s" ] && "/etc/init.d/$s" stop >/dev/null 2>&1 || true
      command -v systemctl >/dev/null && systemctl disable --quiet "$s" 2>/dev/null || true
      rm -f /etc/systemd/system/*.wants/"$s".service
      command -v update-rc.d >/dev/null && update-rc.d -f "$s" remove >/dev/null 2>&1 || true
    fi
    if enabled "$s"; then echo "test-slurm: could not disable the $s service" >&2; fi
  done
}
trap restore_services EXIT

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
  restore_services
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

# Waits until the queue is empty: each merge job submits the next stage before it ends.
wait_for_queue() {
  for _ in $(seq 1200); do
    squeue -h 2>/dev/null | grep -q . || return 0
    sleep 1
  done
  echo "the jobs did not finish in 20 minutes:"; squeue
}

jobs=("run --paths 200000" "calibrate --paths 40960 --sections 4" "evaluate --paths 100000" "robustness --paths 20480")
fail=0
for job in "${jobs[@]}"; do
  set -- $job
  command=$1; shift
  "$bin" "$command" Scenarios/default.yaml "$@" --json "$work/single-$command.json" --quiet
  first=$(Scenarios/cluster/submit-slurm.sh -n 8 -d "$work/$command" -b "$bin" "$command" Scenarios/default.yaml "$@" --threads 1)
  echo "$command: submitted; first merge job $first"
  wait_for_queue
  echo "$command: $(cat "$work/$command/status")"
  if [ -f "$work/$command/report.json" ]; then
    compare "$work/single-$command.json" "$work/$command/report.json" || fail=$((fail + 1))
  else
    echo "no report from the $command jobs:"; tail -n 5 "$work/$command"/logs/*.log; tail -n 20 "$work/slurmctld.log"; fail=$((fail + 1))
  fi
done
passed=$((${#jobs[@]} - fail))
echo "test-slurm: $passed passed, $fail failed"
[ $fail = 0 ]
