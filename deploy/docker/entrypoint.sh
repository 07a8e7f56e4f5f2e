#!/usr/bin/env bash
# The container's entrypoint: runs one Parley node in the foreground as PID 1's only process (exec),
# so SIGTERM from `docker stop` / `podman stop` reaches the JVM, which drains (every socket closed
# with 1012, storage flushed) and exits 0 (README, "Containers").
#
# Configuration is the PARLEY_* environment (ConfigLoader: `http.port` → PARLEY_HTTP_PORT); the
# Dockerfile sets the image's defaults. Of its own this script reads:
#   PARLEY_JAR        the jar (default /opt/parley/parley.jar)
#   PARLEY_CDS        a class-data archive made for that jar (default /opt/parley/parley.jsa), used
#                     when it exists; the JVM ignores an archive of another jar or JVM and says so
#   JAVA_OPTS         more JVM flags, appended (so they win): e.g. -Xmx1g
# Arguments are passed to Parley after the jar (it takes none today).
set -euo pipefail

JAR=${PARLEY_JAR:-/opt/parley/parley.jar}
CDS=${PARLEY_CDS:-/opt/parley/parley.jsa}

flags=(
  # size the heap from the container's memory limit, not the host's; the rest of the limit is left
  # to direct buffers (Netty), metaspace, thread stacks and RocksDB's native memory (embedded profile)
  -XX:MaxRAMPercentage=70 -XX:InitialRAMPercentage=25
  # an OutOfMemoryError leaves a node half-alive: exit, and let the orchestrator restart it
  -XX:+ExitOnOutOfMemoryError
  # Hazelcast on JDK 17 (the cluster profile; harmless on the embedded one), as scripts/cluster
  --add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.management/sun.management=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
)
if [[ -f $CDS ]]; then
  flags+=(-XX:SharedArchiveFile="$CDS" -Xlog:cds=off -Xlog:cds+dynamic=off)
fi
# word splitting of JAVA_OPTS is intended: it holds several flags
# shellcheck disable=SC2206
extra=(${JAVA_OPTS:-})

exec java "${flags[@]}" "${extra[@]}" -jar "$JAR" "$@"
