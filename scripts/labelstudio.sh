#!/usr/bin/env bash
# Label Studio 1.23.2 as a local service, for the bridge's integration tests and for trying the
# bridge by hand. Label Studio's pins clash with ours, so it lives in its own virtual environment,
# cached between runs under $LABELER_CACHE (default ~/.cache/guided-labeler).
#
#   scripts/labelstudio.sh install        make (or reuse) the cached venv
#   scripts/labelstudio.sh start DATA_DIR start on a free loopback port; prints URL and token
#   scripts/labelstudio.sh stop DATA_DIR  stop the server started with that data folder
#
# Webhooks and models on this machine need LABEL_STUDIO_SSRF_PROTECTION_ENABLED=false and
# LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false (Label Studio refuses loopback addresses otherwise).
#
# `start` prints three lines, `url=...`, `token=...` (the legacy API token of the known user) and
# `pid=...`, once /health answers. The user is $LABEL_STUDIO_USERNAME (default
# labeler@example.com) with password $LABEL_STUDIO_PASSWORD; the token is
# $LABEL_STUDIO_USER_TOKEN (default: a fixed test token). Starting again on the same DATA_DIR
# keeps its projects (a restart). PORT picks the port (default: a free one).
set -euo pipefail

VERSION=1.23.2
CACHE=${LABELER_CACHE:-$HOME/.cache/guided-labeler}
VENV=$CACHE/label-studio-$VERSION
PYTHON=${PYTHON:-python3}
BOOT_TIMEOUT=${LABEL_STUDIO_BOOT_TIMEOUT:-300}

die() { echo "labelstudio.sh: $*" >&2; exit 2; }

install() {
    mkdir -p "$CACHE"
    # One install at a time (two test runs may start together); the marker file is written
    # last, so an interrupted install is never taken for a complete one.
    exec 9>"$VENV.lock"
    flock 9
    if [[ ! -f $VENV/.installed ]]; then
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/pip" install --quiet --disable-pip-version-check "label-studio==$VERSION"
        touch "$VENV/.installed"
    fi
    exec 9>&-
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local data=${1:?usage: labelstudio.sh start DATA_DIR}
    install
    mkdir -p "$data/files"
    data=$(cd "$data" && pwd)
    if [[ -f $data/pid ]] && kill -0 "$(cat "$data/pid")" 2>/dev/null; then
        die "Label Studio is already running for $data (pid $(cat "$data/pid"))"
    fi
    local port=${PORT:-$(free_port)}
    local token=${LABEL_STUDIO_USER_TOKEN:-0123456789abcdef0123456789abcdef01234567}
    # A busy port makes Label Studio move silently to the next one, hence the free port above and
    # the check of the port in the log below.
    env -u DJANGO_SETTINGS_MODULE \
        LABEL_STUDIO_USERNAME="${LABEL_STUDIO_USERNAME:-labeler@example.com}" \
        LABEL_STUDIO_PASSWORD="${LABEL_STUDIO_PASSWORD:-labeler-test-password}" \
        LABEL_STUDIO_USER_TOKEN="$token" \
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
        LABEL_STUDIO_BASE_DATA_DIR="$data/base" \
        LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true \
        LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT="$data/files" \
        LABEL_STUDIO_SSRF_PROTECTION_ENABLED=false \
        LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false \
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true \
        COLLECT_ANALYTICS=false \
        LATEST_VERSION_CHECK=false \
        SENTRY_DSN= FRONTEND_SENTRY_DSN= \
        nohup "$VENV/bin/label-studio" start --no-browser --internal-host 127.0.0.1 \
        --port "$port" >>"$data/label-studio.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$data/pid"
    local url=http://127.0.0.1:$port
    local waited=0
    until curl -fsS -o /dev/null "$url/health" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$data/label-studio.log" >&2
            die "Label Studio exited before answering $url/health (log: $data/label-studio.log)"
        fi
        if ((waited >= BOOT_TIMEOUT)); then
            kill "$pid" 2>/dev/null || true
            die "Label Studio did not answer $url/health within ${BOOT_TIMEOUT} s"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "url=$url"
    echo "token=$token"
    echo "pid=$pid"
}

stop() {
    local data=${1:?usage: labelstudio.sh stop DATA_DIR}
    [[ -f $data/pid ]] || return 0
    local pid
    pid=$(cat "$data/pid")
    if kill -0 "$pid" 2>/dev/null; then
        # label-studio runs Django's server in child processes: stop the whole group's leader
        # first, then any child that outlives it.
        local children
        children=$(pgrep -P "$pid" || true)
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 1
        done
        kill -9 "$pid" $children 2>/dev/null || true
    fi
    rm -f "$data/pid"
}

case ${1:-} in
    install) install ;;
    start) start "${2:-}" ;;
    stop) stop "${2:-}" ;;
    *) die "usage: labelstudio.sh install | start DATA_DIR | stop DATA_DIR" ;;
esac
