# Parley: one node per container (README, "Containers"). The image takes the jar the build made:
#
#   mvn -B package -DskipTests                   # writes target/parley.jar
#   docker build -t parley .                     # or: podman build --format docker -t parley .
#   docker run -p 8080:8080 -v parley-data:/var/lib/parley parley
#
# Nothing is compiled in the image (its build needs no network beyond the base image), so the jar
# and the image come from the same tree only if the two commands run on it one after the other.
# Configuration is the PARLEY_* environment (ConfigLoader: `http.port` → PARLEY_HTTP_PORT); the
# ENV lines below are the image's defaults, and e2e/ContainerEntrypointIT runs the entrypoint with
# exactly them against the built jar. BASE_IMAGE: any JRE 17 on glibc with bash, coreutils and
# useradd (scripts/container-check builds on a Debian one made locally).
ARG BASE_IMAGE=eclipse-temurin:17-jre
FROM ${BASE_IMAGE}

# a fixed, non-root uid/gid owning only the data directory (volumes keep their owner across images)
ARG PARLEY_UID=10001
RUN groupadd --system --gid "${PARLEY_UID}" parley \
    && useradd --system --uid "${PARLEY_UID}" --gid parley --home-dir /var/lib/parley \
       --no-create-home --shell /usr/sbin/nologin parley \
    && mkdir -p /opt/parley /var/lib/parley \
    && chown parley:parley /var/lib/parley \
    && chmod 0750 /var/lib/parley

COPY deploy/docker/entrypoint.sh deploy/docker/healthcheck.sh /opt/parley/
COPY target/parley.jar /opt/parley/parley.jar

# public HTTP/WebSocket on every interface of the container; admin (metrics, event-bus bridge) too,
# so Prometheus and internal tools on the container network reach it: publish only 8080 to the
# outside. Dev tokens stay off (the embedded profile turns them on): set PARLEY_JWT_SECRET or
# PARLEY_AUTH_JWKS_URL, or PARLEY_DEV_TOKEN_ENABLED=true to try it on a laptop.
ENV LANG=C.UTF-8 \
    PARLEY_PROFILE=embedded \
    PARLEY_HTTP_HOST=0.0.0.0 \
    PARLEY_HTTP_PORT=8080 \
    PARLEY_ADMIN_HOST=0.0.0.0 \
    PARLEY_DATA_DIR=/var/lib/parley \
    PARLEY_DEV_TOKEN_ENABLED=false \
    PARLEY_JAR=/opt/parley/parley.jar

# the embedded profile's RocksDB store, its generated jwt.secret and VAPID keys
VOLUME ["/var/lib/parley"]
# 8080 public HTTP/WebSocket, 9464 admin (/metrics), 9465 event-bus bridge, 5701 Hazelcast (cluster profile)
EXPOSE 8080 9464 9465 5701

USER ${PARLEY_UID}:${PARLEY_UID}
WORKDIR /var/lib/parley
# ready = started, warmed up, joined (cluster) and not draining; a cluster node may take a minute
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 CMD ["/opt/parley/healthcheck.sh"]
# SIGTERM drains (clients told to reconnect, sockets closed with 1012 spread over drain.window_ms,
# storage flushed; at most drain.timeout_ms, 60 s on the cluster profile, 15 s embedded): stop with a
# longer grace period than the default 10 s (docker stop -t 75; compose: stop_grace_period)
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/parley/entrypoint.sh"]
