# sweep.sh - run.sh --sweep: how cost grows (issue 11, point 6). Sourced by
# run.sh once rill (and the peers asked for) are up; uses its run().
#
#   capacity against concurrent clients: 50, 200, 1000 clients, each POSTing
#     J demo jobs of P parts (interval 0) per request, back to back; rill and,
#     with --seed, the reference stack.
#   broker memory against what it retains: its RSS after each of those runs,
#     with the jobs and bytes it retains for replay (/metrics), cumulative.
#   fan-out against subscribers: 1, 100, 1000 subscribers of one topic at a
#     fixed 2,000 msg/s (the rate of the saturated fan-out row of
#     docs/BENCHMARKS.md: at 1 and 100 subscribers it is the offered rate that
#     bounds deliveries/s, at 1,000 the server); rill and, with --nchan, Nchan.
#
# Then compare.py --sweep prints the tables and writes gnuplot's data, and
# gnuplot (Debian gnuplot-nox, installed when missing) draws one PNG.
sweep_clients=${RILL_SWEEP_CLIENTS:-50 200 1000}
sweep_subscribers=${RILL_SWEEP_SUBSCRIBERS:-1 100 1000}
# metric NAME: its value in the frontend's /metrics (the broker's gauges are relayed there).
metric() {
    local value
    value=$(curl -fs "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 {print $2; exit}')
    echo "${value:-null}"
}
for c in $sweep_clients; do
    sweep_jobs=(--concurrency "$c" --jobs-per-request "$per_request" --parts "$parts" --interval-ms 0)
    run "clients-$c" jobs "${rill[@]}" "${rill_cpu[@]}" "${sweep_jobs[@]}"
    # Broker memory against what it retains (every job of the runs so far, for retain_ms).
    echo "{\"workload\":\"memory-$c\",\"target\":\"rill\",\"broker_rss_kib\":$(awk '/^VmRSS:/ {print $2}' "/proc/$broker_pid/status"),\"jobs_retained\":$(metric rill_jobs_retained),\"retained_bytes\":$(metric rill_broker_retained_bytes)}" >>"$work/results.jsonl"
    if [ "$seed" = 1 ]; then run "clients-$c" jobs "${seed_flags[@]}" "${sweep_jobs[@]}"; fi
done
for s in $sweep_subscribers; do
    run "subscribers-$s" fanout "${rill[@]}" "${rill_cpu[@]}" --subscribers "$s" --rate 2000
    if [ "$nchan" = 1 ]; then run "subscribers-$s" fanout "${nchan_flags[@]}" --subscribers "$s" --rate 2000; fi
done
mkdir -p "$work/sweep"
python3 tests/bench/compare.py --sweep "$work/sweep" "$work/results.jsonl"
chart=${RILL_BENCH_CHART:-$TOP/docs/bench-sweep.png}
if install_packages gnuplot-nox; then
    gnuplot -e "dir='$work/sweep'; out='$chart'" tests/bench/sweep.gp && echo "run.sh: chart $chart" >&2
else
    echo "run.sh: gnuplot-nox missing: no chart (the tables above hold the numbers)" >&2
fi
if [ "$failures" -gt 0 ]; then
    echo "run.sh: $failures run(s) failed" >&2
    tail -20 "$work/rill.log" >&2
    exit 1
fi
