#!/usr/bin/env bash
# run.sh - runs rill-bench against a live rill system, and against its peers
# (Nchan; the reference stack) in the same run.
#
#   tests/bench/run.sh [--build DIR] [--short] [--nchan] [--seed] [--sweep]
#                      [--subscribers M] [--rate R] [--duration S] [--idle N]
#                      [--clients C] [--jobs-per-request J] [--parts P]
#                      [--only W[,W...]] [--perf PROCESS] [--standby]
#                      [--set KEY=JSON]... [--websocket]
#
# Starts its own broker, frontend and two workers in a private run
# directory on a free port and runs each workload of rill-bench, printing
# one JSON summary per run on stdout. Workloads (--only picks some):
#
#   fanout    M subscribers on one topic, R msg/s
#   topics    M subscribers over 100 topics, R msg/s
#   jobs      min(M, 200) open streams of one demo job of 10 parts, 10 ms apart
#   capacity  C clients (50), each POSTing J (4) demo jobs of P (10) parts with
#             interval_ms 0 in ONE request, back to back (issue 11's workload)
#   paced     the same with interval_ms 10
#   steady    the same with interval_ms 3: ~50 k parts/s on a 2-core machine,
#             where issue 11 asks the broker for at most 3 us of CPU a part
#   lowload   one subscriber of one topic at 1,000 msg/s (issue 11's point 3:
#             the tail at low load, against Nchan with --nchan)
#   idle      N idle streams, RSS per stream
#
# --websocket: fanout, topics, lowload and idle with WebSocket subscribers
# (rill-bench --websocket; Nchan's `nchan_subscriber websocket` at /ws/), as
# ws-fanout, ws-topics, ws-lowload and ws-idle. --short runs ws-fanout too.
#
# Every summary carries the CPU of each process over the measured window
# (utime + stime of /proc/PID/stat: broker, frontend, worker1, worker2, or
# the peer's process) and, for job runs, microseconds of CPU per delivered
# part; "broker_us_per_part" is the headline of the broker's cost; and the
# wakeups a second of each process's threads ("wakeups_per_s", printed as
# "1413w"), what most of that cost is on a virtual machine.
#
# --nchan: nginx + libnginx-mod-nchan on another port, measured with the same
# fanout, topics and idle parameters right after rill.
# --seed: the reference stack rill was built from (Flask + gevent + RxPY in
# one Python process), started from ../shared/peers/seed_server.py next to
# the repository (or $RILL_SEED_SERVER); capacity and paced run against it
# right after rill's, with `rill-bench --api seed` (its parts are numbered
# from 0 and carry the same CLOCK_MONOTONIC mono_ns at emission, so the
# latency is the same publish-to-delivery span). Needs Debian's
# python3-flask python3-gevent python3-rx, installed when missing (apt-get,
# as ./rill does; RILL_NO_INSTALL=1 skips them, and the peer with them).
# When the server file is absent, run.sh says so and skips it.
# With --nchan or --seed, a last JSON line {"tool":"run.sh",...} gives the
# ratios of the run, and a table of them goes to stderr.
#
# --sweep: instead of the workloads above, how cost grows: capacity and p99
# against concurrent clients (50, 200, 1000) and fan-out deliveries/s against
# subscribers (1, 100, 1000), with the peers given beside rill; tables on
# stderr, a PNG chart drawn by gnuplot (Debian gnuplot-nox, installed when
# missing) into $RILL_BENCH_CHART (default docs/bench-sweep.png).
#
# --perf PROCESS (broker, frontend, worker1, worker2): each rill run is also
# sampled by `perf record -g` (999 Hz) on that process, and the top symbols
# (self time) are printed on stderr; with RILL_PERF_DIR the perf.data files
# are kept there as WORKLOAD-PROCESS.data, for `perf report -i`.
# RILL_PERF_CALL_GRAPH replaces -g: "--call-graph dwarf,16384" names the
# callers inside libraries built without frame pointers (libc, libzmq).
#
# --standby: the broker has a standby (a backup broker mirroring it over
# ipc://, docs/RELIABILITY.md "Standby broker"); frontend and workers are
# given both; the backup's CPU is reported as "standby": the mirror's cost.
#
# --placement split|none (default split): RILL_PLACEMENT for rill's own
# processes (common/rill_cpus.h: with two CPUs or more, the frontend on the
# last one and the broker and the workers on the others); none leaves the
# kernel free. The peers and the load generator are never placed.
#
# --set KEY=JSON: a key of rill's config for this run (docs/CONFIG.md), over
# config/rill.json: `--set topic_lease_ms=0` measures without topic leases.
#
# --short is CI's smoke mode: small numbers, no peers, no timing asserts; a
# failure only if a run delivered nothing or saw errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)

build=build short=0 nchan=0 seed=0 sweep=0 standby=0 subscribers=1000 rate=200 duration=5 idle=10000 only=""
clients=50 per_request=4 parts=10 warmup=1 perf="" placement=split settings=() websocket=0
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --short) short=1; shift ;;
        --nchan) nchan=1; shift ;;
        --seed) seed=1; shift ;;
        --sweep) sweep=1; shift ;;
        --standby) standby=1; shift ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --jobs-per-request) per_request=$2; shift 2 ;;
        --set) settings+=("$2"); shift 2 ;;
        --parts) parts=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --perf) perf=$2; shift 2 ;;
        --placement) placement=$2; shift 2 ;;
        --websocket) websocket=1; shift ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ "$short" = 1 ]; then
    subscribers=50 rate=100 duration=1 idle=200 clients=10 warmup=0.5 nchan=0 seed=0 sweep=0 perf=""
fi
case "$build" in /*) ;; *) build="$TOP/$build" ;; esac
case "$placement" in split|none) ;; *) echo "run.sh: --placement wants split or none" >&2; exit 2 ;; esac
# rill's processes read it (common/rill_cpus.h); the peers and the generator ignore it.
export RILL_PLACEMENT=$placement
unset RILL_CPUS
bench="$build/tests/rill-bench"
[ -x "$bench" ] || { echo "run.sh: $bench not built" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The job answers' checker itself first (canned answers split at every byte).
"$bench" --self-test || { echo "run.sh: rill-bench --self-test failed" >&2; exit 1; }

# install_packages PACKAGE...: what is missing, with apt-get (as ./rill does).
install_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "${RILL_NO_INSTALL:-0}" = 1 ]; then
        echo "run.sh: missing packages (RILL_NO_INSTALL=1, not installing): ${missing[*]}" >&2
        return 1
    fi
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "run.sh: installing ${missing[*]}" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
}

seed_server=${RILL_SEED_SERVER:-$TOP/../shared/peers/seed_server.py}
if [ "$seed" = 1 ]; then
    if [ ! -f "$seed_server" ]; then
        echo "run.sh: the reference stack's server $seed_server is absent: skipping it (RILL_SEED_SERVER=PATH names another)" >&2
        seed=0
    elif ! install_packages python3-flask python3-gevent python3-rx; then
        echo "run.sh: the reference stack needs python3-flask python3-gevent python3-rx: skipping it" >&2
        seed=0
    fi
fi
if [ "$nchan" = 1 ] && [ ! -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
    echo "run.sh: Nchan not installed (apt-get install -y nginx-light libnginx-mod-nchan)" >&2
    exit 1
fi

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
# The project's config, but the broker believes the workers' --credit 5000
# (max_worker_credit, 64 by default, would otherwise cap 2 workers at 128
# jobs at once and queue the rest of the 200 of capacity and paced).
python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); c["max_worker_credit"] = 5000
for setting in sys.argv[3:]:
    key, _, value = setting.partition("=")
    c[key] = json.loads(value)
json.dump(c, open(sys.argv[2], "w"))' "$TOP/config/rill.json" "$work/rill.json" ${settings[@]+"${settings[@]}"}
flags=(--run-dir "$work/run" --config "$work/rill.json" --log warn)
# --standby: a backup broker (docs/RELIABILITY.md "Standby broker") mirrors
# the broker; the clients are given both; the backup's CPU is "standby".
frontend_flags=() worker_flags=()
if [ "$standby" = 1 ]; then
    RILL_PAIR_BIND="ipc://$work/peer.sock" "$build/broker/rill-broker" "${flags[@]}" 2>>"$work/rill.log" & broker_pid=$!
    "$build/broker/rill-broker" --run-dir "$work/run-b" --config "$work/rill.json" --log info \
        --standby-of "ipc://$work/peer.sock" 2>>"$work/standby.log" & standby_pid=$!
    pids+=("$standby_pid")
    frontend_flags=(--control "ipc://$work/run/control.sock,ipc://$work/run-b/control.sock"
                    --events "ipc://$work/run/events.sock,ipc://$work/run-b/events.sock")
    worker_flags=(--workers "ipc://$work/run/workers.sock,ipc://$work/run-b/workers.sock")
else
    "$build/broker/rill-broker" "${flags[@]}" 2>>"$work/rill.log" & broker_pid=$!
fi
pids+=("$broker_pid")
"$build/frontend/rill-frontend" --listen "127.0.0.1:$port" "${flags[@]}" "${frontend_flags[@]}" 2>>"$work/rill.log" & frontend_pid=$!
pids+=("$frontend_pid")
rill_cpu=(--cpu "broker=$broker_pid" --cpu "frontend=$frontend_pid")
[ "$standby" = 1 ] && rill_cpu+=(--cpu "standby=$standby_pid")
declare -A rill_pid=([broker]=$broker_pid [frontend]=$frontend_pid)
for i in 1 2; do
    "$build/workers/rill-worker" --name "bench$i" --credit 5000 "${flags[@]}" "${worker_flags[@]}" 2>>"$work/rill.log" & pids+=($!)
    rill_cpu+=(--cpu "worker$i=$!")
    rill_pid[worker$i]=$!
done
if [ -n "$perf" ]; then
    [ -n "${rill_pid[$perf]:-}" ] || { echo "run.sh: --perf wants broker, frontend, worker1 or worker2" >&2; exit 2; }
    command -v perf >/dev/null || { echo "run.sh: --perf needs perf (apt-get install linux-perf)" >&2; exit 2; }
fi
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"workers":2' && break
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "run.sh: rill did not come up" >&2; cat "$work/rill.log" >&2; exit 1; }
if [ "$standby" = 1 ]; then
    for _ in $(seq 1 100); do
        grep -q 'mirror of broker' "$work/standby.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q 'mirror of broker' "$work/standby.log" || { echo "run.sh: the standby never mirrored" >&2; cat "$work/standby.log" >&2; exit 1; }
fi

if [ "$seed" = 1 ]; then
    sport=$(free_port)
    /usr/bin/python3 "$seed_server" --port "$sport" >>"$work/seed.log" 2>&1 & seed_pid=$!
    pids+=("$seed_pid")
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$sport/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fs "http://127.0.0.1:$sport/healthz" >/dev/null || { echo "run.sh: the reference stack did not come up" >&2; cat "$work/seed.log" >&2; exit 1; }
fi
if [ "$nchan" = 1 ]; then
    nport=$(free_port)
    mkdir -p "$work/nchan/logs" "$work/nchan/tmp"
    sed "s/NCHAN_PORT/$nport/" tests/bench/nchan.conf >"$work/nchan/nchan.conf"
    nginx -p "$work/nchan" -c "$work/nchan/nchan.conf" & pids+=($!)
    for _ in $(seq 1 50); do
        curl -fs -o /dev/null -d '{}' "http://127.0.0.1:$nport/pub/probe" && break
        sleep 0.1
    done
    nchan_worker=$(pgrep -P "$(cat "$work/nchan/nginx.pid")" | head -1)
fi

failures=0
: >"$work/results.jsonl"
# run LABEL MODE ARGS...: one rill-bench run; its JSON on stdout, labelled.
run() {
    local label=$1 mode=$2; shift 2
    local out recorder=""
    if [ -n "$perf" ] && [[ " $* " == *" --target rill "* ]]; then
        # shellcheck disable=SC2086 # RILL_PERF_CALL_GRAPH is several words
        perf record -q -F 999 ${RILL_PERF_CALL_GRAPH:--g} -p "${rill_pid[$perf]}" -o "$work/perf.data" 2>>"$work/perf.log" & recorder=$!
    fi
    if ! out=$("$bench" --mode "$mode" --warmup "$warmup" "$@"); then
        failures=$((failures + 1))
    fi
    if [ -n "$recorder" ]; then
        kill -INT "$recorder" 2>/dev/null || true
        wait "$recorder" 2>/dev/null || true
        echo "run.sh: perf of $perf during $label, self time by library, then top symbols:" >&2
        perf report -i "$work/perf.data" --stdio --no-children --sort dso 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -8 >&2 || true
        perf report -i "$work/perf.data" --stdio --no-children --sort dso,symbol 2>/dev/null |
            grep -E '^ +[0-9.]+%' | sed 's/ *- *- *$//' | head -25 >&2 || true
        if [ -n "${RILL_PERF_DIR:-}" ]; then mkdir -p "$RILL_PERF_DIR" && cp "$work/perf.data" "$RILL_PERF_DIR/$label-$perf.data"; fi
    fi
    out="{\"workload\":\"$label\",${out#\{}"
    echo "$out"
    echo "$out" >>"$work/results.jsonl"
    if [ "$short" = 1 ] && [ "$mode" != idle ] && ! grep -q '"delivered":[1-9]' <<<"$out"; then
        echo "run.sh: $label delivered nothing" >&2
        failures=$((failures + 1))
    fi
}
wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

rill=(--port "$port" --target rill --duration "$duration")
seed_flags=(--port "${sport:-0}" --target seed --api seed --duration "$duration" --cpu "seed=${seed_pid:-0}")
nchan_flags=(--port "${nport:-0}" --target nchan --duration "$duration" --publish-path /pub/%s
             --cpu "nginx=${nchan_worker:-0}")
# --websocket: the subscribers' workloads over WebSocket, labelled ws-*.
ws=() ws_label="" nchan_subscribe=/sub/%s
if [ "$websocket" = 1 ]; then ws=(--websocket) ws_label=ws- nchan_subscribe=/ws/%s; fi
nchan_flags+=(--subscribe-path "$nchan_subscribe")
capacity=(--concurrency "$clients" --jobs-per-request "$per_request" --parts "$parts" --interval-ms 0)
paced=(--concurrency "$clients" --jobs-per-request "$per_request" --parts "$parts" --interval-ms 10)
steady=(--concurrency "$clients" --jobs-per-request "$per_request" --parts "$parts" --interval-ms 3)

if [ "$sweep" = 1 ]; then
    # shellcheck source=tests/bench/sweep.sh
    . tests/bench/sweep.sh
    exit 0
fi

if wanted fanout; then
    run "${ws_label}fanout" fanout "${rill[@]}" "${rill_cpu[@]}" "${ws[@]}" --subscribers "$subscribers" --rate "$rate"
    [ "$nchan" = 1 ] && run "${ws_label}fanout" fanout "${nchan_flags[@]}" "${ws[@]}" --subscribers "$subscribers" --rate "$rate"
fi
if [ "$short" = 1 ] && [ "$websocket" = 0 ] && wanted fanout; then
    run ws-fanout fanout "${rill[@]}" "${rill_cpu[@]}" --websocket --subscribers "$subscribers" --rate "$rate"
fi
if wanted topics; then
    run "${ws_label}topics" topics "${rill[@]}" "${rill_cpu[@]}" "${ws[@]}" --subscribers "$subscribers" --topics 100 --rate "$rate"
    [ "$nchan" = 1 ] && run "${ws_label}topics" topics "${nchan_flags[@]}" "${ws[@]}" --subscribers "$subscribers" --topics 100 --rate "$rate"
fi
if wanted jobs; then
    run jobs jobs "${rill[@]}" "${rill_cpu[@]}" --concurrency $((subscribers < 200 ? subscribers : 200)) --parts 10 --interval-ms 10
fi
if wanted capacity; then
    run capacity jobs "${rill[@]}" "${rill_cpu[@]}" "${capacity[@]}"
    [ "$seed" = 1 ] && run capacity jobs "${seed_flags[@]}" "${capacity[@]}"
fi
if wanted paced; then
    run paced jobs "${rill[@]}" "${rill_cpu[@]}" "${paced[@]}"
    [ "$seed" = 1 ] && run paced jobs "${seed_flags[@]}" "${paced[@]}"
fi
if wanted steady; then
    run steady jobs "${rill[@]}" "${rill_cpu[@]}" "${steady[@]}"
fi
if wanted lowload; then
    run "${ws_label}lowload" fanout "${rill[@]}" "${rill_cpu[@]}" "${ws[@]}" --subscribers 1 --rate 1000
    [ "$nchan" = 1 ] && run "${ws_label}lowload" fanout "${nchan_flags[@]}" "${ws[@]}" --subscribers 1 --rate 1000
fi
if wanted idle; then
    run "${ws_label}idle" idle "${rill[@]}" "${ws[@]}" --subscribers "$idle" --pid "$frontend_pid" --warmup 3
    [ "$nchan" = 1 ] && run "${ws_label}idle" idle "${nchan_flags[@]}" "${ws[@]}" --subscribers "$idle" --pid "$nchan_worker" --warmup 3
fi

if [ "$nchan" = 1 ] || [ "$seed" = 1 ]; then
    python3 tests/bench/compare.py "$work/results.jsonl"
fi

if [ "$failures" -gt 0 ]; then
    echo "run.sh: $failures run(s) failed" >&2
    tail -20 "$work/rill.log" >&2
    exit 1
fi
