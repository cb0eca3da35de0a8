#!/usr/bin/env bash
# Submit a thresher Monte Carlo command (run, calibrate, evaluate, robustness) to Slurm: a job array
# per stage, each stage's merge a job that waits for its array (afterok). How many stages the
# command has comes from thresher, not from this script: every merge job runs `thresher merge …
# --state-out`, and when thresher writes the state (the command needs another stage) the merge job
# submits the next array and its merge; when it writes the report instead, the run is done. Nothing
# waits on the login node.
#
#   Scenarios/cluster/submit-slurm.sh [-n TASKS] [-d DIR] [-b THRESHER] COMMAND SCENARIO [OPTIONS...]
#
#   -n TASKS    array tasks (slices), default 8
#   -d DIR      where parts, states, logs and the report go (on storage every node sees), default ./thresher-job
#   -b THRESHER the thresher binary (default: thresher on PATH)
# Extra sbatch options: SBATCH_ARGS="--partition=risk --time=02:00:00" submit-slurm.sh ...
# The report: DIR/report.json, DIR/report.html and DIR/csv/. DIR/status says where the run is
# ("stage N submitted", "done after N stages", or "failed: …"); DIR/jobs lists every job id.
# Prints the id of the first merge job. Exit 64: bad usage.
set -euo pipefail
quote() { printf '%q ' "$@"; }

# Submits stage $1's array and its merge job (the job runs this script's copy in $dir with --merge).
submit_stage() {
  local stage=$1 resume="" array merge
  [ "$stage" -gt 1 ] && resume="--resume $(quote "$dir/stage$((stage - 1)).state")"
  # One array task per slice: thresher reads its slice from SLURM_ARRAY_TASK_ID/COUNT.
  array=$(sbatch --parsable ${sbatch_args:-} --array=0-$((tasks - 1)) --job-name="thresher-$command-s$stage" \
    --output="$dir/logs/stage$stage-%a.log" \
    --wrap="$(quote "$bin" "$command" "$scenario" "${options[@]}") $resume --partial $(quote "$dir/stage$stage-{slice}.part")")
  merge=$(sbatch --parsable ${sbatch_args:-} --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
    --job-name="thresher-$command-merge$stage" --output="$dir/logs/merge$stage.log" \
    --wrap="$(quote "$dir/submit-slurm.sh" --merge "$stage" "$dir")")
  printf '%s %s\n' "$array" "$merge" >> "$dir/jobs"
  echo "stage $stage submitted (array $array, merge $merge)" > "$dir/status"
  echo "$merge"
}

if [ "${1:-}" = --merge ]; then
  # In the merge job of stage $2: merge the parts; a state means another stage, a report the end.
  stage=$2 dir=$3
  # shellcheck source=/dev/null
  source "$dir/job.env"
  parts=()
  for i in $(seq 0 $((tasks - 1))); do parts+=("$dir/stage$stage-$i.part"); done
  resume=()
  [ "$stage" -gt 1 ] && resume=(--resume "$dir/stage$((stage - 1)).state")
  state="$dir/stage$stage.state"
  rm -f "$state"
  if ! "$bin" merge "${parts[@]}" "${resume[@]}" --state-out "$state" \
      --json "$dir/report.json" --html "$dir/report.html" --csv "$dir/csv" --quiet; then
    echo "failed: the merge of stage $stage (see $dir/logs/merge$stage.log)" > "$dir/status"
    exit 1
  fi
  if [ -f "$state" ]; then
    submit_stage $((stage + 1)) > /dev/null
  else
    echo "done after $stage stage$([ "$stage" = 1 ] || echo s): $dir/report.json" > "$dir/status"
  fi
  exit 0
fi

tasks=8 dir=./thresher-job bin=thresher
while getopts "n:d:b:" flag; do
  case $flag in n) tasks=$OPTARG ;; d) dir=$OPTARG ;; b) bin=$OPTARG ;; *) exit 64 ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n 9,17p "$0" >&2; exit 64; }
command=$1 scenario=$2; shift 2
case $command in run | calibrate | evaluate | robustness) ;;
  *) echo "submit-slurm.sh: '$command' is not a Monte Carlo command (run, calibrate, evaluate, robustness)" >&2; exit 64 ;;
esac
[[ $tasks =~ ^[1-9][0-9]*$ ]] || { echo "submit-slurm.sh: -n must be a positive number of tasks, got '$tasks'" >&2; exit 64; }
[ -f "$scenario" ] || { echo "submit-slurm.sh: $scenario: no such scenario file" >&2; exit 64; }
options=("$@") sbatch_args=${SBATCH_ARGS:-}
mkdir -p "$dir/logs"
dir=$(cd "$dir" && pwd) scenario=$(cd "$(dirname "$scenario")" && pwd)/$(basename "$scenario")
case $bin in */*) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;; esac
cp "$0" "$dir/submit-slurm.sh"
rm -f "$dir/jobs" "$dir/status" "$dir"/stage*.part "$dir"/stage*.state
{
  printf 'tasks=%q bin=%q command=%q scenario=%q sbatch_args=%q\n' "$tasks" "$bin" "$command" "$scenario" "$sbatch_args"
  declare -p options
} > "$dir/job.env"
submit_stage 1
