#!/usr/bin/env bash
# run.sh - runs rill-bench against a live rill system (and Nchan, same run).
#
#   tests/bench/run.sh [--build DIR] [--short] [--nchan] [--subscribers M] [--rate R]
#                      [--duration S] [--idle N] [--only MODE]
#
# Starts its own broker, frontend and two workers in a private run
# directory on a free port, runs each mode of rill-bench (fanout, topics,
# jobs, idle) and prints one JSON summary per run. With --nchan, nginx +
# libnginx-mod-nchan is started on another port and measured with the same
# fan-out and idle parameters, right after rill, so the two compare within
# one run. --short is CI's smoke mode: small numbers, and a failure if any
# run delivered nothing or saw errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)

build=build short=0 nchan=0 subscribers=1000 rate=200 duration=5 idle=10000 only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --short) short=1; shift ;;
        --nchan) nchan=1; shift ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ "$short" = 1 ]; then
    subscribers=50 rate=100 duration=1 idle=200
fi
bench="$TOP/$build/tests/rill-bench"
[ -x "$bench" ] || { echo "run.sh: $bench not built" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/rill-bench-XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

port=$(free_port)
flags=(--run-dir "$work/run" --config "$TOP/config/rill.json" --log warn)
"$build/broker/rill-broker" "${flags[@]}" 2>>"$work/rill.log" & pids+=($!)
"$build/frontend/rill-frontend" --listen "127.0.0.1:$port" "${flags[@]}" 2>>"$work/rill.log" & frontend_pid=$!
pids+=("$frontend_pid")
for i in 1 2; do
    "$build/workers/rill-worker" --name "bench$i" --credit 5000 "${flags[@]}" 2>>"$work/rill.log" & pids+=($!)
done
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"workers":2' && break
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "run.sh: rill did not come up" >&2; cat "$work/rill.log" >&2; exit 1; }

failures=0
# run MODE ARGS...: one rill-bench run; its JSON on stdout.
run() {
    local mode=$1; shift
    if [ -n "$only" ] && [ "$only" != "$mode" ]; then return 0; fi
    local out
    if ! out=$("$bench" --mode "$mode" "$@"); then
        failures=$((failures + 1))
    fi
    echo "$out"
    if [ "$short" = 1 ] && [ "$mode" != idle ] && ! grep -q '"delivered":[1-9]' <<<"$out"; then
        echo "run.sh: $mode delivered nothing" >&2
        failures=$((failures + 1))
    fi
}

rill=(--port "$port" --target rill --duration "$duration")
run fanout "${rill[@]}" --subscribers "$subscribers" --rate "$rate"
run topics "${rill[@]}" --subscribers "$subscribers" --topics 100 --rate "$rate"
run jobs "${rill[@]}" --concurrency $((subscribers < 200 ? subscribers : 200)) --parts 10 --interval-ms 10
run idle "${rill[@]}" --subscribers "$idle" --pid "$frontend_pid" --warmup 3

if [ "$nchan" = 1 ]; then
    if [ ! -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
        echo "run.sh: Nchan not installed (apt-get install -y nginx-light libnginx-mod-nchan)" >&2
        exit 1
    fi
    nport=$(free_port)
    mkdir -p "$work/nchan/logs" "$work/nchan/tmp"
    sed "s/NCHAN_PORT/$nport/" tests/bench/nchan.conf >"$work/nchan/nchan.conf"
    nginx -p "$work/nchan" -c "$work/nchan/nchan.conf" & pids+=($!)
    for _ in $(seq 1 50); do
        curl -fs -o /dev/null -d '{}' "http://127.0.0.1:$nport/pub/probe" && break
        sleep 0.1
    done
    nchan_worker=$(pgrep -P "$(cat "$work/nchan/nginx.pid")" | head -1)
    nchan_flags=(--port "$nport" --target nchan --duration "$duration" --publish-path /pub/%s --subscribe-path /sub/%s)
    run fanout "${nchan_flags[@]}" --subscribers "$subscribers" --rate "$rate"
    run topics "${nchan_flags[@]}" --subscribers "$subscribers" --topics 100 --rate "$rate"
    run idle "${nchan_flags[@]}" --subscribers "$idle" --pid "$nchan_worker" --warmup 3
fi

if [ "$failures" -gt 0 ]; then
    echo "run.sh: $failures run(s) failed" >&2
    tail -20 "$work/rill.log" >&2
    exit 1
fi
