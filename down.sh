#!/usr/bin/env bash
# Stop thelook.
#   docker mode:   `docker compose down` (every service, profiles etl and debug included)
#   embedded mode: stops the app that start.sh started, then `thelook db stop`
# Usage: ./down.sh [--volumes] [--yes]
#   --volumes  also DELETE the data: the Docker volumes (database, pgAdmin, pulled models, raw data), or
#              the embedded cluster directory; asks first
#   --yes      do not ask (for scripts)
set -euo pipefail
# shellcheck source=docker/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker/common.sh"

delete_data=false
assume_yes=false
for argument in "$@"; do
    case "$argument" in
        --volumes) delete_data=true ;;
        --yes) assume_yes=true ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option $argument (see --help)" ;;
    esac
done

# confirm QUESTION: true when the user answers yes (or passed --yes).
confirm() {
    if $assume_yes; then
        return 0
    fi
    [[ -t 0 ]] || die "will not delete data without asking, and there is no terminal to ask on: pass --yes"
    local answer
    read -r -p "$1 [y/N] " answer
    [[ "$answer" == [yY]* ]]
}

stop_docker() {
    require_env_file
    local options=(--remove-orphans)
    if $delete_data; then
        confirm "Delete the Docker volumes of thelook (database, pgAdmin settings, pulled models, raw data)?" \
            || die "nothing stopped or deleted"
        options+=(--volumes)
    fi
    compose --profile etl --profile debug down "${options[@]}"
    if $delete_data; then
        say "stopped thelook and deleted its volumes"
    else
        say "stopped thelook (the data stays in its volumes)"
    fi
}

stop_embedded() {
    require_thelook_bin
    local home="${THELOOK_HOME:-$THELOOK_ROOT}"
    local data_dir="${THELOOK_PG_DATA:-$home/data/postgres}"
    if $delete_data; then
        confirm "Delete the embedded PostgreSQL cluster in $data_dir (the whole database)?" \
            || die "nothing stopped or deleted"
    fi
    stop_app
    cd "$home"
    "$THELOOK_BIN" db stop
    if $delete_data; then
        rm -rf -- "$data_dir"
        say "deleted $data_dir"
    fi
}

detect_mode
if [[ "$MODE" == docker ]]; then
    stop_docker
else
    stop_embedded
fi
