#!/usr/bin/env bash
# `pnpm test:compose`: runs docker-compose.yml and the Dockerfile for real. Installs what is
# missing (install-tools.sh), starts a Docker daemon of its own, makes the local base images
# (base-images.sh), then runs the checks in compose.test.ts. The daemon, and everything the checks
# started (containers, networks, volumes), is gone when this script ends, also after a failure.
# Needs root. Kept between runs, under $KAFKA_THROTTLE_CACHE (/var/cache/kafka-throttle): the
# downloads, the compose binary and the daemon's images.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export KAFKA_THROTTLE_CACHE=${KAFKA_THROTTLE_CACHE:-/var/cache/kafka-throttle}
# Debian's CLI, which finds the compose plugin; another `docker` earlier on PATH may not.
export DOCKER_CLI=/usr/bin/docker
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-kafka-throttle-compose-test}
state=/run/kafka-throttle-docker
export DOCKER_HOST=unix://$state/docker.sock
# The Dockerfile's RUN --mount needs BuildKit, which Debian's 20.10 engine has but does not default to.
export DOCKER_BUILDKIT=1
started=$SECONDS

if [ "$(id -u)" != 0 ]; then
  echo "test:compose: needs root (it installs packages and runs a Docker daemon)" >&2
  exit 1
fi

"$here/install-tools.sh"

daemon_pid=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$daemon_pid" ]; then
    # The checks remove what they started; this is the safety net for an interrupted run.
    "$DOCKER_CLI" compose -f "$root/docker-compose.yml" --project-directory "$root" \
      down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    echo "test:compose: Docker daemon (pid $daemon_pid) stopped"
  fi
  echo "test:compose: finished in $((SECONDS - started)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$state" "$KAFKA_THROTTLE_CACHE/docker"
if "$DOCKER_CLI" version >/dev/null 2>&1; then
  echo "test:compose: a daemon already answers on $DOCKER_HOST (a run that was killed?); stop it first" >&2
  exit 1
fi
step_start=$SECONDS
# vfs: the only storage driver that works inside these machines' own containers.
dockerd --storage-driver=vfs \
  --data-root="$KAFKA_THROTTLE_CACHE/docker" \
  --exec-root="$state/exec" \
  --pidfile="$state/dockerd.pid" \
  --host="$DOCKER_HOST" \
  >"$state/dockerd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 600); do
  "$DOCKER_CLI" version >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { tail -20 "$state/dockerd.log" >&2; exit 1; }
  sleep 0.1
done
"$DOCKER_CLI" version >/dev/null
echo "compose-test: Docker daemon (pid $daemon_pid) up in $((SECONDS - step_start)) s"

images=$("$here/base-images.sh")
export COMPOSE_TEST_NODE_IMAGE COMPOSE_TEST_KAFKA_IMAGE
COMPOSE_TEST_NODE_IMAGE=$(sed -n 's/^NODE_IMAGE=//p' <<<"$images")
COMPOSE_TEST_KAFKA_IMAGE=$(sed -n 's/^KAFKA_IMAGE=//p' <<<"$images")

cd "$root"
pnpm exec vitest run --config scripts/compose-test/vitest.config.ts
