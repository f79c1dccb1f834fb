#!/usr/bin/env bash
# Entrypoint of the ollama container: serve, and pull the model on first start (it then stays in the
# ollama-models volume, so later starts skip the download). A failed pull leaves the server running but
# the healthcheck (`ollama show MODEL`) unhealthy, with the command to retry printed in the log.
set -euo pipefail

model="${OLLAMA_MODEL:?set THELOOK_LLM_MODEL in .env}"

ollama serve &
server_pid=$!
# Docker stops the container with SIGTERM: pass it on, so that ollama shuts down cleanly.
trap 'kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid"' TERM INT

until ollama list >/dev/null 2>&1; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "ollama-entrypoint: the ollama server exited before it answered" >&2
        exit 1
    fi
    sleep 1
done

if ollama show "$model" >/dev/null 2>&1; then
    echo "ollama-entrypoint: model $model is present"
else
    echo "ollama-entrypoint: pulling $model (first start; about 1.1 GB for deepseek-r1:1.5b)"
    ollama pull "$model" \
        || echo "ollama-entrypoint: could not pull $model; retry with: docker compose exec ollama ollama pull $model" >&2
fi

wait "$server_pid"
