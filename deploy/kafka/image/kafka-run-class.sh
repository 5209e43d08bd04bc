#!/bin/sh
# Runs a Kafka main class on the image's jars, as the distribution's script of that name does:
#   kafka-run-class.sh CLASS [ARGS...]
# Tools start small and fast (the broker's KAFKA_HEAP_OPTS is not theirs); KAFKA_OPTS is added.
# shellcheck disable=SC2086 # KAFKA_OPTS is a list
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -Dorderstream.kafka.loglevel=WARN \
  ${KAFKA_OPTS:-} -cp '/opt/kafka/libs/*' "$@"
