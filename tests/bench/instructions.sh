#!/usr/bin/env bash
# instructions.sh - CPU cost of the job path in instructions per part, for
# each process, counted by callgrind: repeatable on a shared, noisy machine
# where timings are not (the same binary and workload give the same count).
#
#   tests/bench/instructions.sh [--build DIR] [--jobs 20] [--parts 50] [--per-job] [--keep DIR]
#
# Runs broker, frontend and one worker under `valgrind --tool=callgrind`,
# streams JOBS demo jobs (interval 0) twice over — once with PARTS parts
# each, once with 3 x PARTS — and prints, per process, (instructions of the
# second run - instructions of the first) / (parts of the second - parts of
# the first): the cost of one more part, with start-up, shutdown and most
# timer work cancelled out. Compare two builds (e.g. two commits) with the
# same arguments, as a ratio.
#
# --per-job turns it around: JOBS and 3 x JOBS jobs of PARTS parts each (use
# a small PARTS, e.g. 10), and prints the cost of one more job with its
# request and its parts ("instructions_per_job"): what a job costs besides
# its parts (its submit, its subscriptions, its batch, its end).
#
# --keep DIR keeps the callgrind files of the larger run (DIR/broker.out,
# frontend.out, worker.out) for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)
build=build jobs=20 parts=50 per_job=0 keep=
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --parts) parts=$2; shift 2 ;;
        --per-job) per_job=1; shift ;;
        --keep) keep=$2; shift 2 ;;
        *) echo "instructions.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
case "$build" in /*) ;; *) build="$TOP/$build" ;; esac

# measure PARTS [JOBS]: one system, JOBS jobs of PARTS parts; prints "role instructions" lines.
measure() {
    local job_parts=$1 jobs=${2:-$jobs} work port pids=()
    work=$(mktemp -d /tmp/rill-instructions-XXXXXX)
    chmod 700 "$work"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    local flags=(--run-dir "$work/run" --config "$TOP/config/rill.json" --log warn)
    local grind=(valgrind --tool=callgrind --quiet)
    "${grind[@]}" --callgrind-out-file="$work/broker.out" "$build/broker/rill-broker" "${flags[@]}" 2>>"$work/log" & pids+=($!)
    "${grind[@]}" --callgrind-out-file="$work/frontend.out" "$build/frontend/rill-frontend" \
        --listen "127.0.0.1:$port" "${flags[@]}" 2>>"$work/log" & pids+=($!)
    "${grind[@]}" --callgrind-out-file="$work/worker.out" "$build/workers/rill-worker" --name grind \
        "${flags[@]}" 2>>"$work/log" & pids+=($!)
    local up=0
    for _ in $(seq 1 600); do
        if curl -fs "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"workers":1'; then up=1; break; fi
        sleep 0.1
    done
    if [ "$up" = 1 ]; then
        python3 - "$port" "$jobs" "$job_parts" <<'EOF'
import http.client, json, sys, threading
port, jobs, parts = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = json.dumps({"kind": "demo", "args": {"parts": parts, "interval_ms": 0}})
seen = []
def client():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/jobs", body=body)
    events = [json.loads(l) for l in c.getresponse().read().splitlines()]
    seen.append(sum(1 for e in events if e.get("event") == "part"))
    if seen[-1] != parts:
        print("instructions.sh: a job's answer: %r" % events[:3], file=sys.stderr)
threads = [threading.Thread(target=client) for _ in range(jobs)]
for t in threads: t.start()
for t in threads: t.join()
if seen != [parts] * jobs:
    sys.exit("instructions.sh: parts seen %r" % seen)
EOF
    fi
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ "$up" = 1 ] || { echo "instructions.sh: system did not come up" >&2; cat "$work/log" >&2; exit 1; }
    local role
    for role in broker frontend worker; do
        echo "$role $(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$work/$role.out")"
    done
    if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$work"/*.out "$keep"/; fi
    rm -rf "$work"
}

if [ "$per_job" = 1 ]; then
    small=$(measure "$parts" "$jobs")
    large=$(measure "$parts" $((jobs * 3)))
    extra=$((jobs * 2)) unit=job
else
    small=$(measure "$parts")
    large=$(measure $((parts * 3)))
    extra=$((jobs * parts * 2)) unit=part
fi
per_unit=$(for role in broker frontend worker; do
    a=$(awk -v r=$role '$1 == r {print $2}' <<<"$small")
    b=$(awk -v r=$role '$1 == r {print $2}' <<<"$large")
    printf '"%s":%d\n' "$role" $(((b - a) / extra))
done | paste -sd, -)
echo "{\"tool\":\"instructions.sh\",\"build\":\"$build\",\"jobs\":$jobs,\"parts\":$parts,\"per_job\":$per_job,\"instructions_per_$unit\":{$per_unit}}"
