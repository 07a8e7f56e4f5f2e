#!/usr/bin/env bash
# The image's HEALTHCHECK: exits 0 when this node's GET /health/ready answers 200 (started, warmed
# up, joined, not draining), 1 otherwise. Needs nothing but bash (its /dev/tcp): the JRE base images
# do not all carry curl or wget. Plain HTTP on PARLEY_HTTP_PORT (default 8080) of 127.0.0.1; with
# TLS on the public listener (PARLEY_HTTP_TLS_CERT_FILE set) it uses curl when the image has one,
# and otherwise says so and fails: override HEALTHCHECK for such a deployment.
set -uo pipefail

PORT=${PARLEY_HTTP_PORT:-8080}
TIMEOUT=${PARLEY_HEALTHCHECK_TIMEOUT_S:-3}

if [[ -n ${PARLEY_HTTP_TLS_CERT_FILE:-} ]]; then
  if command -v curl >/dev/null; then
    exec curl -fsk -o /dev/null --max-time "$TIMEOUT" "https://127.0.0.1:$PORT/health/ready"
  fi
  echo "healthcheck: TLS is on and this image has no curl" >&2
  exit 1
fi

# the bash built-in /dev/tcp; `timeout` bounds a listener that accepts and never answers
status=$(timeout "$TIMEOUT" bash -c '
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  printf "GET /health/ready HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3
  IFS= read -r line <&3 && printf "%s" "$line"
' healthcheck "$PORT" 2>/dev/null)
case $status in
  "HTTP/1."?" 200"*) exit 0 ;;
  *) echo "healthcheck: /health/ready on port $PORT: ${status:-no answer}" >&2; exit 1 ;;
esac
