#!/usr/bin/env bash
# After `docker compose -f deploy/compose.yaml up -d`: every instance and
# the load balancer answer /readyz (waits up to two minutes).
set -euo pipefail
cd "$(dirname "$0")"
compose=(docker compose -f compose.yaml --env-file "${ENV_FILE:-.env}")
for service in newsdesk1 newsdesk2 newsdesk3; do
  for _ in $(seq 1 120); do
    if "${compose[@]}" exec -T "$service" curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1; then
      echo "$service: ready"
      continue 2
    fi
    sleep 1
  done
  echo "$service: not ready" >&2
  exit 1
done
curl -fsS http://127.0.0.1:8080/readyz >/dev/null && echo "proxy: ready"
