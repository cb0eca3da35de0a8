#!/usr/bin/env bash
# Submit a thresher run to Slurm as job arrays, one per stage, each stage's merge a job that waits
# for its array (afterok), the next array waiting for that merge. Nothing waits on the login node.
#
#   Scenarios/cluster/submit-slurm.sh [-n TASKS] [-s STAGES] [-d DIR] [-b THRESHER] COMMAND SCENARIO [OPTIONS...]
#
#   -n TASKS    array tasks (slices), default 8
#   -s STAGES   the command's stages: run 1, evaluate 3, calibrate 3 (default: from COMMAND)
#   -d DIR      where parts, states, logs and the report go (on storage every node sees), default ./thresher-job
#   -b THRESHER the thresher binary (default: thresher on PATH)
# Extra sbatch options: SBATCH_ARGS="--partition=risk --time=02:00:00" submit-slurm.sh ...
# The report: DIR/report.json, DIR/report.html and DIR/csv/. Prints the id of the final merge job.
set -euo pipefail
tasks=8 stages="" dir=./thresher-job bin=thresher
while getopts "n:s:d:b:" flag; do
  case $flag in n) tasks=$OPTARG ;; s) stages=$OPTARG ;; d) dir=$OPTARG ;; b) bin=$OPTARG ;; *) exit 64 ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n 5,13p "$0" >&2; exit 64; }
command=$1 scenario=$2; shift 2
case $command in run) default=1 ;; calibrate | evaluate) default=3 ;; *) default="" ;; esac
stages=${stages:-$default}
[ -n "$stages" ] || { echo "submit-slurm.sh: give the stage count of '$command' with -s" >&2; exit 64; }
mkdir -p "$dir/logs"
dir=$(cd "$dir" && pwd) scenario=$(cd "$(dirname "$scenario")" && pwd)/$(basename "$scenario")
quote() { printf '%q ' "$@"; }
options=$(quote "$@")
after="" resume=""
for stage in $(seq 1 "$stages"); do
  # One array task per slice: thresher reads its slice from SLURM_ARRAY_TASK_ID/COUNT.
  array=$(sbatch --parsable ${SBATCH_ARGS:-} ${after:+--dependency=afterok:$after} --array=0-$((tasks - 1)) \
    --job-name="thresher-$command-s$stage" --output="$dir/logs/stage$stage-%a.log" \
    --wrap="$(quote "$bin" "$command" "$scenario") $options $resume --partial $(quote "$dir/stage$stage-{slice}.part")")
  parts=$(for i in $(seq 0 $((tasks - 1))); do printf '%q ' "$dir/stage$stage-$i.part"; done)
  if [ "$stage" -lt "$stages" ]; then
    out="--state-out $(quote "$dir/stage$stage.state")"
  else
    out="--json $(quote "$dir/report.json") --html $(quote "$dir/report.html") --csv $(quote "$dir/csv") --quiet"
  fi
  merge=$(sbatch --parsable ${SBATCH_ARGS:-} --dependency=afterok:$array --job-name="thresher-$command-merge$stage" \
    --output="$dir/logs/merge$stage.log" --wrap="$(quote "$bin") merge $parts $resume $out")
  after=$merge resume="--resume $(quote "$dir/stage$stage.state")"
done
echo "$merge"
