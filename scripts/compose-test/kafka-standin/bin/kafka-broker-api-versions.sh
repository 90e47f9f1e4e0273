#!/bin/sh
# The apache/kafka image's script of this name: asks a broker for its API versions.
exec java -Xmx128m -cp '/opt/kafka/libs/*' \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
  org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
