#!/usr/bin/env python3
"""wakeups.py - how long the threads of a message's path wait to run once woken.

A message at low load crosses threads, not queues: every hop is a wakeup
(a socket write, a ZeroMQ mailbox's eventfd), and its latency is mostly
the sum of the wake-to-run delays. This reads a system-wide `perf sched`
recording and prints, for the threads of the given processes, every kind
of wakeup (waker -> wakee; on the waker's CPU or another one; the target
CPU idle or busy at the wake) with its count per message and its delay
percentiles, then a total per message.

    perf sched record -a -o sched.data -- sleep 5     # while the load runs
    perf script -i sched.data -F cpu,time,event,trace > sched.txt
    tests/bench/wakeups.py sched.txt --messages 5000 \\
        --process frontend=PID --process broker=PID --process client=PID

Threads are named PROCESS.main (the thread whose id is the pid) and
PROCESS.COMM for the others (COMM as the kernel shows it, e.g.
broker.ZMQbg/IO/0). Wakers outside the given processes are "other".
--messages N divides the counts by N (messages sent in the recording).
"""
import argparse
import collections
import re
import sys

WAKING = re.compile(r'\[(\d+)\]\s+([\d.]+):\s+sched:sched_waking: comm=(.*) pid=(\d+) prio=\d+ target_cpu=(\d+)')
SWITCH = re.compile(r'\[(\d+)\]\s+([\d.]+):\s+sched:sched_switch: prev_comm=(.*) prev_pid=(\d+) prev_prio=\d+ '
                    r'prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=\d+')


def thread_names(processes):
    """tid -> name, from /proc while the processes live, else from comm."""
    names = {}
    for label, pid in processes.items():
        names[pid] = f"{label}.main"
        try:
            import os
            for tid in os.listdir(f"/proc/{pid}/task"):
                if tid != pid:
                    with open(f"/proc/{pid}/task/{tid}/comm") as f:
                        names[tid] = f"{label}.{f.read().strip()}"
        except OSError:
            pass
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('script', help='perf script -F cpu,time,event,trace output of a perf sched recording')
    parser.add_argument('--process', action='append', default=[], metavar='NAME=PID')
    parser.add_argument('--thread', action='append', default=[], metavar='NAME=TID',
                        help='name a thread (when its process is gone before this runs)')
    parser.add_argument('--messages', type=int, default=0)
    parser.add_argument('--slow-us', type=float, default=500)
    args = parser.parse_args()
    processes = dict(p.split('=', 1) for p in args.process)
    names = thread_names(processes)
    names.update({tid: name for name, tid in (t.split('=', 1) for t in args.thread)})
    running = {}      # cpu -> pid on it
    pending = {}      # woken tid -> (time, waker name, kind)
    delays = collections.defaultdict(list)
    for line in open(args.script, errors='replace'):
        if 'sched_waking' in line:
            m = WAKING.search(line)
            if m is None:
                continue
            cpu, t, _, tid, target = m.groups()
            if tid not in names or tid in pending:
                continue
            where = 'same' if cpu == target else 'cross'
            state = 'idle' if running.get(target) == '0' else 'busy'
            pending[tid] = (float(t), names.get(running.get(cpu), 'other'), f"{where}-cpu {state}")
        elif 'sched_switch' in line:
            m = SWITCH.search(line)
            if m is None:
                continue
            cpu, t, _, _, _, _, next_tid = m.groups()
            running[cpu] = next_tid
            if next_tid in pending:
                start, waker, kind = pending.pop(next_tid)
                delays[(waker, names[next_tid], kind)].append((float(t) - start) * 1e6)
    if not delays:
        print("wakeups.py: no wakeup of the named threads in the recording", file=sys.stderr)
        return 1
    per = args.messages or 1
    unit = 'per message' if args.messages else 'count'
    print(f"{'waker -> wakee':44s} {'kind':15s} {unit:>11s} {'p50 us':>7s} {'p99 us':>7s} {'>' + str(int(args.slow_us)) + 'us':>8s}")
    total = collections.Counter()
    every = []
    for key, values in sorted(delays.items(), key=lambda kv: -len(kv[1])):
        values.sort()
        n = len(values)
        slow = sum(v > args.slow_us for v in values)
        total[key[2]] += n
        every.extend(values)
        if n / per < 0.02 and args.messages:
            continue
        print(f"{key[0] + ' -> ' + key[1]:44s} {key[2]:15s} {n / per:11.2f} {values[n // 2]:7.0f} "
              f"{values[min(n - 1, int(n * .99))]:7.0f} {slow / n * 100:7.2f}%")
    every.sort()
    n = len(every)
    print(f"all wakeups of these threads: {n / per:.2f} {unit}; p50 {every[n // 2]:.0f} us, p99 "
          f"{every[min(n - 1, int(n * .99))]:.0f} us, {sum(v > args.slow_us for v in every) / n * 100:.2f}% over "
          f"{args.slow_us:.0f} us; by kind: " + ", ".join(f"{k} {c / per:.2f}" for k, c in sorted(total.items())))
    return 0


if __name__ == '__main__':
    sys.exit(main())
