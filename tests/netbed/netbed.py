"""netbed.py - a network of hosts made of Linux network namespaces, for
running rill's real processes across "hosts" over tcp://.

    bed = Bed()                     # cleans up a previous run's leftovers
    try:
        broker = bed.add_host("broker")          # 10.77.0.1, namespace <prefix>-broker
        bed.enter_client()                       # this process's threads talk from the client host
        process = bed.spawn(broker, ["rill-broker", ...], "broker")
        bed.cut(broker); ...; bed.restore(broker)  # the host's cable out, and back
    finally:
        bed.teardown()              # processes, namespaces, veths: always

Each host is a namespace with one veth; the other end of every veth is a
port of a bridge that lives in a namespace of its own (on a Docker host the
root namespace's FORWARD policy is DROP with bridge netfilter on, so a
bridge there would pass nothing; this one touches no root-namespace
firewall). Addresses are 10.77.0.0/24, private to the bed. Cutting a host
sets its bridge port down: the host keeps its address and routes, its
packets go nowhere (as a pulled cable), so TCP sees the silence of a real
partition, not a refused connection.

Cleanup: teardown() kills every process this bed started (SIGTERM, then
SIGKILL) and everything else still inside its namespaces, then deletes the
namespaces (their veths go with them). It runs from try/finally, atexit and
SIGINT/SIGTERM handlers; a new Bed also removes the namespaces of earlier
runs whose process is gone (names carry the runner's pid).
"""
import atexit
import ctypes
import os
import re
import signal
import subprocess
import time

SUBNET = "10.77.0"
NAME_PREFIX = "rillnb"  # namespaces are rillnb<pid>-<host>
CLONE_NEWNET = 0x40000000


def ip(*arguments, check=True):
    result = subprocess.run(["ip"] + list(arguments), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(arguments), result.stderr.strip()))
    return result.stdout


def namespaces():
    names = []
    for line in ip("netns", "list", check=False).splitlines():
        if line.strip():
            names.append(line.split()[0])
    return names


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def kill_inside(namespace):
    """SIGKILL to every process left in a namespace."""
    for text in ip("netns", "pids", namespace, check=False).split():
        try:
            os.kill(int(text), signal.SIGKILL)
        except (ValueError, ProcessLookupError):
            pass


def clean_leftovers():
    """Deletes the namespaces of earlier beds whose runner is gone."""
    removed = 0
    for name in namespaces():
        match = re.match(r"^%s(\d+)-" % NAME_PREFIX, name)
        if match is None or alive(int(match.group(1))):
            continue
        kill_inside(name)
        ip("netns", "delete", name, check=False)
        removed += 1
    return removed


def can_build():
    """'' when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    try:
        subprocess.run(["ip", "-V"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "no ip command (iproute2)"
    probe = "%s%d-probe" % (NAME_PREFIX, os.getpid())
    result = subprocess.run(["ip", "netns", "add", probe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    if result.returncode != 0:
        return "ip netns add: %s" % result.stdout.strip()
    subprocess.run(["ip", "netns", "delete", probe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ""


def setns(fd, what):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns %s" % what)


class Host:
    def __init__(self, name, namespace, address, port):
        self.name = name
        self.namespace = namespace
        self.address = address
        self.port = port  # the veth's end on the bridge, in the bridge's namespace
        self.processes = []


class Bed:
    def __init__(self):
        clean_leftovers()
        self.prefix = "%s%d" % (NAME_PREFIX, os.getpid())
        self.short = "nb%x" % (os.getpid() & 0xffffff)  # veth names: 15 characters at most
        self.hosts = {}
        self.processes = []
        self.torn_down = False
        self.next_address = 1
        self.bridge_namespace = self.prefix + "-bridge"
        self._previous_handlers = {}
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)  # to leave the host enter() went to
        self.entered = False
        atexit.register(self.teardown)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous_handlers[number] = signal.signal(number, self._on_signal)
        ip("netns", "add", self.bridge_namespace)
        ip("-n", self.bridge_namespace, "link", "add", "br0", "type", "bridge")
        ip("-n", self.bridge_namespace, "link", "set", "br0", "up")

    def _on_signal(self, number, frame):
        self.teardown()
        raise SystemExit(128 + number)

    def add_host(self, name, number=None):
        if number is None:
            number = self.next_address
        self.next_address = max(self.next_address, number + 1)
        namespace = "%s-%s" % (self.prefix, name)
        inner = "%s-%d" % (self.short, number)
        outer = "%s-%db" % (self.short, number)
        address = "%s.%d" % (SUBNET, number)
        ip("netns", "add", namespace)
        # Made in the bridge's namespace, never in the root one.
        ip("-n", self.bridge_namespace, "link", "add", inner, "type", "veth", "peer", "name", outer)
        ip("-n", self.bridge_namespace, "link", "set", inner, "netns", namespace)
        ip("-n", self.bridge_namespace, "link", "set", outer, "master", "br0")
        ip("-n", self.bridge_namespace, "link", "set", outer, "up")
        # A MAC of its own number: a host replaced at the same address is
        # reached at once, as a real one announcing itself (gratuitous ARP)
        # would be, not after the peers' ARP entries age out. (Tried: a new
        # MAC with arp_notify=1 here was reached by the peers only after
        # 33-41 s, when their entries aged out; no rill matter.)
        ip("-n", namespace, "link", "set", inner, "address", "02:77:00:00:00:%02x" % number)
        ip("-n", namespace, "addr", "add", address + "/24", "dev", inner)
        ip("-n", namespace, "link", "set", inner, "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        host = Host(name, namespace, address, outer)
        host.number = number
        self.hosts[name] = host
        return host

    def replace_host(self, host):
        """The host's machine replaced: its cable out first (its last words
        reach no one, as when a machine dies), every process in it killed,
        its namespace (its TCP state) gone, and a new one at the same
        address and MAC, cable in. Returns the new Host."""
        self.cut(host)
        for process in host.processes:
            self.kill(process, signal.SIGKILL)
        kill_inside(host.namespace)
        ip("-n", self.bridge_namespace, "link", "delete", host.port)  # both ends, now (a namespace goes later)
        ip("netns", "delete", host.namespace)
        del self.hosts[host.name]
        return self.add_host(host.name, host.number)

    def cut(self, host):
        ip("-n", self.bridge_namespace, "link", "set", host.port, "down")

    def restore(self, host):
        ip("-n", self.bridge_namespace, "link", "set", host.port, "up")

    def enter(self, host):
        """Moves the calling thread (and the threads it starts from now on)
        into host's network namespace: its new sockets live there. The
        thread that made the bed calls it; teardown() moves it back."""
        fd = os.open("/var/run/netns/" + host.namespace, os.O_RDONLY)
        try:
            setns(fd, host.namespace)
        finally:
            os.close(fd)
        self.entered = True

    def spawn(self, host, argv, log_path, env=None):
        log = open(log_path, "ab")
        process = subprocess.Popen(["ip", "netns", "exec", host.namespace] + list(argv), stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        host.processes.append(process)
        self.processes.append(process)
        return process

    def kill(self, process, sig=signal.SIGKILL, wait=10):
        if process.poll() is None:
            try:
                os.kill(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def teardown(self):
        if self.torn_down:
            return
        self.torn_down = True
        for process in self.processes:
            if process.poll() is None:
                try:
                    process.terminate()
                except ProcessLookupError:
                    pass
        deadline = time.time() + 3
        for process in self.processes:
            try:
                process.wait(max(0.01, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.entered:
            setns(self.home, "the runner's own namespace")
            self.entered = False
        os.close(self.home)
        for host in list(self.hosts.values()):
            kill_inside(host.namespace)
            ip("netns", "delete", host.namespace, check=False)
        kill_inside(self.bridge_namespace)
        ip("netns", "delete", self.bridge_namespace, check=False)
        for number, handler in self._previous_handlers.items():
            try:
                signal.signal(number, handler)
            except (ValueError, TypeError):
                pass
