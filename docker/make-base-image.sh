#!/usr/bin/env bash
# docker/make-base-image.sh - builds rill's two Debian 12 base images with no
# image registry: debootstrap installs Debian bookworm from Debian's package
# mirror into a directory, and `docker import` turns that directory into an
# image. The Dockerfile's stages start FROM them when told to
# (--build-arg BUILD_BASE=… RUNTIME_BASE=…; by default they start from the
# public debian:bookworm images instead):
#   rill-build-base:bookworm    compiler, meson, ninja, the -dev packages;
#   rill-runtime-base:bookworm  the runtime libraries, curl, tini; no docs,
#                               man pages or locales (the slim image's base).
#
#   docker/make-base-image.sh [--force] [--mirror URL]
#
# Both hold every package their stage needs, so `docker build` then needs no
# network at all. An existing image is kept unless --force (or its package
# list changed). Environment: RILL_BUILD_BASE_IMAGE, RILL_RUNTIME_BASE_IMAGE
# (the names), RILL_DEBIAN_MIRROR; RILL_NO_INSTALL=1 does not install
# debootstrap when it is missing. Needs root (or sudo).
set -euo pipefail

build_image=${RILL_BUILD_BASE_IMAGE:-rill-build-base:bookworm}
runtime_image=${RILL_RUNTIME_BASE_IMAGE:-rill-runtime-base:bookworm}
mirror=${RILL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
force=0
while [ $# -gt 0 ]; do
    case "$1" in
        --force) force=1; shift ;;
        --mirror) mirror=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "make-base-image: unknown option $1" >&2; exit 2 ;;
    esac
done

# What the Dockerfile's stages use: keep in step with its BUILD_PACKAGES and
# RUNTIME_PACKAGES, and with ./rill's PACKAGES. libcurl4-openssl-dev is for
# the `http` and `subscribe` job kinds, libwslay-dev for `subscribe`'s
# WebSocket upstreams (docs/API.md); libwslay1 comes with libh2o-evloop0.13;
# libjwt-dev/libjwt0 for the frontend's JWT access (docs/API.md "Access").
build_packages=(build-essential meson ninja-build pkg-config libzmq3-dev libczmq-dev libh2o-evloop-dev
                libjansson-dev libssl-dev libcurl4-openssl-dev libwslay-dev libjwt-dev)
runtime_packages=(libzmq5 libczmq4 libh2o-evloop0.13 libjansson4 libssl3 libcurl4 libwslay1 libjwt0 curl
                  ca-certificates tini)

say() { printf 'make-base-image: %s\n' "$*" >&2; }

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
mkdir -p "$work/cache" # the .debs both images share

# make_base IMAGE SLIM PACKAGE...: debootstrap + docker import, unless IMAGE
# exists with these packages. SLIM=1 also drops docs, man pages and locales.
make_base() {
    local image=$1 slim=$2; shift 2
    local wanted="$*"
    if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
        local have
        have=$(docker image inspect -f '{{index .Config.Labels "org.rill.packages"}}' "$image" 2>/dev/null || true)
        if [ "$have" = "$wanted" ]; then
            say "$image exists (use --force to rebuild)"
            return 0
        fi
        say "$image holds other packages than wanted: rebuilding"
    fi
    local started root="$work/root-${image//[^a-z]/_}"
    started=$(date +%s)
    say "debootstrap bookworm from $mirror for $image (a minute or two)"
    local include
    include=$(IFS=,; echo "$*")
    if ! "${sudo[@]}" "$debootstrap" --variant=minbase --cache-dir="$work/cache" --include="$include" \
            bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
        say "debootstrap failed"
        return 1
    fi
    # Smaller and reproducible-ish: no package cache, no apt lists, no host traces.
    "${sudo[@]}" rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* \
        "$root/var/log/"*.log "$root/tmp/"* "$root/etc/hostname"
    if [ "$slim" = 1 ]; then
        "${sudo[@]}" rm -rf "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/usr/share/info/"* \
            "$root/usr/share/locale/"* "$root/var/cache/debconf/"*-old "$root/var/cache/ldconfig/"*
    fi
    printf 'deb %s bookworm main\n' "$mirror" | "${sudo[@]}" tee "$root/etc/apt/sources.list" >/dev/null
    say "importing as $image"
    local old new
    old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    "${sudo[@]}" tar --numeric-owner -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "LABEL org.rill.base=debootstrap-bookworm org.rill.packages=\"$wanted\"" \
        --change 'CMD ["/bin/bash"]' \
        --message "rill base: debootstrap bookworm $mirror" - "$image" >/dev/null
    new=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ -n "$old" ] && [ "$old" != "$new" ]; then
        docker rmi "$old" >/dev/null 2>&1 || true   # the superseded base, unless something uses it
    fi
    "${sudo[@]}" rm -rf --one-file-system "$root"
    say "$image built in $(( $(date +%s) - started ))s"
}

make_base "$runtime_image" 1 "${runtime_packages[@]}"
make_base "$build_image" 0 "${build_packages[@]}"
