# Shared by the e2e tests: start `muster server` on 127.0.0.1 with a free port and
# a fresh data directory, write a kubeconfig, and stop the server on exit.
# Sets: tmp, port, url, KUBECONFIG, HOME (per test, so kubectl's discovery cache
# does not leak between tests or from the user's).
set -euo pipefail
bin=${MUSTER_BIN:?MUSTER_BIN not set}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-${P_tmpdir:-/var/tmp}}/muster-e2e.XXXXXX")
server_pid=
agent_pids=()
e2e_cleanup() {
    for a in "${agent_pids[@]}"; do kill "$a" 2>/dev/null || true; done
    for a in "${agent_pids[@]}"; do wait "$a" 2>/dev/null || true; done
    # Whatever the agents ran (and left behind when killed) works in $tmp.
    for p in /proc/[0-9]*; do
        case $(readlink "$p/cwd" 2>/dev/null) in "$tmp"/*) kill -9 "${p#/proc/}" 2>/dev/null || true ;; esac
    done
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    # A sanitizer report from the server (ASan build) fails the test.
    local rc=0
    for log in "$tmp/server.log" "$tmp"/agents/*.log; do
        if [ -f "$log" ] && grep -q 'Sanitizer' "$log"; then
            cat "$log"
            rc=1
        fi
    done
    if [ -n "${E2E_KEEP_LOG:-}" ]; then
        cat "$tmp/server.log.old" "$tmp/server.log" > "$E2E_KEEP_LOG" 2>/dev/null || true
        for log in "$tmp"/agents/*.log; do
            [ -f "$log" ] && cp "$log" "$E2E_KEEP_LOG.$(basename "$log")"
        done
    fi
    rm -rf "$tmp"
    [ $rc = 0 ] || exit 1
}
trap e2e_cleanup EXIT

E2E_SERVER_ARGS=()
e2e_start() { # [--store memory|sqlite]
    E2E_SERVER_ARGS=("$@")
    mkdir -p "$tmp/data"
    "$bin" server --data-dir "$tmp/data" --listen 127.0.0.1:0 --port-file "$tmp/port" \
        ${E2E_LOG_LEVEL:+--log-level "$E2E_LOG_LEVEL"} "$@" \
        2> "$tmp/server.log" &
    server_pid=$!
    for _ in $(seq 100); do
        [ -s "$tmp/port" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log"; exit 1; }
        sleep 0.05
    done
    port=$(cat "$tmp/port")
    url=http://127.0.0.1:$port
    "$bin" kubeconfig --server "$url" > "$tmp/kubeconfig"
    export KUBECONFIG=$tmp/kubeconfig HOME=$tmp/home
    mkdir -p "$HOME"
}

# expect_code CODE METHOD PATH [curl args...]: the response status must be CODE;
# the body is left in $tmp/body.
expect_code() {
    local want=$1 method=$2 path=$3
    shift 3
    local got
    got=$(curl -s -o "$tmp/body" -w '%{http_code}' -X "$method" "$@" "$url$path")
    if [ "$got" != "$want" ]; then
        echo "$method $path: want $want, got $got: $(head -c 400 "$tmp/body")"
        exit 1
    fi
}

fail() { echo "FAIL: $*"; exit 1; }

# has PATTERN: grep that reads all its input (grep -q stops early, and under
# pipefail the writer's SIGPIPE would fail the pipeline).
has() { grep "$@" > /dev/null; }

# e2e_restart [--kill]: stops the server (SIGKILL with --kill, else SIGTERM) and
# starts it again on the same data directory and port.
e2e_restart() {
    if [ "${1:-}" = --kill ]; then kill -9 "$server_pid"; else kill "$server_pid"; fi
    wait "$server_pid" 2>/dev/null || true
    cat "$tmp/server.log" >> "$tmp/server.log.old"
    rm -f "$tmp/port"
    "$bin" server --data-dir "$tmp/data" --listen "127.0.0.1:$port" --port-file "$tmp/port" \
        ${E2E_LOG_LEVEL:+--log-level "$E2E_LOG_LEVEL"} "${E2E_SERVER_ARGS[@]}" 2> "$tmp/server.log" &
    server_pid=$!
    for _ in $(seq 200); do
        [ -s "$tmp/port" ] && return 0
        sleep 0.05
    done
    cat "$tmp/server.log"
    fail "the server did not restart"
}

# e2e_need_agent: skips the test (exit 77) when this build has no `muster agent`.
e2e_need_agent() {
    "$bin" agent --help > /dev/null 2>&1 || { echo "SKIP: this muster has no agent"; exit 77; }
}

# agent_start NAME GPUS LABELS [args...]: starts a node agent for node NAME with
# declared GPUs (e.g. 4xH100-80GB); its pid is left in agent_pid. Its log is
# $tmp/agents/NAME.log, its data directory $tmp/agents/NAME.
agent_start() {
    local name=$1 gpus=$2 labels=$3
    shift 3
    mkdir -p "$tmp/agents/$name"
    "$bin" agent --server "$url" --name "$name" --gpus "$gpus" --labels "$labels" \
        --data-dir "$tmp/agents/$name" ${E2E_LOG_LEVEL:+--log-level "$E2E_LOG_LEVEL"} "$@" >> "$tmp/agents/$name.log" 2>&1 &
    agent_pid=$!
    agent_pids+=("$agent_pid")
}

# wait_for DESCRIPTION COMMAND...: retries COMMAND every 0.1 s for up to
# E2E_WAIT seconds (default 40: CI machines run many tests at once).
wait_for() {
    local what=$1
    shift
    local n=$(( ${E2E_WAIT:-40} * 10 ))
    for _ in $(seq "$n"); do
        if "$@" > /dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    if [ -n "${E2E_DUMP:-}" ]; then
        kubectl get nodes,workloads,jobs,pods -A -o wide 2>&1 || true
        kubectl get workloads -A -o yaml 2>&1 | grep -v "^ *f:" | tail -80 || true
    fi
    fail "timed out waiting for $what"
}

# jp KIND/NAME JSONPATH [kubectl args...]: one field of an object, or "" when absent.
jp() {
    local obj=$1 path=$2
    shift 2
    kubectl get "$obj" "$@" -o "jsonpath={$path}" 2>/dev/null || true
}

# ready_nodes N: exactly N Nodes are Ready.
ready_nodes() { [ "$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" = "$1" ]; }

# complete JOB: the Job's Complete condition is True.
complete() { kubectl get job "$1" -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}' | has True; }
