#!/usr/bin/env bash
# examples/list-api/run.sh - list-API batching in one command: ITEMS `http`
# item jobs (no "source": an item job's source is its upstream) submitted in
# one POST cost ONE call to the upstream's list API.
#
# Starts upstream.py (a local list API), a broker, a frontend and a worker
# of the build in $BUILD (default: build/ of this tree) with rill.json, POSTs
# the jobs, prints each job's part and the upstream's call count, stops
# everything. Exit 0 when every job got its item and the upstream was
# called once.
#
#   examples/list-api/run.sh
#   BUILD=/tmp/b PORT=9300 UPSTREAM_PORT=9301 ITEMS=10 examples/list-api/run.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
PORT=${PORT:-9300}
UPSTREAM_PORT=${UPSTREAM_PORT:-9301}
ITEMS=${ITEMS:-10}

for binary in broker/rill-broker frontend/rill-frontend workers/rill-worker; do
    if [ ! -x "$BUILD/$binary" ]; then
        echo "run.sh: no $BUILD/$binary: build first (./rill build) or set BUILD to a meson build dir" >&2
        exit 1
    fi
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rill-list-api.XXXXXX")
chmod 700 "$WORK"
pids=()
stop() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap stop EXIT
fail() {
    echo "run.sh: $*" >&2
    for log in "$WORK"/*.log; do echo "--- $(basename "$log")" >&2; tail -n 20 "$log" >&2; done
    exit 1
}

python3 "$HERE/upstream.py" --port "$UPSTREAM_PORT" 2>"$WORK/upstream.log" &
pids+=($!)
# The config names the upstream on port 9301: on another port, a copy says so.
sed "s/127\.0\.0\.1:9301/127.0.0.1:$UPSTREAM_PORT/g" "$HERE/rill.json" >"$WORK/rill.json"
flags=(--run-dir "$WORK/run" --config "$WORK/rill.json" --log warn)
"$BUILD/broker/rill-broker" "${flags[@]}" >"$WORK/broker.log" 2>&1 &
pids+=($!)
"$BUILD/frontend/rill-frontend" --listen "127.0.0.1:$PORT" "${flags[@]}" >"$WORK/frontend.log" 2>&1 &
pids+=($!)
"$BUILD/workers/rill-worker" --name worker1 "${flags[@]}" >"$WORK/worker.log" 2>&1 &
pids+=($!)

up=0
for _ in $(seq 1 100); do
    if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 &&
       curl -fs "http://127.0.0.1:$UPSTREAM_PORT/calls" >/dev/null 2>&1; then
        up=1
        break
    fi
    sleep 0.1
done
[ "$up" = 1 ] || fail "rill or the upstream did not come up within 10 s"
echo "rill on http://127.0.0.1:$PORT, the list API on http://127.0.0.1:$UPSTREAM_PORT"

# ITEMS jobs, no "source": {"kind":"http","args":{"upstream":"shop","item":"sku1"}}, ...
jobs=$(python3 -c 'import json, sys
print(json.dumps([{"kind": "http", "args": {"upstream": "shop", "item": "sku%d" % i}}
                  for i in range(1, int(sys.argv[1]) + 1)]))' "$ITEMS")
echo "POST /v1/jobs: $ITEMS item jobs in one request"
curl -fsN --max-time 20 -H 'Content-Type: application/json' --data "$jobs" \
    "http://127.0.0.1:$PORT/v1/jobs" >"$WORK/events.ndjson" || fail "POST /v1/jobs failed"
calls=$(curl -fs "http://127.0.0.1:$UPSTREAM_PORT/calls") || fail "the upstream does not answer"
python3 - "$WORK/events.ndjson" "$calls" "$ITEMS" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
calls = json.loads(sys.argv[2])
items = int(sys.argv[3])
done = 0
for e in events:
    if e.get("event") == "part":
        print("  job %s  part %s" % (e["job"][:8], json.dumps(e["data"])))
    elif e.get("event") == "done":
        done += 1
    elif e.get("event") == "error":
        print("  job %s  error %s" % (e["job"][:8], json.dumps(e["data"])))
print("%d of %d jobs done; upstream calls: %d (%s)" % (done, items, calls["calls"], calls["last"]))
sys.exit(0 if done == items and calls["calls"] == 1 else 1)
PY
