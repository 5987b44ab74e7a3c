#!/usr/bin/env bash
# docker/make-base-image.sh - builds rill's Debian 12 base image with no image
# registry: debootstrap installs Debian bookworm from Debian's package mirror
# into a directory, and `docker import` turns that directory into the image
# the Dockerfile starts FROM (rill-base:bookworm).
#
#   docker/make-base-image.sh [--force] [--image NAME] [--mirror URL]
#
# The base holds everything the Dockerfile needs (compiler, meson, ninja, the
# -dev packages, curl for health checks, tini as PID 1), so `docker build`
# then needs no network at all. An existing image is kept unless --force.
# Environment twins: RILL_BASE_IMAGE, RILL_DEBIAN_MIRROR; RILL_NO_INSTALL=1
# does not install debootstrap when it is missing. Needs root (or sudo).
set -euo pipefail

image=${RILL_BASE_IMAGE:-rill-base:bookworm}
mirror=${RILL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
force=0
while [ $# -gt 0 ]; do
    case "$1" in
        --force) force=1; shift ;;
        --image) image=$2; shift 2 ;;
        --mirror) mirror=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "make-base-image: unknown option $1" >&2; exit 2 ;;
    esac
done

# What the Dockerfile uses: keep in step with the Dockerfile and ./rill's PACKAGES.
# libcurl4-openssl-dev is for the `http` and `subscribe` job kinds, libwslay-dev
# for `subscribe`'s WebSocket upstreams (docs/API.md).
packages=(build-essential meson ninja-build pkg-config libzmq3-dev libczmq-dev libh2o-evloop-dev
          libjansson-dev libssl-dev libcurl4-openssl-dev libwslay-dev curl ca-certificates tini)

say() { printf 'make-base-image: %s\n' "$*" >&2; }

# The package list is a label of the image: a changed list rebuilds by itself.
wanted="${packages[*]}"
if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
    have=$(docker image inspect -f '{{index .Config.Labels "org.rill.packages"}}' "$image" 2>/dev/null || true)
    if [ "$have" = "$wanted" ]; then
        say "$image exists (use --force to rebuild)"
        exit 0
    fi
    say "$image holds other packages than wanted: rebuilding"
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

if ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then
    if [ "${RILL_NO_INSTALL:-0}" = 1 ]; then
        say "debootstrap is missing (RILL_NO_INSTALL=1, not installing)"
        exit 1
    fi
    say "installing debootstrap"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
debootstrap=$(command -v debootstrap || echo /usr/sbin/debootstrap)

work=$(mktemp -d "${TMPDIR:-/var/tmp}/rill-base.XXXXXX")
cleanup() { "${sudo[@]}" rm -rf --one-file-system "$work"; }
trap cleanup EXIT

started=$(date +%s)
say "debootstrap bookworm from $mirror into $work/root (a few minutes)"
include=$(IFS=,; echo "${packages[*]}")
if ! "${sudo[@]}" "$debootstrap" --variant=minbase --include="$include" \
        bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$work/root/debootstrap/debootstrap.log" ] && tail -n 30 "$work/root/debootstrap/debootstrap.log" >&2
    say "debootstrap failed"
    exit 1
fi

# Smaller and reproducible-ish: no package cache, no apt lists, no host traces.
"${sudo[@]}" rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* \
    "$work/root/var/log/"*.log "$work/root/tmp/"* "$work/root/etc/hostname"
printf 'deb %s bookworm main\n' "$mirror" | "${sudo[@]}" tee "$work/root/etc/apt/sources.list" >/dev/null

say "importing as $image"
old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
"${sudo[@]}" tar --numeric-owner -C "$work/root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.rill.base=debootstrap-bookworm org.rill.packages=\"$wanted\"" \
    --change 'CMD ["/bin/bash"]' \
    --message "rill base: debootstrap bookworm $mirror" - "$image" >/dev/null
new=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
if [ -n "$old" ] && [ "$old" != "$new" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true   # the superseded base, unless something uses it
fi
say "$image built in $(( $(date +%s) - started ))s"
