#!/usr/bin/env bash
# Load benchmark: builds the release binary, seeds a fresh database, starts
# the server and drives it with oha at 32 connections, one endpoint at a
# time (warm-up, then a fixed measured time). Prints a Markdown table and
# writes target/bench/results.json.
#
#   bench/run.sh                       10,000 articles on SQLite, 10 s per endpoint
#   bench/run.sh --quick               the same in under two minutes
#   bench/run.sh --articles 100000     another scale
#   bench/run.sh --postgres URL        on PostgreSQL (a fresh schema in that database)
set -euo pipefail
cd "$(dirname "$0")/.."

articles=10000
duration=10
warmup=2
connections=32
postgres=""
label=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=4; warmup=1; shift ;;
    --articles) articles="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --postgres) postgres="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

command -v python3 >/dev/null || { echo "bench needs python3" >&2; exit 1; }
if ! command -v oha >/dev/null; then
  echo "== installing oha (cargo install oha)"
  cargo install oha --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"

echo "== building the release binary"
cargo build --release --quiet
bin="$PWD/target/release/newsdesk"

work=$(mktemp -d /tmp/newsdesk-bench.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$postgres" ] && [ -n "${schema:-}" ]; then
    psql "$postgres" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export NEWSDESK_BIND="127.0.0.1:$port"
export NEWSDESK_LOG=warn
export NEWSDESK_ACCESS_TTL=6h
export NEWSDESK_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123456789"
export NEWSDESK_REGISTRATION=open
# One client address sends every request: count every beacon and lift the
# per-client beacon and per-user comment limits, so the server is measured
# (see README, "Security"). The metrics listener takes any free port.
export NEWSDESK_VIEW_DEDUP_WINDOW=0
export NEWSDESK_RATE_VIEWS=off
export NEWSDESK_RATE_COMMENTS=off
export NEWSDESK_METRICS_BIND=127.0.0.1:0
if [ -n "$postgres" ]; then
  command -v psql >/dev/null || { echo "--postgres needs psql" >&2; exit 1; }
  schema="bench_$$"
  psql "$postgres" -qc "CREATE SCHEMA $schema" >/dev/null
  sep='?'; case "$postgres" in *\?*) sep='&' ;; esac
  export NEWSDESK_DATABASE_URL="${postgres}${sep}options=-csearch_path%3D${schema}"
  backend=postgres
else
  export NEWSDESK_DATABASE_URL="sqlite://$work/newsdesk.db"
  backend=sqlite
fi

echo "== seeding $articles articles ($backend)"
seed_start=$(date +%s.%N)
"$bin" seed --articles "$articles" --activity
seed_secs=$(python3 -c "import time; print(round(time.time() - $seed_start, 1))")
if [ -n "$postgres" ]; then
  # What an operator does after a bulk load: give the planner statistics.
  psql "$NEWSDESK_DATABASE_URL" -qc "VACUUM ANALYZE" >/dev/null
fi
NEWSDESK_PASSWORD="bench-password-123" "$bin" user create --email bench@example.com --name "Bench Editor" --role editor >/dev/null

echo "== starting the server on port $port"
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$base/healthz" >/dev/null

python3 bench/drive.py \
  --base "$base" --pid "$server_pid" --duration "$duration" --warmup "$warmup" \
  --connections "$connections" --backend "$backend" --articles "$articles" \
  --seed-seconds "$seed_secs" --label "$label" --out target/bench/results.json
