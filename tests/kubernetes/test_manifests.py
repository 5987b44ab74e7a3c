#!/usr/bin/env python3
"""test_manifests.py - deploy/kubernetes/ checked offline (run it through run.sh).

Each document of each manifest is validated strictly (unknown fields are
errors) against the bundled schemas of one Kubernetes version. Then what no
schema knows, each a check of its own:

- every Service selects a workload's pods, and its named target ports exist
  there; every tcp:// endpoint a container is given names a Service and one
  of its ports; every ConfigMap a pod mounts is there; the autoscaler's
  target exists and its containers request CPU;
- the images are rill:local (the README's default);
- rill's binaries, from the build, accept each container's arguments and
  each probe's command line with the container's environment (a usage error
  exits 2; a probe of nothing running must exit 1), and each HTTP probe is
  one of the frontend's probe paths;
- the ConfigMap's rill.json is a configuration a real rill-broker accepts.

Ends with "N passed, N failed".
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import kubernetes_validate
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFESTS = os.path.join(TOP, "deploy", "kubernetes")
BINARIES = {"rill-broker": "broker", "rill-frontend": "frontend", "rill-worker": "workers"}
PROBE_PATHS = ("/livez", "/readyz")

results = {"passed": 0, "failed": 0}


def report(ok, what, detail=""):
    results["passed" if ok else "failed"] += 1
    print("%s - %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail and not ok else ""),
          flush=True)


def load():
    documents = []
    for path in sorted(glob.glob(os.path.join(MANIFESTS, "*.yaml"))):
        with open(path) as f:
            for document in yaml.safe_load_all(f):
                if document is not None:
                    documents.append((os.path.basename(path), document))
    return documents


def name_of(document):
    return "%s/%s" % (document.get("kind"), document.get("metadata", {}).get("name"))


def validate_schemas(documents, version):
    for filename, document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
            report(True, "%s %s is valid for Kubernetes %s" % (filename, name_of(document), version))
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError,
                kubernetes_validate.InvalidSchemaError) as error:
            report(False, "%s %s against Kubernetes %s" % (filename, name_of(document), version),
                   str(getattr(error, "message", error)))


def workloads(documents):
    return [d for _, d in documents if d.get("kind") in ("Deployment", "StatefulSet")]


def containers_of(workload):
    return workload["spec"]["template"]["spec"]["containers"]


def check_references(documents):
    services = {d["metadata"]["name"]: d for _, d in documents if d.get("kind") == "Service"}
    config_maps = {d["metadata"]["name"] for _, d in documents if d.get("kind") == "ConfigMap"}
    loads = workloads(documents)
    for name, service in sorted(services.items()):
        selector = service["spec"].get("selector", {})
        selected = [w for w in loads
                    if selector and all(w["spec"]["template"]["metadata"]["labels"].get(k) == v
                                        for k, v in selector.items())]
        ports = {p["name"] for w in selected for c in containers_of(w) for p in c.get("ports", [])}
        missing = [p["targetPort"] for p in service["spec"]["ports"]
                   if isinstance(p.get("targetPort"), str) and p["targetPort"] not in ports]
        report(len(selected) == 1 and not missing, "Service %s selects one workload with its target ports" % name,
               "selects %d workloads; target ports not in them: %r" % (len(selected), missing))
    for workload in loads:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        matches = workload["spec"]["selector"]["matchLabels"]
        report(all(labels.get(k) == v for k, v in matches.items()),
               "%s: its selector matches its pods' labels" % name_of(workload))
        for container in containers_of(workload):
            for variable in container.get("env", []):
                # One endpoint, or a broker and its standby: "tcp://a:5561,tcp://b:5561".
                for value in variable.get("value", "").split(","):
                    if not value.startswith("tcp://") or value.startswith("tcp://*"):
                        continue
                    host, _, port = value[len("tcp://"):].rpartition(":")
                    service = services.get(host)
                    ok = service is not None and any(str(p["port"]) == port for p in service["spec"]["ports"])
                    report(ok, "%s: %s=%s names a Service port" % (name_of(workload), variable["name"], value))
            report(container.get("image") == "rill:local", "%s: image rill:local" % name_of(workload),
                   str(container.get("image")))
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                report(volume["configMap"]["name"] in config_maps,
                       "%s: ConfigMap %s exists" % (name_of(workload), volume["configMap"]["name"]))
    for _, hpa in documents:
        if hpa.get("kind") != "HorizontalPodAutoscaler":
            continue
        target = hpa["spec"]["scaleTargetRef"]
        found = [w for w in loads if w["kind"] == target["kind"] and w["metadata"]["name"] == target["name"]]
        requests = found and all("cpu" in c.get("resources", {}).get("requests", {})
                                 for c in containers_of(found[0]))
        report(bool(found) and bool(requests), "%s: its target exists and requests CPU" % name_of(hpa))


def run(argv, env, timeout=20):
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace").strip()


def binary_path(build, name):
    return os.path.join(build, BINARIES[name], name)


def container_env(container, scratch):
    """The container's environment, with its paths moved under scratch (and
    its endpoints to where nothing listens: probes must find nothing)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RILL_RUN_DIR": os.path.join(scratch, "run")}
    for variable in container.get("env", []):
        value = variable.get("value", "")
        if value.startswith("/"):
            value = os.path.join(scratch, value.lstrip("/"))
        elif value.startswith("tcp://"):
            value = ",".join("ipc://" + os.path.join(scratch, "nothing%d.sock" % i)
                             for i in range(len(value.split(","))))
        env[variable["name"]] = value
    return env


def check_command_lines(documents, build, scratch):
    for workload in workloads(documents):
        for container in containers_of(workload):
            env = container_env(container, scratch)
            args = container.get("args", [])
            if args and args[0] in BINARIES:
                # --help last: every flag before it is parsed first (a wrong one exits 2).
                status, output = run([binary_path(build, args[0])] + args[1:] + ["--help"], env)
                report(status == 0, "%s: %s accepts %s" % (name_of(workload), args[0], " ".join(args[1:])), output)
            else:
                report(False, "%s: runs a rill binary" % name_of(workload), repr(args))
            for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = container.get(kind)
                if probe is None:
                    continue
                if "tcpSocket" in probe:
                    port = probe["tcpSocket"].get("port")
                    ports = {p.get("name") for p in container.get("ports", [])} | \
                        {p.get("containerPort") for p in container.get("ports", [])}
                    report(port in ports, "%s: %s TCP %s is a container port" % (name_of(workload), kind, port))
                    continue
                if "httpGet" in probe:
                    path = probe["httpGet"].get("path")
                    report(path in PROBE_PATHS, "%s: %s GET %s is a frontend probe" % (name_of(workload), kind, path))
                    continue
                command = probe.get("exec", {}).get("command", [])
                if not command or command[0] not in BINARIES:
                    report(False, "%s: %s runs a rill binary" % (name_of(workload), kind), repr(command))
                    continue
                status, output = run([binary_path(build, command[0])] + command[1:], env)
                report(status == 1 and output.count("\n") == 0,
                       "%s: %s `%s` runs, and fails with one line when nothing runs"
                       % (name_of(workload), kind, " ".join(command)), "exit %d: %s" % (status, output))


def check_config(documents, build, scratch):
    for _, document in documents:
        if document.get("kind") != "ConfigMap" or "rill.json" not in document.get("data", {}):
            continue
        text = document["data"]["rill.json"]
        try:
            json.loads(text)
        except ValueError as error:
            report(False, "ConfigMap %s: rill.json is JSON" % document["metadata"]["name"], str(error))
            continue
        path = os.path.join(scratch, "rill.json")
        with open(path, "w") as f:
            f.write(text)
        # A refused config exits 2 before --check looks for a broker (1).
        status, output = run([binary_path(build, "rill-broker"), "--config", path, "--check", "--timeout-ms", "1",
                              "--control", "ipc://" + os.path.join(scratch, "nothing.sock")], {"PATH": "/usr/bin:/bin"})
        report(status == 1, "ConfigMap %s: rill-broker accepts its rill.json" % document["metadata"]["name"],
               "exit %d: %s" % (status, output))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--kubernetes-version", default="1.31.0")
    arguments = parser.parse_args()
    build = os.path.abspath(arguments.build)
    documents = load()
    report(len(documents) > 0, "manifests found in deploy/kubernetes")
    validate_schemas(documents, arguments.kubernetes_version)
    check_references(documents)
    with tempfile.TemporaryDirectory(prefix="rill-k8s-") as scratch:
        check_command_lines(documents, build, scratch)
        check_config(documents, build, scratch)
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
