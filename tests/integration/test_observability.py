"""test_observability.py - /metrics and the logs (docs/METRICS.md, docs/LOGGING.md).

/metrics is read with a strict parser of the Prometheus text format written
here (no client library), so a malformed exposition fails the test even where
a lenient scraper would shrug. docs/METRICS.md names what is checked.
"""
import math
import os
import re
import shutil
import signal
import subprocess
import time

from harness import TestFailure, check, check_job_events

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_value(text, line):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise TestFailure("bad value %r in line %r" % (text, line))
    return float(text)


def parse_labels(text, line):
    """text starts after '{'; returns (labels dict, rest after '}')."""
    labels = {}
    at = 0
    while True:
        if text[at:at + 1] == "}" and not labels:
            return labels, text[at + 1:]
        match = LABEL_NAME.match(text, at)
        check(match is not None, "bad label name in %r" % line)
        name = match.group(0)
        at = match.end()
        check(text[at:at + 2] == '="', "label %s without =\"value\" in %r" % (name, line))
        at += 2
        value = []
        while True:
            check(at < len(text), "unterminated label value in %r" % line)
            c = text[at]
            if c == "\\":
                escaped = text[at + 1:at + 2]
                check(escaped in ("\\", '"', "n"), "bad escape \\%s in %r" % (escaped, line))
                value.append("\n" if escaped == "n" else escaped)
                at += 2
            elif c == '"':
                at += 1
                break
            else:
                check(c != "\n", "newline in label value: %r" % line)
                value.append(c)
                at += 1
        check(name not in labels, "label %s twice in %r" % (name, line))
        labels[name] = "".join(value)
        if text[at:at + 1] == ",":
            at += 1
            continue
        check(text[at:at + 1] == "}", "labels not closed in %r" % line)
        return labels, text[at + 1:]


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ("histogram", "summary"):
            return base
    return None


def parse_metrics(text):
    """Strict Prometheus text 0.0.4: returns [(name, labels, value)], checked."""
    check(text.endswith("\n"), "exposition does not end with a newline")
    types, helps, samples, seen_series = {}, {}, [], set()
    finished = set()  # families whose block of lines is over
    current = None
    for line in text[:-1].split("\n"):
        check(line != "", "empty line in the exposition")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            check(len(parts) >= 3 and parts[0] == "#" and parts[1] in ("HELP", "TYPE"),
                  "comment that is neither HELP nor TYPE: %r" % line)
            kind, name = parts[1], parts[2]
            check(NAME.match(name), "bad metric name in %r" % line)
            if kind == "TYPE":
                check(len(parts) == 4 and parts[3] in TYPES, "bad TYPE line %r" % line)
                check(name not in types, "second TYPE for %s" % name)
                types[name] = parts[3]
            else:
                check(name not in helps, "second HELP for %s" % name)
                helps[name] = parts[3] if len(parts) == 4 else ""
                check(not re.search(r"\\[^\\n]", helps[name]), "bad escape in HELP %r" % line)
            if name != current:
                check(name not in finished, "lines of %s are not grouped" % name)
                if current is not None:
                    finished.add(current)
                current = name
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
        check(match is not None, "bad sample line %r" % line)
        name = match.group(1)
        rest = line[match.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest[1:], line)
        fields = rest.split(" ")
        check(fields[0] == "" and len(fields) in (2, 3), "bad sample line %r" % line)
        value = parse_value(fields[1], line)
        if len(fields) == 3:
            check(re.fullmatch(r"-?\d+", fields[2]), "bad timestamp in %r" % line)
        family = family_of(name, types)
        check(family is not None, "sample %s has no TYPE before it" % name)
        check(family == current, "sample %s outside its family's block" % name)
        series = (name, tuple(sorted(labels.items())))
        check(series not in seen_series, "series %r twice" % (series,))
        seen_series.add(series)
        if types[family] == "counter":
            check(value >= 0, "negative counter %r" % line)
        samples.append((name, labels, value))
    check_histograms(samples, types)
    return samples


def check_histograms(samples, types):
    for family, kind in types.items():
        if kind != "histogram":
            continue
        groups = {}
        for name, labels, value in samples:
            if name not in (family + "_bucket", family + "_sum", family + "_count"):
                continue
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            group = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
            if name.endswith("_bucket"):
                check("le" in labels, "%s without le" % name)
                group["buckets"].append((parse_value(labels["le"], name), value))
            elif name.endswith("_sum"):
                group["sum"] = value
            else:
                group["count"] = value
        check(groups, "histogram %s has no samples" % family)
        for key, group in groups.items():
            buckets = group["buckets"]
            check(buckets and buckets[-1][0] == math.inf, "%s%r: last bucket is not +Inf" % (family, key))
            bounds = [b for b, _ in buckets]
            check(bounds == sorted(bounds) and len(set(bounds)) == len(bounds),
                  "%s%r: le not ascending: %r" % (family, key, bounds))
            counts = [c for _, c in buckets]
            check(counts == sorted(counts), "%s%r: buckets not cumulative: %r" % (family, key, counts))
            check(group["count"] is not None and group["sum"] is not None,
                  "%s%r: _sum or _count missing" % (family, key))
            check(counts[-1] == group["count"], "%s%r: +Inf %r != _count %r"
                  % (family, key, counts[-1], group["count"]))


def value(samples, name, **labels):
    """The value of the one series of name whose labels include labels."""
    found = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    check(len(found) == 1, "%d series of %s%r" % (len(found), name, labels))
    return found[0]


def scrape(system):
    status, headers, body = system.request("GET", "/metrics", timeout=10)
    check(status == 200, "/metrics answered %s: %r" % (status, body[:300]))
    check(headers.get("content-type", "").startswith("text/plain; version=0.0.4"), headers)
    return parse_metrics(body.decode("utf-8"))


def test_metrics_parse_and_count(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy(workers=2)
    # The workers' process stats come with their PINGs (every heartbeat).
    system.wait_for(lambda: len([1 for n, l, _ in scrape(system) if n == "process_open_fds"
                                 and l.get("process") == "worker"]) == 2, what="both workers' process stats")
    before = scrape(system)
    processes = {l.get("process") for _, l, _ in before}
    check(processes == {"frontend", "broker", "worker"}, "process labels %r" % processes)
    frontend_pid = str(system.frontend.popen.pid)
    for name, labels, _ in before:
        check("process" in labels, "%s without a process label" % name)
        if labels["process"] == "frontend":
            check(labels.get("pid") == frontend_pid, "%s%r: pid is not %s" % (name, labels, frontend_pid))
        if labels["process"] == "worker":
            check(name.startswith("process_") or name == "rill_build_info", "%s from a worker" % name)
    check(value(before, "rill_broker_up", process="frontend") == 1)

    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 5, "interval_ms": 20}})
    events = stream.read_all()
    check_job_events(events, 5, events[0]["job"])
    # Counters are read when the last bytes went out: the next scrape sees them.
    after = scrape(system)
    fe = {"process": "frontend"}
    br = {"process": "broker"}
    parts = value(after, "rill_parts_delivered_total", **fe) - value(before, "rill_parts_delivered_total", **fe)
    check(parts >= 5, "parts delivered grew by %r" % parts)
    check(value(after, "rill_bytes_delivered_total", **fe) > value(before, "rill_bytes_delivered_total", **fe))
    check(value(after, "rill_jobs_done_total", kind="demo", **br) >= 1)
    check(value(after, "rill_jobs_submitted_total", kind="demo", **br) >= 1)
    check(value(after, "rill_workers_alive", **br) == 2)
    check(value(after, "rill_batches_dispatched_total", **br) >= 1)
    check(value(after, "rill_broker_parts_total", **br) >= 5)
    latency = value(after, "rill_delivery_latency_seconds_count", **fe) - \
        value(before, "rill_delivery_latency_seconds_count", **fe)
    check(latency >= 5, "latency histogram grew by %r" % latency)
    check(value(after, "rill_streams_open", **fe) == 0)

    # The broker frozen: the frontend's part still comes, within about 1 s.
    system.broker.signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        frozen = scrape(system)
        elapsed = time.monotonic() - started
    finally:
        system.broker.signal(signal.SIGCONT)
    check(elapsed < 3, "/metrics took %.1fs with the broker stopped" % elapsed)
    check(value(frozen, "rill_broker_up", **fe) == 0)
    check(not any(l.get("process") == "broker" for _, l, _ in frozen), "broker samples from a frozen broker")
    check(value(frozen, "rill_parts_delivered_total", **fe) >= value(after, "rill_parts_delivered_total", **fe))
    # Back: the broker answers again (its late reply to the frozen scrape is dropped).
    system.wait_for(lambda: value(scrape(system), "rill_broker_up", **fe) == 1, what="broker up again")
    # Debug lines stay off at the default level.
    for process in system.processes:
        check("hop:" not in process.log_text(), "%s logs hop lines at info" % process.name)


def promtool():
    """Debian's promtool (package prometheus), which ./rill test unpacks
    into build/tools (docs/METRICS.md); on CI its absence is a failure."""
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    for path in (os.environ.get("RILL_PROMTOOL"), os.path.join(top, "build", "tools", "usr", "bin", "promtool"),
                 shutil.which("promtool")):
        if path and os.access(path, os.X_OK):
            return path
    check(os.environ.get("CI") != "true", "promtool missing (./rill test unpacks it into build/tools)")
    return None


def git_commit():
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    try:
        return subprocess.run(["git", "-C", top, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def test_processes_workers_pipelines(ctx):
    """process_* and rill_build_info for every process (the workers' come
    through the broker, rill/5), per-worker and per-pipeline series, and
    promtool's own check of the whole exposition."""
    config = {"pipelines": [{"name": "batched", "match": {"kind": "demo", "source": "grouped"},
                             "buffer_ms": 50, "buffer_max": 4}]}
    system = ctx.system(workers=2, config=config)
    system.wait_healthy(workers=2)
    system.wait_for(lambda: len([1 for n, l, _ in scrape(system) if n == "process_start_time_seconds"]) == 4,
                    what="four processes' stats")
    jobs = [{"kind": "demo", "source": "grouped", "args": {"parts": 2}} for _ in range(4)]
    events = system.stream("POST", "/v1/jobs", jobs).read_all()
    check(len([e for e in events if e.get("event") == "done"]) == 4, "4 jobs done: %r" % events[-3:])
    body = system.request("GET", "/metrics", timeout=10)[2].decode()
    samples = parse_metrics(body)
    now = time.time()
    pids = {"frontend": system.frontend.popen.pid, "broker": system.broker.popen.pid}
    for who in ({"process": "frontend"}, {"process": "broker"}, {"process": "worker", "worker": "worker1"},
                {"process": "worker", "worker": "worker2"}):
        resident = value(samples, "process_resident_memory_bytes", **who)
        check(resident > 1 << 20, "%r: resident %r" % (who, resident))
        fds = value(samples, "process_open_fds", **who)
        check(3 <= fds <= value(samples, "process_max_fds", **who), "%r: %r fds" % (who, fds))
        check(value(samples, "process_virtual_memory_bytes", **who) >= resident)
        started = value(samples, "process_start_time_seconds", **who)
        check(now - 600 < started <= now + 2, "%r started at %r, now %r" % (who, started, now))
        check(value(samples, "process_cpu_seconds_total", **who) >= 0)
        info = [l for n, l, _ in samples if n == "rill_build_info"
                and all(l.get(k) == v for k, v in who.items())]
        check(len(info) == 1 and info[0]["version"] == "0.1.0" and info[0]["commit"] == git_commit(),
              "%r: build info %r (commit %s)" % (who, info, git_commit()))
    # The frontend's own stats are its own: its pid's /proc says the same.
    with open("/proc/%d/stat" % pids["frontend"]) as stat:
        threads = stat.read().rsplit(")", 1)[1].split()[17]
    check(int(threads) >= 1)
    # Per worker: both labelled, with what they did.
    for name in ("worker1", "worker2"):
        check(value(samples, "rill_worker_capacity", process="broker", worker=name) >= 1)
        check(value(samples, "rill_worker_jobs", process="broker", worker=name) == 0)
    parts = sum(value(samples, "rill_worker_parts_total", process="broker", worker=n) for n in ("worker1", "worker2"))
    check(parts >= 8, "parts by worker %r" % parts)
    check(value(samples, "rill_workers_unlabelled", process="broker") == 0)
    # Per pipeline: 4 jobs through "batched", in batches of up to 4.
    check(value(samples, "rill_pipeline_jobs_total", process="broker", pipeline="batched") == 4)
    batches = value(samples, "rill_pipeline_batches_total", process="broker", pipeline="batched")
    check(1 <= batches < 4, "batched made %r batches of 4 jobs" % batches)
    check(value(samples, "rill_pipeline_batch_jobs_total", process="broker", pipeline="batched") == 4)
    tool = promtool()
    if tool is not None:
        result = subprocess.run([tool, "check", "metrics"], input=body, capture_output=True, text=True)
        check(result.returncode == 0, "promtool check metrics: %s%s" % (result.stdout, result.stderr))


def test_grafana_dashboard_names_existing_metrics(ctx):
    """deploy/grafana/rill-dashboard.json: every metric a query names is one
    a live /metrics serves (a histogram's _bucket included), and every
    panel has at least one query."""
    import json
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(top, "deploy", "grafana", "rill-dashboard.json")) as f:
        dashboard = json.load(f)
    check(dashboard.get("panels"), "no panels")
    config = {"pipelines": [{"name": "p", "match": {"kind": "demo"}}]}
    system = ctx.system(workers=1, config=config)
    system.wait_healthy(workers=1)
    system.wait_for(lambda: any(n == "process_open_fds" and l.get("process") == "worker"
                                for n, l, _ in scrape(system)), what="the worker's process stats")
    served = {n for n, _, _ in scrape(system)}
    named = set()
    for panel in dashboard["panels"]:
        exprs = [t.get("expr", "") for t in panel.get("targets", [])]
        check(exprs and all(exprs), "panel %r has no query" % panel.get("title"))
        for expr in exprs:
            metrics = set(re.findall(r"\b((?:rill|process)_[a-zA-Z0-9_]+)\b", expr))
            check(metrics, "panel %r: %r names no rill metric" % (panel.get("title"), expr))
            named |= metrics
    missing = sorted(named - served)
    check(not missing, "the dashboard names metrics /metrics does not serve: %r" % missing)
    check(len(named) >= 15, "only %d metrics on the dashboard" % len(named))


def test_client_disconnect_releases_stream(ctx):
    system = ctx.system(workers=1, config={"stream_heartbeat_ms": 300})
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 1000, "interval_ms": 1000}})
    first = stream.next_event()
    check(first is not None and first["event"] == "part", "first event %r" % first)
    job_id = first["job"]
    check(value(scrape(system), "rill_streams_open", process="frontend") == 1)
    stream.close()
    system.wait_for(lambda: value(scrape(system), "rill_streams_open", process="frontend") == 0,
                    timeout=10, what="open streams back to 0")
    system.wait_for(lambda: system.job_status(job_id)["state"] == "cancelled", timeout=10,
                    what="job cancelled after its only client left")
    samples = scrape(system)
    check(value(samples, "rill_jobs_cancelled_total", process="broker", kind="demo") >= 1)
    check(value(samples, "rill_jobs_running", process="broker", kind="demo") == 0)
    check(value(samples, "rill_subjects_subscribed", process="frontend") == 0)


LOG_LINE = re.compile(r"\s*(\d+)ms (\w+)\[(\d+)\] (\w+)\s+(\S+) (.*)")


def hop_lines(process, job_id):
    lines = []
    for line in process.log_text().splitlines():
        match = LOG_LINE.fullmatch(line)
        if match and " hop: " in " " + match.group(6) and job_id in match.group(6):
            lines.append(match)
    return lines


def test_debug_log_shows_every_hop_with_one_who(ctx):
    system = ctx.system(workers=1, log_level="debug")
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 1}})
    who = "127.0.0.1:%d" % stream.conn.sock.getsockname()[1]
    events = stream.read_all()
    job_id = events[0]["job"]
    check_job_events(events, 1, job_id)
    worker = system.workers[0]
    expected = [
        (worker, "worker", "hop: job %s part sent to broker (" % job_id),
        (system.broker, "broker", "hop: job %s part seq 1 accepted, published (" % job_id),
        (system.frontend, "frontend", "hop: job %s part seq 1 received from broker" % job_id),
        (system.frontend, "frontend", "hop: job %s part seq 1 written to stream " % job_id),
    ]
    for process, role, text in expected:
        def found():
            return [m for m in hop_lines(process, job_id) if m.group(6).startswith(text)]
        matches = system.wait_for(found, timeout=5, what="%s line %r" % (role, text))
        check(len(matches) == 1, "%s: %d lines %r" % (role, len(matches), text))
        line = matches[0]
        check(line.group(2) == role, "role %r in %r" % (line.group(2), line.group(0)))
        check(line.group(3) == str(process.popen.pid), "pid in %r" % line.group(0))
        check(line.group(4) == "debug", "level in %r" % line.group(0))
        check(line.group(5) == who, "%s line carries who %r, not the client %r" % (role, line.group(5), who))
    # The info lines about the job carry the same who in every process.
    for process, text in ((system.broker, "job %s submitted" % job_id),
                          (worker, "job %s (demo) started" % job_id),
                          (system.broker, "job %s done" % job_id)):
        lines = [LOG_LINE.fullmatch(l) for l in process.log_text().splitlines() if text in l]
        check(lines and all(m and m.group(5) == who for m in lines), "%s: %r" % (text, lines))
