# rill's image: rill-broker, rill-frontend and rill-worker on Debian 12.
#
# Two stages, each FROM a build argument:
#   BUILD_BASE    (default debian:bookworm)       compiles rill;
#   RUNTIME_BASE  (default debian:bookworm-slim)  runs it: the runtime
#                 libraries only, no compiler, no -dev package (~110 MB).
# On a machine with a registry `docker compose up --build` just works: each
# stage installs what it lacks with apt. Without a registry, build both
# bases locally first (debootstrap + docker import; they already hold every
# package, so the build then needs no network):
#     docker/make-base-image.sh      # -> rill-build-base:bookworm, rill-runtime-base:bookworm
#     docker build --build-arg BUILD_BASE=rill-build-base:bookworm \
#                  --build-arg RUNTIME_BASE=rill-runtime-base:bookworm -t rill:local .
# (docker/compose.sh and tests/docker pass those when the local bases
# exist.) See README.md "Docker Compose".
ARG BUILD_BASE=debian:bookworm
ARG RUNTIME_BASE=debian:bookworm-slim

FROM ${BUILD_BASE} AS build
LABEL org.rill.stage=build
# Keep in step with docker/make-base-image.sh and ./rill's PACKAGES.
ARG BUILD_PACKAGES="build-essential meson ninja-build pkg-config libzmq3-dev libczmq-dev \
libh2o-evloop-dev libjansson-dev libssl-dev libcurl4-openssl-dev libwslay-dev libjwt-dev"
RUN missing=$(for p in $BUILD_PACKAGES; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
        | grep -q 'install ok installed' || echo "$p"; done) \
 && if [ -n "$missing" ]; then apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null \
      && rm -rf /var/lib/apt/lists/*; fi
# The commit for rill_build_info (the context has no .git): docker/compose.sh
# and tests/docker pass `git rev-parse --short=12 HEAD`.
ARG RILL_COMMIT=unknown
COPY . /src
RUN meson setup /build /src --buildtype=debugoptimized -Dbuild_commit="$RILL_COMMIT" >/dev/null \
 && ninja -C /build broker/rill-broker frontend/rill-frontend workers/rill-worker \
 && install -d /out \
 && install -m 0755 /build/broker/rill-broker /build/frontend/rill-frontend \
        /build/workers/rill-worker /out/

FROM ${RUNTIME_BASE}
# What the three binaries link (ldd), curl for the health checks, tini as
# PID 1. Keep in step with docker/make-base-image.sh.
ARG RUNTIME_PACKAGES="libzmq5 libczmq4 libh2o-evloop0.13 libjansson4 libssl3 libcurl4 libwslay1 \
libjwt0 curl ca-certificates tini"
RUN missing=$(for p in $RUNTIME_PACKAGES; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
        | grep -q 'install ok installed' || echo "$p"; done) \
 && if [ -n "$missing" ]; then apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null \
      && rm -rf /var/lib/apt/lists/*; fi
COPY --from=build /out/ /usr/local/bin/
COPY config/rill.json /etc/rill/rill.json
# An unprivileged user; /run/rill is the run directory (mode 0700) the
# compose services share as a volume: a new volume takes this owner and mode.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/rill --create-home rill \
 && install -d -o rill -g rill -m 0700 /run/rill
USER rill
WORKDIR /var/lib/rill
ENV RILL_RUN_DIR=/run/rill RILL_CONFIG=/etc/rill/rill.json
EXPOSE 8080
# tini as PID 1 forwards SIGTERM to the process and reaps children.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["rill-broker", "--run-dir", "/run/rill", "--config", "/etc/rill/rill.json", "--log", "info"]
