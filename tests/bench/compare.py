#!/usr/bin/env python3
"""compare.py - the ratios of one tests/bench/run.sh run: rill against its peers.

Reads the JSON lines run.sh collected (one per rill-bench run, each labelled
with its "workload") and, for every workload that ran against rill and a
peer (the reference stack "seed", or "nchan"), prints:

  * on stdout one JSON line {"tool":"run.sh","comparisons":[...]}: per pair,
    rill's and the peer's rate (jobs/s for job workloads, delivered/s
    otherwise), p50/p99, CPU µs per part, and the ratios
    rate_ratio = rill / peer (higher is better for rill) and
    p99_ratio = rill p99 / peer p99 (lower is better for rill);
  * on stderr the same as a table, and the per-process CPU of each run.

With --sweep DIR (run.sh --sweep), instead: the tables of how cost grows
(jobs/s and p99 against clients, deliveries/s and p99 against subscribers,
rill beside the peers that ran) as markdown on stderr, the same as one JSON
line on stdout, and DIR/clients.dat, DIR/subscribers.dat for sweep.gp.

Usage: compare.py [--sweep DIR] RESULTS.jsonl
"""
import json
import sys


def rate(run):
    return run.get("jobs_per_s", run.get("delivered_per_s", 0))


def sweep(directory, runs):
    """Tables and gnuplot data of run.sh --sweep (workloads clients-N, subscribers-N)."""
    out = {"tool": "run.sh", "sweep": {}}
    for axis, peer, unit in (("clients", "seed", "jobs/s"), ("subscribers", "nchan", "deliveries/s")):
        rows = {}
        for run in runs:
            if run["workload"].startswith(axis + "-") and "latency_ms" in run:
                rows.setdefault(int(run["workload"].split("-")[1]), {})[run["target"]] = run
        if not rows:
            continue
        table = []
        with open("%s/%s.dat" % (directory, axis), "w") as dat:
            dat.write("# %s rill_rate rill_p99_ms %s_rate %s_p99_ms\n" % (axis, peer, peer))
            for n in sorted(rows):
                cells = [n]
                for target in ("rill", peer):
                    run = rows[n].get(target)
                    cells += [rate(run), run["latency_ms"]["p99"]] if run else [None, None]
                table.append(cells)
                dat.write(" ".join("NaN" if c is None else str(c) for c in cells) + "\n")
        out["sweep"][axis] = {"unit": unit, "peer": peer, "rows": table}
        sys.stderr.write("\n| %s | rill %s | rill p99 ms | %s %s | %s p99 ms | ratio |\n|---|---|---|---|---|---|\n"
                         % (axis, unit, peer, unit, peer))
        for n, rr, rp, pr, pp in table:
            fmt = lambda v, f: "-" if v is None else f % v
            sys.stderr.write("| %s | %s | %s | %s | %s | %s |\n" % (
                "{:,}".format(n), fmt(rr, "%.0f"), fmt(rp, "%.2f"), fmt(pr, "%.0f"),
                fmt(pp, "%.2f"), "%.2fx" % (rr / pr) if rr and pr else "-"))
    memory = sorted((r for r in runs if r["workload"].startswith("memory-")), key=lambda r: r["jobs_retained"] or 0)
    if memory:
        out["sweep"]["broker_memory"] = [[r["jobs_retained"], r["retained_bytes"], r["broker_rss_kib"]] for r in memory]
        sys.stderr.write("\n| after the run of | jobs retained | retained bytes | broker RSS KiB | RSS per retained job |\n"
                         "|---|---|---|---|---|\n")
        for r in memory:
            per = "%.0f B" % (r["broker_rss_kib"] * 1024.0 / r["jobs_retained"]) if r["jobs_retained"] else "-"
            sys.stderr.write("| %s clients | %s | %s | %s | %s |\n" % (
                r["workload"].split("-")[1], r["jobs_retained"], r["retained_bytes"], r["broker_rss_kib"], per))
    print(json.dumps(out, separators=(",", ":")))


def main():
    if sys.argv[1] == "--sweep":
        sweep(sys.argv[2], [json.loads(line) for line in open(sys.argv[3]) if line.strip()])
        return
    runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {}
    for run in runs:
        by.setdefault(run["workload"], {})[run["target"]] = run
    comparisons = []
    for workload, targets in by.items():
        rill = targets.get("rill")
        for peer_name, peer in targets.items():
            if rill is None or peer_name == "rill":
                continue
            if "server_rss_kib" in rill and "server_rss_kib" in peer:
                comparisons.append({"workload": workload, "peer": peer_name, "unit": "KiB per idle stream",
                                    "rill_kib_per_stream": rill["server_rss_kib"]["per_stream"],
                                    "peer_kib_per_stream": peer["server_rss_kib"]["per_stream"]})
                continue
            entry = {
                "workload": workload, "peer": peer_name,
                "unit": "jobs/s" if "jobs_per_s" in rill else "deliveries/s",
                "rill": rate(rill), "peer_rate": rate(peer),
                "rate_ratio": round(rate(rill) / rate(peer), 2) if rate(peer) else None,
                "rill_p50_ms": rill["latency_ms"]["p50"], "peer_p50_ms": peer["latency_ms"]["p50"],
                "rill_p99_ms": rill["latency_ms"]["p99"], "peer_p99_ms": peer["latency_ms"]["p99"],
                "p99_ratio": round(rill["latency_ms"]["p99"] / peer["latency_ms"]["p99"], 3)
                if peer["latency_ms"]["p99"] else None,
                "rill_errors": rill.get("errors", rill.get("subscriber_errors", 0)),
                "peer_errors": peer.get("errors", peer.get("subscriber_errors", 0)),
            }
            for name, run in (("rill", rill), ("peer", peer)):
                cpu = run.get("cpu", {}).get("servers_total", {})
                unit = "us_per_part" if "us_per_part" in cpu else "us_per_event"
                entry[name + "_cpu_percent"] = cpu.get("percent")
                entry[name + "_cpu_" + unit] = cpu.get(unit)
            if "broker_us_per_part" in rill:
                entry["broker_us_per_part"] = rill["broker_us_per_part"]
            comparisons.append(entry)
    print(json.dumps({"tool": "run.sh", "comparisons": comparisons}, separators=(",", ":")))

    err = sys.stderr
    err.write("\n%-9s %-6s %12s %12s %7s %9s %9s %9s %8s %8s\n" % (
        "workload", "peer", "rill", "peer", "ratio", "rill p99", "peer p99", "p99 r/p", "rill err", "peer err"))
    for c in comparisons:
        if "rill_kib_per_stream" in c:
            err.write("%-9s %-6s %9.2f KiB %8.2f KiB per idle stream\n" % (
                c["workload"], c["peer"], c["rill_kib_per_stream"], c["peer_kib_per_stream"]))
            continue
        err.write("%-9s %-6s %12.0f %12.0f %6.2fx %9.2f %9.2f %9.3f %8s %8s\n" % (
            c["workload"], c["peer"], c["rill"], c["peer_rate"], c["rate_ratio"] or 0, c["rill_p99_ms"],
            c["peer_p99_ms"], c["p99_ratio"] or 0, c["rill_errors"], c["peer_errors"]))
    err.write("\nCPU over each measured window (% of one core; us per delivered part/event; wakeups a second\n"
              "of all its threads)\n")
    for run in runs:
        cpu = run.get("cpu")
        if not cpu:
            continue
        cells = []
        for p in cpu["processes"]:
            per = p.get("us_per_part", p.get("us_per_event"))
            wakes = p.get("wakeups_per_s")
            cells.append("%s %s%% %s%s" % (p["name"], p.get("percent"), "%.2fus" % per if per is not None else "-",
                                            " %dw" % wakes if wakes is not None else ""))
        err.write("  %-9s %-6s %s\n" % (run["workload"], run["target"], ", ".join(cells)))


if __name__ == "__main__":
    main()
