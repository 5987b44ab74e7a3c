#!/usr/bin/env bash
# tests/kubernetes/run.sh - validates deploy/kubernetes/ offline.
#
#   tests/kubernetes/run.sh --build DIR      (./rill test runs it with "build")
#
# `kubectl --dry-run=client` needs a cluster; PyPI's kubernetes-validate
# bundles the Kubernetes JSON schemas and needs none. It is installed, pinned,
# in a venv of the build directory (DIR/k8s-venv; Debian needs python3-venv,
# which ./rill test installs); an existing venv is reused, so only the first
# run needs PyPI. Then test_manifests.py validates every manifest against
# KUBERNETES_VERSION and checks what a schema cannot (the Services, endpoints,
# ConfigMap and probes fit together and fit rill's binaries). Ends with
# "N passed, N failed"; a venv that cannot be made is one failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

VALIDATOR="kubernetes-validate==1.37.0"
KUBERNETES_VERSION="1.31.0"

build=build
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        *) echo "usage: $0 [--build DIR]" >&2; exit 2 ;;
    esac
done
venv="$build/k8s-venv"

if ! "$venv/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null; then
    rm -rf "$venv"
    if ! log=$(/usr/bin/python3 -m venv "$venv" 2>&1 && "$venv/bin/pip" install --quiet "$VALIDATOR" 2>&1); then
        printf '%s\n' "$log" >&2
        echo "FAIL - cannot make $venv with $VALIDATOR (python3 -m venv; pip install from PyPI)"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
exec "$venv/bin/python" tests/kubernetes/test_manifests.py --build "$build" --kubernetes-version "$KUBERNETES_VERSION"
