# rill's image: rill-broker, rill-frontend and rill-worker on Debian 12.
#
# It starts FROM a base built locally, with no image registry:
#     docker/make-base-image.sh          # debootstrap bookworm + docker import -> rill-base:bookworm
#     docker build -t rill:local .    (tests/docker also tags the build stage: --target build -t rill:build)
# The base already holds the compiler, meson, ninja and every -dev package,
# so this build needs no network. See README.md "Docker Compose".
ARG BASE=rill-base:bookworm

FROM ${BASE} AS build
LABEL org.rill.stage=build
COPY . /src
RUN meson setup /build /src --buildtype=debugoptimized >/dev/null \
 && ninja -C /build broker/rill-broker frontend/rill-frontend workers/rill-worker \
 && install -d /out \
 && install -m 0755 /build/broker/rill-broker /build/frontend/rill-frontend \
        /build/workers/rill-worker /out/

FROM ${BASE}
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
