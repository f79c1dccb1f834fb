#!/usr/bin/env bash
# Run the Kedro job once and exit with its status: safe to call from cron (see crontab.example).
#   docker mode:   the ephemeral kedro-worker container (profile etl): `thelook run`, then it is removed
#   embedded mode: `thelook run` from the project's .venv, against the embedded PostgreSQL
# Output goes to the terminal and is appended to logs/run_job.log. A lock (flock on logs/run_job.lock)
# keeps runs from overlapping: a second call while one runs exits at once with status 75.
# Environment: THELOOK_PIPELINE=name runs one pipeline (default: all); THELOOK_MODE=docker|embedded.
set -euo pipefail
# shellcheck source=docker/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker/common.sh"

readonly RUN_IN_PROGRESS=75 # EX_TEMPFAIL: "try again later", what cron wrappers expect

mkdir -p "$LOG_DIR"
lock_file="$LOG_DIR/run_job.lock"
log_file="$LOG_DIR/run_job.log"
exec 9>>"$lock_file"
if ! flock --nonblock 9; then
    say "a run is already in progress (lock $lock_file is held); not starting another"
    exit "$RUN_IN_PROGRESS"
fi

detect_mode
pipeline_args=()
if [[ -n "${THELOOK_PIPELINE:-}" ]]; then
    pipeline_args=(--pipeline "$THELOOK_PIPELINE")
fi

run_job() {
    if [[ "$MODE" == docker ]]; then
        require_env_file
        compose --profile etl run --rm -T kedro-worker thelook run "${pipeline_args[@]}"
    else
        require_thelook_bin
        cd "${THELOOK_HOME:-$THELOOK_ROOT}"
        "$THELOOK_BIN" run "${pipeline_args[@]}"
    fi
}

say "running the job (pipeline: ${THELOOK_PIPELINE:-all}); log: $log_file"
echo "=== $(date -u +%FT%TZ) run_job.sh: mode $MODE, pipeline ${THELOOK_PIPELINE:-all} ===" >>"$log_file"
set +e
run_job 2>&1 | tee -a "$log_file"
status=${PIPESTATUS[0]}
set -e

if [[ $status -eq 0 ]]; then
    say "the job finished (exit 0)"
else
    reason="$(tail -n 50 "$log_file" | grep -v '^[[:space:]]*$' | tail -n 1 || true)"
    say "the job failed (exit $status): $reason"
fi
echo "=== $(date -u +%FT%TZ) run_job.sh: exit $status ===" >>"$log_file"
exit "$status"
