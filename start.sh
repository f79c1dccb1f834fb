#!/usr/bin/env bash
# Start thelook and wait until it is healthy.
#   docker mode:   builds the images and starts postgres, pgadmin, ollama and the app (adding the NVIDIA
#                  override docker-compose.gpu.yml when `nvidia-smi` works); the first start pulls the model
#   embedded mode: `thelook db start`, then the app in the background (logs/app.log; ./down.sh stops it)
# Usage: ./start.sh [--no-app]      Environment: THELOOK_MODE=docker|embedded, THELOOK_START_TIMEOUT
# (seconds, default 1200), APP_PORT (embedded app port, default 8501).
set -euo pipefail
# shellcheck source=docker/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker/common.sh"

START_TIMEOUT="${THELOOK_START_TIMEOUT:-1200}"
APP_PORT="${APP_PORT:-8501}"
start_app=true
for argument in "$@"; do
    case "$argument" in
        --no-app) start_app=false ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option $argument (see --help)" ;;
    esac
done

start_docker() {
    require_env_file
    if gpu_available; then
        say "nvidia-smi answers: adding docker-compose.gpu.yml (ollama runs on the GPU)"
    else
        say "no NVIDIA GPU answers (nvidia-smi): ollama runs on the CPU"
    fi
    local services=(postgres pgadmin ollama)
    if $start_app; then
        services+=(app)
    fi
    say "starting ${services[*]}; waiting up to ${START_TIMEOUT}s until healthy (the first start builds the images and pulls the model)"
    compose up --detach --build --wait --wait-timeout "$START_TIMEOUT" "${services[@]}"
    say "pgAdmin:   http://$(compose port pgadmin 80)"
    if $start_app; then
        say "app:       http://$(compose port app 8501)"
    fi
    say "Kedro-Viz: docker compose --profile debug up -d kedro-viz (port KEDRO_VIZ_PORT, default 4141)"
    say "the job:   ./run_job.sh (or from cron: crontab.example)"
}

# wait_for_app URL: until the app's health endpoint answers, the app dies, or the timeout passes.
wait_for_app() {
    local url="$1" deadline=$((SECONDS + START_TIMEOUT))
    local python
    python="$(dirname "$THELOOK_BIN")/python"
    until "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$url" 2>/dev/null; do
        app_running || die "the app exited; see $LOG_DIR/app.log"
        ((SECONDS < deadline)) || die "the app did not answer $url within ${START_TIMEOUT}s; see $LOG_DIR/app.log"
        sleep 2
    done
}

start_embedded_app() {
    if app_running; then
        say "the app already runs (process group $(<"$APP_PID_FILE"))"
        return
    fi
    mkdir -p "$LOG_DIR"
    # setsid: the app leads its own process group, so down.sh can stop it with everything it started.
    STREAMLIT_SERVER_PORT="$APP_PORT" STREAMLIT_SERVER_HEADLESS=true \
        setsid "$THELOOK_BIN" app >>"$LOG_DIR/app.log" 2>&1 </dev/null &
    echo "$!" >"$APP_PID_FILE"
    say "starting the app (log: $LOG_DIR/app.log)"
    wait_for_app "http://127.0.0.1:$APP_PORT/_stcore/health"
    say "app: http://127.0.0.1:$APP_PORT"
}

start_embedded() {
    require_thelook_bin
    cd "${THELOOK_HOME:-$THELOOK_ROOT}"
    "$THELOOK_BIN" db start
    if $start_app; then
        start_embedded_app
    fi
    say "Kedro-Viz: $THELOOK_BIN viz (http://127.0.0.1:4141); the job: ./run_job.sh"
}

detect_mode
if [[ "$MODE" == docker ]]; then
    start_docker
else
    start_embedded
fi
