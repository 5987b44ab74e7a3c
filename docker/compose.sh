#!/usr/bin/env bash
# docker/compose.sh - runs Docker Compose, whichever is installed: the v2
# plugin (`docker compose`) when it works, else `docker-compose` (v1, the
# Debian package). Without -f/--file or COMPOSE_FILE it uses rill's
# docker-compose.yml. Arguments are passed through:
#
#   docker/compose.sh up -d --scale worker=3
#   docker/compose.sh down
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

file=(-f "$top/docker-compose.yml")
[ -z "${COMPOSE_FILE:-}" ] || file=()
# Only the global options before the command count (`logs -f` is not a file).
arguments=("$@")
for ((i = 0; i < ${#arguments[@]}; i++)); do
    case "${arguments[i]}" in
        -f|--file|--file=*) file=(); break ;;
        -p|--project-name|--project-directory|--env-file|--profile|-c|--context|-H|--host|--ansi|--log-level) i=$((i + 1)) ;;
        -*) ;;
        *) break ;;
    esac
done

# The image's build arguments (docker-compose.yml): the offline bases of
# docker/make-base-image.sh when they exist, else the public Debian images;
# the commit for rill_build_info from git.
if [ -z "${RILL_BUILD_BASE:-}" ] && docker image inspect rill-build-base:bookworm >/dev/null 2>&1; then
    export RILL_BUILD_BASE=rill-build-base:bookworm
fi
if [ -z "${RILL_RUNTIME_BASE:-}" ] && docker image inspect rill-runtime-base:bookworm >/dev/null 2>&1; then
    export RILL_RUNTIME_BASE=rill-runtime-base:bookworm
fi
[ -n "${RILL_COMMIT:-}" ] || RILL_COMMIT=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export RILL_COMMIT

if docker compose version >/dev/null 2>&1; then
    exec docker compose "${file[@]}" "$@"
elif command -v docker-compose >/dev/null 2>&1; then
    exec docker-compose "${file[@]}" "$@"
fi
echo "compose.sh: neither 'docker compose' nor 'docker-compose' is installed" \
     "(apt-get install docker-compose)" >&2
exit 127
