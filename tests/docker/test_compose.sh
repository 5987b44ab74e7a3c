#!/usr/bin/env bash
# tests/docker/test_compose.sh - rill under Docker Compose, for real.
#
# Builds the two Debian 12 base images locally (docker/make-base-image.sh:
# debootstrap + docker import, no registry) and rill's slim image from them
# (with no network at all; it must stay under 150 MB), brings docker-compose.yml up as a unique project with three
# workers, streams jobs through the container frontend until jobs ran on more
# than one worker container, scales the workers to one and back to three while
# a job stream is open (every job must end with `done`, seqs without a gap),
# checks the containers' health checks (the probes), scales the frontends to
# two on a host port range and submits a job through each, stops everything
# with SIGTERM (every process must exit 0) and tears the project down. Then the tcp:// set-up: a second project standing for another
# host runs a frontend and workers that reach the broker only over tcp://.
# Last, a standby broker (docker-compose.standby.yml): the primary's
# container is killed under four job streams, which must end done.
# No container, network or volume may be left.
#
# Ends with "N passed, N failed". Only when `docker info` fails does it skip,
# with a loud SKIPPED line. Installs debootstrap and docker-compose when
# missing, unless RILL_NO_INSTALL=1. Images are kept as the build cache.
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)

passed=0
failed=0
started=$(date +%s)
say() { printf '[docker %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
pass() { passed=$((passed + 1)); say "ok   - $*"; }
fail() { failed=$((failed + 1)); say "FAIL - $*"; }
summary() { echo "$passed passed, $failed failed"; }

if ! info_error=$(docker info 2>&1 >/dev/null); then
    reason=$(printf '%s' "$info_error" | grep -v '^\s*$' | tail -n 1)
    echo "######################################################################"
    echo "SKIPPED: docker compose test: docker info fails: ${reason:-no docker}"
    echo "######################################################################"
    echo "0 passed, 0 failed"
    exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
compose_works() { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; }
missing=()
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
compose_works || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "${RILL_NO_INSTALL:-0}" = 1 ]; then
        say "missing ${missing[*]} (RILL_NO_INSTALL=1, not installing)"
    else
        say "installing ${missing[*]}"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1
    fi
fi

# The project must be ours alone: a unique name, free ports, ipc:// endpoints.
# RILL_PORT is a range of 4 free ports: each frontend takes one of them
# (--scale frontend=2 below); which one, `compose port` says.
project="rilltest$$$(date +%N | cut -c1-4)"
ports=$(python3 - <<'PY'
import random, socket
for _ in range(200):
    first = random.randrange(20000, 60000)
    sockets = []
    try:
        for port in range(first, first + 4):
            s = socket.socket(); s.bind(("127.0.0.1", port)); sockets.append(s)
    except OSError:
        continue
    finally:
        for s in sockets:
            s.close()
    print("%d-%d" % (first, first + 3))
    break
PY
)
port=
build_base=rill-build-base:bookworm
runtime_base=rill-runtime-base:bookworm
image=rill:local
export RILL_IMAGE=$image RILL_PORT=$ports RILL_PUBLISH_ADDR=127.0.0.1 RILL_LOG=info
unset COMPOSE_FILE COMPOSE_PROJECT_NAME RILL_CONTROL_ENDPOINT RILL_EVENTS_ENDPOINT RILL_WORKERS_ENDPOINT \
      RILL_BROKER_CONTROL_BIND RILL_BROKER_EVENTS_BIND RILL_BROKER_WORKERS_BIND \
      RILL_BROKER_CONTROL_PORT RILL_BROKER_EVENTS_PORT RILL_BROKER_WORKERS_PORT RILL_BROKER_PUBLISH_ADDR
url=
work=$(mktemp -d "${TMPDIR:-/tmp}/rill-docker-test.XXXXXX")
compose() { timeout 300 "$TOP/docker/compose.sh" -p "$project" "$@"; }
project_filter=(--filter "label=com.docker.compose.project=$project")
projects=()     # every project brought up, torn down by the trap
stream_pid=

leftovers() {
    local name
    for name in "${projects[@]}"; do
        docker ps -aq --filter "label=com.docker.compose.project=$name"
        docker network ls -q --filter "label=com.docker.compose.project=$name"
        docker volume ls -q --filter "label=com.docker.compose.project=$name"
        docker network ls -q --filter "name=^${name}[_-]"
        docker volume ls -q --filter "name=^${name}[_-]"
    done
}

on_exit() {
    trap - EXIT INT TERM
    [ -z "$stream_pid" ] || kill "$stream_pid" 2>/dev/null
    if [ ${#projects[@]} -gt 0 ]; then
        local name filter
        for name in "${projects[@]}"; do
            filter=(--filter "label=com.docker.compose.project=$name")
            if [ "$failed" -gt 0 ] && [ -n "$(docker ps -aq "${filter[@]}")" ]; then
                say "logs of project $name (last 40 lines per service):"
                timeout 60 "$TOP/docker/compose.sh" -p "$name" logs --no-color --tail 40 2>&1 | sed 's/^/    /'
            fi
            say "tearing down $name (trap): down -v --remove-orphans"
            timeout 300 "$TOP/docker/compose.sh" -p "$name" down -v --remove-orphans --timeout 30 >/dev/null 2>&1
            docker rm -f $(docker ps -aq "${filter[@]}") >/dev/null 2>&1
            docker network rm $(docker network ls -q "${filter[@]}") >/dev/null 2>&1
            docker volume rm -f $(docker volume ls -q "${filter[@]}") >/dev/null 2>&1
        done
        if [ -z "$(leftovers)" ]; then
            pass "nothing of ${projects[*]} is left (containers, networks, volumes)"
        else
            fail "left behind: $(leftovers | sort -u | tr '\n' ' ')"
        fi
    fi
    rm -rf "$work"
    say "took $(( $(date +%s) - started ))s"
    summary
    [ "$failed" -eq 0 ]
    exit
}
trap on_exit EXIT
trap 'fail "interrupted"; exit 1' INT TERM

# analyze FILE: one NDJSON stream -> "jobs N done N errors N gaps N retries N badseq N" + ids.
analyze() {
    python3 - "$1" <<'PY'
import json, sys
jobs, done, errors, gaps, retries, badseq, other = {}, set(), [], 0, 0, [], 0
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line:
        continue
    try:
        event = json.loads(line)
    except ValueError:
        other += 1
        continue
    if event.get("event") == "heartbeat" or "job" not in event:
        continue
    job, seq, kind = event["job"], event.get("seq"), event.get("event")
    if seq != jobs.get(job, 0) + 1:
        badseq.append("%s:%s after %s" % (job[:8], seq, jobs.get(job, 0)))
    jobs[job] = seq if isinstance(seq, int) else jobs.get(job, 0)
    if kind == "done":
        done.add(job)
    elif kind == "error":
        errors.append("%s:%s" % (job[:8], json.dumps(event.get("data"))))
    elif kind == "gap":
        gaps += 1
    elif kind == "retry":
        retries += 1
print("jobs %d done %d errors %d gaps %d retries %d badseq %d unparsable %d"
      % (len(jobs), len(done), len(errors), gaps, retries, len(badseq), other))
for problem in errors[:5] + badseq[:5]:
    print("problem", problem)
for job in jobs:
    print("id", job)
PY
}

# job_workers PORT IDS...: "id state host name" per job, from GET /v1/jobs/{id}.
job_workers() {
    python3 - "$@" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
for job in sys.argv[2:]:
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/v1/jobs/%s" % (port, job), timeout=5) as answer:
            status = json.load(answer)
        worker = status.get("worker") or {}
        print(job, status.get("state"), worker.get("host"), worker.get("name"))
    except Exception as error:
        print(job, "unknown", "-", "-", "#", str(error).replace(" ", "_"))
PY
}

# workers_seen PORT N: the workers the frontend on PORT reports (/healthz),
# once it reports N or after 60 s.
workers_seen() {
    local seen=""
    for _ in $(seq 1 60); do
        seen=$(curl -sS --max-time 3 "http://127.0.0.1:$1/healthz" 2>/dev/null |
               python3 -c 'import json, sys; print(json.load(sys.stdin).get("workers", ""))' 2>/dev/null)
        [ "$seen" = "$2" ] && break
        sleep 1
    done
    echo "$seen"
}

running_workers() {
    docker ps -q "${project_filter[@]}" --filter label=com.docker.compose.service=worker \
        --filter status=running | wc -l
}

# ---------------------------------------------------------------- images
if ! compose_works; then
    fail "no docker compose: neither 'docker compose' nor 'docker-compose' works"
    exit 1
fi
if docker compose version >/dev/null 2>&1; then
    say "compose: $(docker compose version 2>&1 | head -n 1) (docker compose)"
else
    say "compose: $(docker-compose version --short 2>&1) (docker-compose)"
fi

say "base images: docker/make-base-image.sh (kept when they exist)"
if timeout 1800 docker/make-base-image.sh >"$work/base.log" 2>&1; then
    pass "base images $build_base and $runtime_base from debootstrap + docker import ($(grep -o 'built in .*\|exists' "$work/base.log" | tr '\n' ' '))"
else
    sed 's/^/    /' "$work/base.log" | tail -n 30
    fail "base images"
    exit 1
fi

# The build stage is tagged too (rill:build), so that it stays the cache of
# the next run; what earlier runs left untagged (superseded builds, an old
# base) is pruned: every rill image carries the base's label.
say "rill image: docker build --network none -t $image . (build stage tagged rill:build)"
build_started=$(date +%s)
build_args=(--build-arg "BUILD_BASE=$build_base" --build-arg "RUNTIME_BASE=$runtime_base"
            --build-arg "RILL_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)")
if timeout 1800 docker build --network none "${build_args[@]}" --target build -t rill:build . >"$work/build.log" 2>&1 &&
   timeout 1800 docker build --network none "${build_args[@]}" -t "$image" . >>"$work/build.log" 2>&1; then
    pass "rill image builds FROM $build_base and $runtime_base with no network ($(( $(date +%s) - build_started ))s)"
    docker image prune -f --filter label=org.rill.base=debootstrap-bookworm >/dev/null 2>&1 || true
else
    sed 's/^/    /' "$work/build.log" | tail -n 40
    fail "rill image build"
    exit 1
fi

# The slim image: the runtime stage holds no compiler and no -dev package.
size=$(docker image inspect -f '{{.Size}}' "$image" 2>/dev/null || echo 0)
if [ "$size" -gt 0 ] && [ "$size" -lt $((150 * 1000 * 1000)) ] &&
   ! docker run --rm --entrypoint /bin/sh "$image" -c 'command -v cc || command -v gcc || ls /usr/include/zmq.h' >/dev/null 2>&1; then
    pass "image $image is $((size / 1000000)) MB (under 150), with no compiler or headers"
else
    fail "image $image is $((size / 1000000)) MB (want under 150, no compiler, no headers)"
fi

# ---------------------------------------------------------------- up, 3 workers
if compose config -q >"$work/config.log" 2>&1; then
    pass "docker-compose.yml is valid"
else
    sed 's/^/    /' "$work/config.log"
    fail "docker-compose.yml is valid"
fi

say "up: project $project, frontend on a port of 127.0.0.1:$ports, --scale worker=3"
projects+=("$project")
if compose up -d --no-build --scale worker=3 >"$work/up.log" 2>&1; then
    pass "compose up -d --scale worker=3"
else
    sed 's/^/    /' "$work/up.log"
    fail "compose up -d --scale worker=3"
    exit 1
fi

# host_port INDEX: the host port of frontend replica INDEX (compose port).
host_port() {
    local published
    published=$(compose port --index="$1" frontend 8080 2>/dev/null | tail -n 1)
    [[ "$published" == *:* ]] && echo "${published##*:}"
}
port=$(host_port 1)
if [ -n "$port" ]; then
    pass "the frontend took host port $port of the range $ports"
else
    fail "compose port --index=1 frontend 8080 names no host port (range $ports)"
    exit 1
fi
url="http://127.0.0.1:$port"
healthy=0
for _ in $(seq 1 90); do
    if curl -fsS --max-time 3 -o /dev/null "$url/healthz" 2>/dev/null; then healthy=1; break; fi
    sleep 1
done
if [ "$healthy" = 1 ]; then
    pass "frontend container answers GET /healthz 200 through the published port"
else
    fail "GET $url/healthz is not 200 within 90 s: $(curl -sS --max-time 3 "$url/healthz" 2>&1)"
    exit 1
fi

workers=$(running_workers)
if [ "$workers" -eq 3 ]; then pass "3 worker containers run"; else fail "$workers worker containers run, not 3"; fi

# Placed as ./rill up places them (RILL_PLACEMENT=split, common/rill_cpus.h):
# each process says where it runs, or that there is one CPU to run on.
unplaced=""
for service in broker frontend worker; do
    # Read whole, then searched: grep -q would end the pipe early (pipefail).
    logs=$(compose logs --no-color "$service" 2>/dev/null || true)
    grep -q "RILL_PLACEMENT=split: " <<<"$logs" || unplaced+=" $service"
done
if [ -z "$unplaced" ]; then
    pass "broker, frontend and workers placed as ./rill up places them (RILL_PLACEMENT=split)"
else
    fail "no RILL_PLACEMENT=split line in the logs of:$unplaced"
fi

# ---------------------------------------------------------------- jobs spread over workers
worker_ids=" $(docker ps -q --no-trunc "${project_filter[@]}" --filter label=com.docker.compose.service=worker | cut -c1-12 | tr '\n' ' ')"
jobs='[' ; for i in $(seq 1 9); do jobs+='{"kind":"demo","args":{"parts":4,"interval_ms":150}},'; done; jobs="${jobs%,}]"
all_done=1 hosts="" streamed=0 not_worker=""
for round in $(seq 1 6); do
    say "stream round $round: POST /v1/jobs with 9 demo jobs"
    curl -sS -N --max-time 60 -d "$jobs" "$url/v1/jobs" >"$work/round.ndjson" 2>"$work/round.err"
    rc=$?
    result=$(analyze "$work/round.ndjson")
    say "  $(head -n 1 <<<"$result") (curl exit $rc)"
    read -r _ n_jobs _ n_done _ n_errors _ n_gaps _ _ _ n_badseq _ <<<"$(head -n 1 <<<"$result")"
    streamed=$((streamed + n_jobs))
    if [ "$rc" -ne 0 ] || [ "$n_jobs" -ne 9 ] || [ "$n_done" -ne 9 ] || [ "$n_errors" -ne 0 ] || [ "$n_gaps" -ne 0 ] || [ "$n_badseq" -ne 0 ]; then
        all_done=0
        grep '^problem' <<<"$result" | sed 's/^/    /'
        cat "$work/round.err" | sed 's/^/    /'
        break
    fi
    while read -r _ state host name _; do
        hosts+="$host"$'\n'
        [[ "$worker_ids" == *" $host "* ]] || not_worker+="$host/$name "
    done < <(job_workers "$port" $(sed -n 's/^id //p' <<<"$result"))
    distinct=$(grep -v '^$' <<<"$hosts" | sort -u | wc -l)
    say "  jobs so far ran on $distinct worker host(s): $(grep -v '^$' <<<"$hosts" | sort | uniq -c | tr -s ' \n' ' ')"
    [ "$distinct" -ge 2 ] && break
done
if [ "$all_done" = 1 ]; then
    pass "$streamed jobs streamed through the container frontend, each ended with done, seqs 1..n"
else
    fail "a streamed job did not end with done (or had an error, gap, or seq hole)"
fi
distinct=$(grep -v '^$\|^None$' <<<"$hosts" | sort -u | wc -l)
if [ "$distinct" -ge 2 ] && [ -z "$not_worker" ]; then
    pass "jobs ran on $distinct worker containers (GET /v1/jobs/{id} worker.host = container hostname)"
else
    fail "jobs ran on $distinct worker host(s); not worker containers: ${not_worker:-none}"
fi

# ---------------------------------------------------------------- scale 3 -> 1 -> 3 under an open stream
jobs='['
for i in $(seq 1 6); do jobs+='{"kind":"demo","args":{"parts":30,"interval_ms":300}},'; done
for i in $(seq 1 6); do jobs+='{"kind":"demo","args":{"parts":60,"interval_ms":300}},'; done
jobs="${jobs%,}]"
say "open stream: 12 demo jobs of 9 s and 18 s"
curl -sS -N --max-time 180 -d "$jobs" "$url/v1/jobs" >"$work/scale.ndjson" 2>"$work/scale.err" &
stream_pid=$!
for _ in $(seq 1 100); do
    [ "$(analyze "$work/scale.ndjson" | grep -c '^id ')" -ge 12 ] && break
    sleep 0.2
done
placement=$(job_workers "$port" $(analyze "$work/scale.ndjson" | sed -n 's/^id //p'))
say "  12 jobs running on: $(awk '{print $3}' <<<"$placement" | sort | uniq -c | tr -s ' \n' ' ')"

say "scale: up -d --no-recreate --scale worker=1 (removed workers get SIGTERM and drain)"
scale_started=$(date +%s)
compose up -d --no-build --no-deps --no-recreate --timeout 30 --scale worker=1 worker >"$work/scale1.log" 2>&1
rc=$?
workers=$(running_workers)
if [ "$rc" -eq 0 ] && [ "$workers" -eq 1 ] && kill -0 "$stream_pid" 2>/dev/null; then
    pass "scaled to 1 worker in $(( $(date +%s) - scale_started ))s with the job stream open"
else
    sed 's/^/    /' "$work/scale1.log"
    fail "scale to 1: compose exit $rc, $workers workers running, stream open: $(kill -0 "$stream_pid" 2>/dev/null && echo yes || echo no)"
fi

say "scale: up -d --no-recreate --scale worker=3"
compose up -d --no-build --no-deps --no-recreate --timeout 30 --scale worker=3 worker >"$work/scale3.log" 2>&1
rc=$?
workers=$(running_workers)
open=$(kill -0 "$stream_pid" 2>/dev/null && echo open || echo ended)
if [ "$rc" -eq 0 ] && [ "$workers" -eq 3 ]; then
    pass "scaled back to 3 workers (stream $open)"
else
    sed 's/^/    /' "$work/scale3.log"
    fail "scale to 3: compose exit $rc, $workers workers running"
fi

say "waiting for the open stream to end (at most 180 s)"
wait "$stream_pid"
rc=$?
stream_pid=
result=$(analyze "$work/scale.ndjson")
say "  $(head -n 1 <<<"$result") (curl exit $rc)"
read -r _ n_jobs _ n_done _ n_errors _ n_gaps _ n_retries _ n_badseq _ <<<"$(head -n 1 <<<"$result")"
if [ "$rc" -eq 0 ] && [ "$n_jobs" -eq 12 ] && [ "$n_done" -eq 12 ] && [ "$n_errors" -eq 0 ] && [ "$n_gaps" -eq 0 ] && [ "$n_badseq" -eq 0 ]; then
    pass "no job lost or hung across scale 3->1->3: 12/12 done, no error or gap, seqs 1..n ($n_retries retries)"
else
    grep '^problem' <<<"$result" | sed 's/^/    /'
    sed 's/^/    /' "$work/scale.err"
    fail "across scale 3->1->3: $n_done/12 done, $n_errors errors, $n_gaps gaps, $n_badseq seq holes, curl exit $rc"
fi
states=$(job_workers "$port" $(sed -n 's/^id //p' <<<"$result") | awk '{print $2}' | sort | uniq -c | tr -s ' \n' ' ')
if [ "$(job_workers "$port" $(sed -n 's/^id //p' <<<"$result") | awk '$2 == "done"' | wc -l)" -eq 12 ]; then
    pass "GET /v1/jobs/{id}: all 12 jobs are done"
else
    fail "GET /v1/jobs/{id} states: $states"
fi

# ---------------------------------------------------------------- health checks (the probes)
# health SERVICE: the health states of its containers, e.g. "healthy healthy".
health() {
    docker ps -q "${project_filter[@]}" --filter "label=com.docker.compose.service=$1" |
        xargs -r docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' | tr '\n' ' '
}
for _ in $(seq 1 60); do
    states="$(health broker)$(health frontend)$(health worker)"
    [ -n "$states" ] && [ -z "$(tr -d ' ' <<<"${states//healthy/}")" ] && break
    sleep 1
done
if [ -n "$states" ] && [ -z "$(tr -d ' ' <<<"${states//healthy/}")" ]; then
    pass "health checks: broker (rill-broker --check), frontend (/readyz), 3 workers (rill-worker --check) healthy"
else
    fail "health checks not all healthy within 60 s: broker [$(health broker)] frontend [$(health frontend)] workers [$(health worker)]"
fi

# ---------------------------------------------------------------- two frontends on the port range
say "scale: up -d --no-recreate --scale frontend=2 (RILL_PORT=$ports)"
compose up -d --no-build --no-deps --no-recreate --scale frontend=2 frontend >"$work/frontends.log" 2>&1
rc=$?
port2=$(host_port 2)
if [ "$rc" -eq 0 ] && [ -n "$port2" ] && [ "$port2" != "$port" ]; then
    pass "scaled to 2 frontends: host ports $port and $port2"
else
    sed 's/^/    /' "$work/frontends.log"
    fail "scale to 2 frontends: compose exit $rc, second frontend's port '${port2:-none}'"
fi
ready2=0
for _ in $(seq 1 60); do
    if [ -n "$port2" ] && curl -fsS --max-time 3 -o /dev/null "http://127.0.0.1:$port2/readyz" 2>/dev/null; then
        ready2=1; break
    fi
    sleep 1
done
# A job through each frontend; each job's status is read through the other one.
each_ok=1
for pair in "$port:$port2" "$port2:$port"; do
    through=${pair%%:*} other=${pair##*:}
    curl -sS -N --max-time 60 -d '{"kind":"demo","args":{"parts":3,"interval_ms":50}}' \
        "http://127.0.0.1:$through/v1/jobs" >"$work/front-$through.ndjson" 2>"$work/front-$through.err"
    rc=$?
    result=$(analyze "$work/front-$through.ndjson")
    read -r _ n_jobs _ n_done _ n_errors _ _ _ _ _ n_badseq _ <<<"$(head -n 1 <<<"$result")"
    state=$(job_workers "$other" $(sed -n 's/^id //p' <<<"$result") | awk '{print $2}')
    say "  through $through: $(head -n 1 <<<"$result"); state through $other: ${state:-none}"
    if [ "$rc" -ne 0 ] || [ "$n_jobs" -ne 1 ] || [ "$n_done" -ne 1 ] || [ "$n_errors" -ne 0 ] || [ "$state" != done ]; then
        each_ok=0
        sed 's/^/    /' "$work/front-$through.err"
    fi
done
if [ "$ready2" = 1 ] && [ "$each_ok" = 1 ]; then
    pass "a job submitted through each of the 2 frontends ended done, and the other frontend reports it done"
else
    fail "two frontends: second /readyz 200: $ready2; a job through each done and seen by the other: $each_ok"
fi

# ---------------------------------------------------------------- SIGTERM: stop, then down
say "stop: SIGTERM to every container (compose stop --timeout 30)"
stop_started=$(date +%s)
compose stop --timeout 30 >"$work/stop.log" 2>&1
stop_seconds=$(( $(date +%s) - stop_started ))
codes=$(docker ps -aq "${project_filter[@]}" | xargs -r docker inspect -f '{{.Name}}={{.State.ExitCode}}' | sed 's|^/||')
bad=$(grep -v '=0$' <<<"$codes" | tr '\n' ' ')
if [ -n "$codes" ] && [ -z "$bad" ]; then
    pass "SIGTERM drains: every process exited 0 (stop took ${stop_seconds}s)"
else
    fail "after SIGTERM: exit codes not 0: ${bad:-no containers} (137 = killed after the timeout)"
fi

say "down -v --remove-orphans"
if compose down -v --remove-orphans --timeout 30 >"$work/down.log" 2>&1; then
    pass "compose down -v --remove-orphans"
else
    sed 's/^/    /' "$work/down.log"
    fail "compose down -v --remove-orphans"
fi
# ---------------------------------------------------------------- tcp:// across hosts
# Project A is the broker's host: the broker binds tcp://*:556x, published on
# the docker0 address; A's frontend and worker connect to tcp://broker:556x.
# Project B stands for another host: a frontend and two workers that reach the
# broker only through its published ports. A job stream through B's frontend
# must end, and run on B's workers too.
say "tcp://: project A (broker, frontend, 1 worker) + project B (\"another host\": frontend, 2 workers)"
gateway=$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -n 1)
[ -n "$gateway" ] || gateway=$(python3 -c 'import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", b"docker0"))[20:24]))' 2>/dev/null)
tcp_a=${project}a tcp_b=${project}b
if [ -z "$gateway" ]; then
    fail "tcp://: no docker0 address to publish the broker on"
else
    read -r control_port events_port workers_port port_a port_b < <(python3 - "$gateway" <<'PY'
import socket, sys
sockets = []
for address in [sys.argv[1]] * 3 + ["127.0.0.1"] * 2:
    s = socket.socket(); s.bind((address, 0)); sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
)
    projects+=("$tcp_a" "$tcp_b")
    env RILL_BROKER_CONTROL_BIND='tcp://*:5561' RILL_BROKER_EVENTS_BIND='tcp://*:5562' \
        RILL_BROKER_WORKERS_BIND='tcp://*:5563' RILL_BROKER_PUBLISH_ADDR="$gateway" \
        RILL_BROKER_CONTROL_PORT="$control_port" RILL_BROKER_EVENTS_PORT="$events_port" \
        RILL_BROKER_WORKERS_PORT="$workers_port" RILL_CONTROL_ENDPOINT=tcp://broker:5561 \
        RILL_EVENTS_ENDPOINT=tcp://broker:5562 RILL_WORKERS_ENDPOINT=tcp://broker:5563 RILL_PORT="$port_a" \
        timeout 300 docker/compose.sh -p "$tcp_a" up -d --no-build --scale worker=1 >"$work/tcp-a.log" 2>&1
    rc_a=$?
    env RILL_CONTROL_ENDPOINT="tcp://$gateway:$control_port" RILL_EVENTS_ENDPOINT="tcp://$gateway:$events_port" \
        RILL_WORKERS_ENDPOINT="tcp://$gateway:$workers_port" RILL_PORT="$port_b" \
        timeout 300 docker/compose.sh -p "$tcp_b" up -d --no-build --no-deps --scale worker=2 frontend worker \
        >"$work/tcp-b.log" 2>&1
    rc_b=$?
    seen=$(workers_seen "$port_b" 3)
    if [ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ] && [ "$seen" = 3 ]; then
        pass "tcp://: the other host's frontend sees the broker over tcp with 3 workers (1 local, 2 remote)"
    else
        sed 's/^/    /' "$work/tcp-a.log" "$work/tcp-b.log"
        fail "tcp://: compose exits $rc_a/$rc_b, the other host's frontend sees ${seen:-no} broker workers, not 3"
    fi
    remote_ids=" $(docker ps -q --no-trunc --filter "label=com.docker.compose.project=$tcp_b" \
                   --filter label=com.docker.compose.service=worker | cut -c1-12 | tr '\n' ' ')"
    jobs='['; for i in $(seq 1 9); do jobs+='{"kind":"demo","args":{"parts":3,"interval_ms":100}},'; done; jobs="${jobs%,}]"
    curl -sS -N --max-time 60 -d "$jobs" "http://127.0.0.1:$port_b/v1/jobs" >"$work/tcp.ndjson" 2>"$work/tcp.err"
    rc=$?
    result=$(analyze "$work/tcp.ndjson")
    read -r _ n_jobs _ n_done _ n_errors _ n_gaps _ _ _ n_badseq _ <<<"$(head -n 1 <<<"$result")"
    remote=0
    while read -r _ state host _; do
        [[ "$remote_ids" == *" $host "* ]] && remote=$((remote + 1))
    done < <(job_workers "$port_b" $(sed -n 's/^id //p' <<<"$result"))
    if [ "$rc" -eq 0 ] && [ "$n_jobs" -eq 9 ] && [ "$n_done" -eq 9 ] && [ "$n_errors" -eq 0 ] && [ "$remote" -ge 1 ]; then
        pass "tcp://: 9 jobs streamed through the other host's frontend, all done, $remote ran on its workers"
    else
        fail "tcp://: $(head -n 1 <<<"$result"), $remote on the other host's workers (curl exit $rc)"
    fi
    timeout 300 docker/compose.sh -p "$tcp_b" down -v --remove-orphans --timeout 30 >/dev/null 2>&1
    timeout 300 docker/compose.sh -p "$tcp_a" down -v --remove-orphans --timeout 30 >/dev/null 2>&1
fi
# ---------------------------------------------------------------- a standby broker (Binary Star)
# docker-compose.standby.yml: the primary and a backup broker over tcp://,
# frontends and workers given both. Four jobs stream through the frontend;
# the primary's container is killed (SIGKILL) in the middle: every job must
# still end `done` with its seqs in order (a reported `gap` allowed, counted),
# no `broker_restarted`, the parts going on within seconds of the kill, and
# a job submitted afterwards runs. Then the old primary is started again and
# must come back as the passive one.
say "standby: a primary and a backup broker (docker-compose.standby.yml); the primary killed mid-stream"
sb=${project}s
projects+=("$sb")
port_s=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sb_compose() {
    RILL_PORT="$port_s" timeout 300 "$TOP/docker/compose.sh" -p "$sb" -f "$TOP/docker-compose.yml" \
        -f "$TOP/docker-compose.standby.yml" "$@"
}
sb_container() { docker ps -aq --filter "label=com.docker.compose.project=$sb" --filter "label=com.docker.compose.service=$1"; }
sb_compose up -d --no-build --scale worker=2 >"$work/sb-up.log" 2>&1
rc=$?
seen=$(workers_seen "$port_s" 2)
if [ "$rc" -ne 0 ] || [ "$seen" != 2 ]; then
    sed 's/^/    /' "$work/sb-up.log"
    fail "standby: compose up exit $rc, the frontend sees ${seen:-no} workers, not 2"
else
    # The stream's lines with their receipt time, for the time from the kill to the next part.
    python3 - "$port_s" "$work/sb.timed" <<'PY' >"$work/sb-reader.log" 2>&1 &
import http.client, json, sys, time
port, out = sys.argv[1], sys.argv[2]
jobs = [{"kind": "demo", "args": {"parts": 40, "interval_ms": 100}} for _ in range(4)]
connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
connection.request("POST", "/v1/jobs", json.dumps(jobs), {"Content-Type": "application/json"})
response = connection.getresponse()
with open(out, "w") as timed:
    while True:
        line = response.readline()
        if not line:
            break
        timed.write("%.3f %s" % (time.time(), line.decode("utf-8", "replace")))
        timed.flush()
PY
    stream_pid=$!
    sleep 2
    primary=$(sb_container broker)
    killed_at=$(date +%s.%N)
    docker kill "$primary" >/dev/null 2>&1
    wait "$stream_pid"
    stream_pid=
    cut -d' ' -f2- "$work/sb.timed" >"$work/sb.ndjson"
    result=$(analyze "$work/sb.ndjson")
    read -r _ n_jobs _ n_done _ n_errors _ n_gaps _ _ _ n_badseq _ <<<"$(head -n 1 <<<"$result")"
    after=$(python3 - "$work/sb.timed" "$killed_at" <<'PY'
import json, sys
killed = float(sys.argv[2])
for line in open(sys.argv[1]):
    stamp, _, text = line.partition(" ")
    try:
        event = json.loads(text)
    except ValueError:
        continue
    if float(stamp) > killed and event.get("event") == "part":
        print("%.1f" % (float(stamp) - killed))
        break
PY
)
    restarted=$(grep -c broker_restarted "$work/sb.ndjson")
    say "  $(head -n 1 <<<"$result"); first part ${after:-never} s after the kill; broker_restarted: $restarted"
    if [ "$n_jobs" -eq 4 ] && [ "$n_done" -eq 4 ] && [ "$n_errors" -eq 0 ] && [ "$n_badseq" -eq 0 ] &&
       [ "$restarted" -eq 0 ] && [ -n "$after" ] && awk "BEGIN { exit !($after <= 5) }"; then
        pass "standby: the primary killed mid-stream, the backup took over: 4 jobs done, seqs in order ($n_gaps gap(s)), parts again ${after} s after the kill, no broker_restarted"
    else
        sed 's/^/    /' "$work/sb-reader.log"
        grep '^problem' <<<"$result" | sed 's/^/    /'
        fail "standby: after the primary was killed: $(head -n 1 <<<"$result"), parts again after ${after:-never} s, broker_restarted $restarted"
    fi
    curl -sS -N --max-time 30 -d '{"kind":"demo","args":{"parts":3}}' "http://127.0.0.1:$port_s/v1/jobs" \
        >"$work/sb-after.ndjson" 2>/dev/null
    read -r _ n_jobs _ n_done _ <<<"$(analyze "$work/sb-after.ndjson" | head -n 1)"
    docker start "$primary" >/dev/null 2>&1
    passive=0
    for _ in $(seq 1 30); do
        docker logs "$primary" 2>&1 | grep -q 'primary -> passive' && { passive=1; break; }
        sleep 1
    done
    if [ "$n_done" = 1 ] && [ "$passive" = 1 ]; then
        pass "standby: a job after the takeover ran on the backup; the old primary, started again, is the passive one"
    else
        docker logs --tail 20 "$primary" 2>&1 | sed 's/^/    /'
        fail "standby: a job after the takeover done: ${n_done:-0}/1; the old primary passive: $passive"
    fi
fi
sb_compose down -v --remove-orphans --timeout 30 >/dev/null 2>&1
exit 0
