#!/usr/bin/env bash
# Load benchmark: builds the release binary and the framework ceiling
# (bench/ceiling.rs), seeds a fresh database, and lets bench/drive.py drive
# both with oha at 32 connections the way a site's traffic arrives (many
# distinct URLs built from the seeded data), newsdesk with its read cache on
# and off. Prints a Markdown table and writes target/bench/results.json.
#
#   bench/run.sh                       10,000 articles on SQLite, 10 s per endpoint
#   bench/run.sh --quick               the same in under two minutes
#   bench/run.sh --articles 100000     another scale
#   bench/run.sh --postgres URL        on PostgreSQL (a fresh schema in that database)
#   bench/run.sh --database URL        an already seeded database (skips seeding)
#   bench/run.sh --bin PATH            another newsdesk binary (e.g. an older build)
#   bench/run.sh --postgres URL --instances 3
#                                      total requests/s of 3 instances against 1
#                                      on one PostgreSQL (cache off)
set -euo pipefail
cd "$(dirname "$0")/.."

articles=10000
duration=10
warmup=2
connections=32
postgres=""
label=""
reuse=""
bin_override=""
instances=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=3; warmup=1; shift ;;
    --articles) articles="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --postgres) postgres="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    --database) reuse="$2"; shift 2 ;;
    --bin) bin_override="$2"; shift 2 ;;
    --instances) instances="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

command -v python3 >/dev/null || { echo "bench needs python3" >&2; exit 1; }
if ! command -v oha >/dev/null; then
  echo "== installing oha (cargo install oha)"
  cargo install oha --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"

echo "== building the release binary and the ceiling"
cargo build --release --quiet
cargo build --release --quiet --example ceiling
bin="${bin_override:-$PWD/target/release/newsdesk}"
ceiling="$PWD/target/release/examples/ceiling"

work=$(mktemp -d /tmp/newsdesk-bench.XXXXXX)
cleanup() {
  if [ -n "$postgres" ] && [ -n "${schema:-}" ]; then
    psql "$postgres" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

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
seed_secs=0
if [ -n "$reuse" ]; then
  # An already seeded database (with the bench editor), e.g. for a rerun.
  export NEWSDESK_DATABASE_URL="$reuse"
  case "$reuse" in postgres*) backend=postgres ;; *) backend=sqlite ;; esac
else
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
fi

python3 bench/drive.py \
  --bin "$bin" --ceiling "$ceiling" --duration "$duration" --warmup "$warmup" \
  --connections "$connections" --backend "$backend" --articles "$articles" \
  --seed-seconds "$seed_secs" --label "$label" --log "$work/server.log" \
  --instances "$instances" --out target/bench/results.json
