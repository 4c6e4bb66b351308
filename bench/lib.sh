# SPDX-License-Identifier: MIT
# Shared by the bench/*.sh scripts that start patd: a scratch folder
# ($dir) removed on exit with every process listed in $pids, a free
# loopback port, and waiting for a server's /healthz. Source it after
# setting $tag (the scratch folder's name).
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "/tmp/patd-${tag:-bench}.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_healthy PORT: up to 10 s for GET /healthz to answer.
wait_healthy() {
    for _ in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && return 0
        sleep 0.1
    done
    echo "patd on port $1 did not come up" >&2
    return 1
}
