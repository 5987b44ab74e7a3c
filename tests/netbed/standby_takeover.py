"""standby_takeover.py - the netbed's standby-takeover scenario (run_netbed.py).

A second broker host (10.77.0.2) runs the standby of the broker on
10.77.0.1 (`--standby-of tcp://10.77.0.1:5564`, the primary binding
`--pair-bind` there); the frontends and workers are given both brokers'
endpoints (docs/CONFIG.md "Standby broker"). Jobs run, then the primary
broker process is killed (SIGKILL: its kernel closes its connections).
The row: jobs done / failed / run twice, parts missing outside a reported
gap, and seconds from the kill until every worker joined the standby and
each frontend delivers live parts again through it (run_netbed's
recovery). Target: as every scenario's, and recovery within 2 s.

standby-host-cut: the primary's host cut off for good
instead; nothing closes a connection, so the clients switch after 2
heartbeats of silence and the backup takes over once it has missed the
primary's heartbeats for as long: target 4 s.
"""
import os
import signal
import threading
import time

PAIR_PORT = 5564


def cluster_class(base, ports):
    """run_netbed's Cluster (base) with a standby broker host; ports: its PORTS."""

    class StandbyCluster(base):
        def _build(self, build, workers, credit):
            self.backup_host = self.bed.add_host("broker2", 2)
            self.backup = None
            base._build(self, build, workers, credit)

        def endpoint(self, name):
            """What clients are given: both brokers, the primary first."""
            return ",".join(self.broker_endpoint(name, host) for host in (self.broker_host, self.backup_host))

        def broker_endpoint(self, name, host):
            return "tcp://%s:%d" % (host.address, ports[name])

        def pair_endpoint(self):
            return "tcp://%s:%d" % (self.broker_host.address, PAIR_PORT)

        def start_broker(self):
            binary = os.path.join(self.build, "broker", "rill-broker")
            self.broker = self.start("broker", self.broker_host, [binary] + self.binds(self.broker_host)
                                     + ["--pair-bind", self.pair_endpoint()])
            self.broker_started = time.time()
            self.backup = self.start("backup", self.backup_host, [binary] + self.binds(self.backup_host)
                                     + ["--standby-of", self.pair_endpoint()])

        def binds(self, host):
            flags = []
            for name in ("control", "events", "workers"):
                flags += ["--" + name, self.broker_endpoint(name, host)]
            return flags

    return StandbyCluster


def register(lib):
    """Adds the scenarios to run_netbed (lib): its SCENARIOS and CLUSTERS."""
    standby = cluster_class(lib.Cluster, lib.PORTS)
    lib.SCENARIOS.append(("standby-takeover", lambda cluster: scenario(cluster, lib), True))
    lib.SCENARIOS.append(("standby-host-cut", lambda cluster: scenario(cluster, lib, cut=True), True))
    lib.CLUSTERS.update({"standby-takeover": standby, "standby-host-cut": standby})


def scenario(cluster, lib, cut=False):
    """The scenario; lib is run_netbed (its clients, recovery and row). cut:
    the primary's host cut off for good instead (nothing closes a
    connection: the clients and the backup go by silence)."""
    stop = threading.Event()
    deadline = time.time() + 12 + 60
    jobs = lib.submit(cluster, 0, 120, 100, 5) + lib.submit(cluster, 1, 120, 100, 5)
    threads = lib.follow_all(cluster, jobs, stop, deadline)
    more, more_threads = lib.start_streamed(cluster, 120, stop, deadline)
    jobs += more
    threads += more_threads
    time.sleep(3)
    killed_at = time.time()
    if cut:
        cluster.bed.cut(cluster.broker_host)
        cluster.mark("primary broker host cut off")
        notes = ["primary host cut off"]
    else:
        cluster.bed.kill(cluster.broker, signal.SIGKILL)
        cluster.mark("primary broker killed (SIGKILL)")
        notes = ["primary killed"]
    recovery = lib.wait_recovered(cluster, killed_at, killed_at, ["w1", "w2", "w3"], [0, 1], jobs,
                                  recovery_detail=notes)
    settled = killed_at + (recovery or 0) + 3 * lib.HEARTBEAT_MS / 1000.0
    # Silence takes 2 heartbeats to judge, for the clients and the backup alike.
    row = lib.finish(cluster, jobs, threads, stop, deadline, recovery, settled, 4.0 if cut else 2.0, notes)
    restarted = [name for name in ("frontend1", "frontend2") if "broker restarted" in cluster.log(name)]
    if restarted:  # the standby must present the pair's identity
        row["notes"].append("broker_restarted on %s" % ", ".join(restarted))
        row["ok"] = False
    if "passive -> active" not in cluster.log("backup"):
        row["notes"].append("the backup never became active")
        row["ok"] = False
    return row
