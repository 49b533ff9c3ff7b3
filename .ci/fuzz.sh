#!/usr/bin/env bash
# CI: property-based fuzzing of the running server against its own OpenAPI
# document with schemathesis (every check, stateful phase included), once on
# a fresh SQLite database and once on a fresh PostgreSQL schema, signed in as
# an admin. Any failure or server error fails the run; schemathesis prints
# the reproducing request (as curl) for each.
#
# Environment (all optional):
#   NEWSDESK_FUZZ_SECONDS   time budget per backend (default 90)
#   NEWSDESK_FUZZ_BACKENDS  "sqlite postgres" (default) or one of them
#   NEWSDESK_FUZZ_BIN       a newsdesk binary to use instead of `cargo build`
#   NEWSDESK_FUZZ_SEED      hypothesis seed (default 20261130)
#   NEWSDESK_TEST_POSTGRES_URL  the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

REQUIREMENTS=.ci/fuzz-requirements.txt
VENV=${NEWSDESK_FUZZ_VENV:-$ROOT/target/fuzz-venv}
SECONDS_PER_BACKEND="${NEWSDESK_FUZZ_SECONDS:-90}"
BACKENDS="${NEWSDESK_FUZZ_BACKENDS:-sqlite postgres}"
SEED="${NEWSDESK_FUZZ_SEED:-20261130}"
PG_URL="${NEWSDESK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== fuzz: tools from $REQUIREMENTS in $VENV"
stamp="$VENV/.requirements-$(sha256sum "$REQUIREMENTS" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$REQUIREMENTS"
  touch "$stamp"
fi
"$VENV/bin/schemathesis" --version

# A second, independent validator of the committed document.
"$VENV/bin/openapi-spec-validator" openapi/openapi.json

if [ -n "${NEWSDESK_FUZZ_BIN:-}" ]; then
  BIN="$NEWSDESK_FUZZ_BIN"
else
  cargo build --quiet --bin newsdesk
  BIN="$ROOT/target/debug/newsdesk"
fi

WORK=$(mktemp -d)
SERVER_PID=""
PG_SCHEMA=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  if [ -n "$PG_SCHEMA" ]; then
    psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" >/dev/null 2>&1 || true
    PG_SCHEMA=""
  fi
}
trap 'cleanup; rm -rf "$WORK"' EXIT

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# fuzz_one NAME DATABASE_URL: serve a fresh database, sign in, fuzz.
fuzz_one() {
  local name=$1 db_url=$2
  local port base password signin token admin_id log status
  port=$(free_port)
  base="http://127.0.0.1:$port"
  password="fuzz-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  log="$WORK/server-$name.log"

  export NEWSDESK_DATABASE_URL="$db_url"
  export NEWSDESK_BIND="127.0.0.1:$port"
  export NEWSDESK_JWT_SECRET
  NEWSDESK_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
  export NEWSDESK_LOG=warn
  export NEWSDESK_WORKERS=2
  # Uploaded pictures stay in the run's folder (not data/media).
  export NEWSDESK_MEDIA_DIR="$WORK/media-$name"

  "$BIN" migrate
  NEWSDESK_PASSWORD="$password" "$BIN" user create --email fuzz-admin@example.com --name "Fuzz Admin" --role admin >/dev/null
  "$BIN" seed --demo >/dev/null
  "$BIN" serve >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "$base/healthz" >/dev/null

  signin=$(curl -fsS "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"fuzz-admin@example.com\",\"password\":\"$password\"}")
  token=$(printf '%s' "$signin" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  admin_id=$(printf '%s' "$signin" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')

  echo "== fuzz ($name): ${SECONDS_PER_BACKEND}s against $base, seed $SEED"
  status=0
  # Every check runs; `ensure_resource_availability` as the hooks' own
  # `created_resource_is_available`, which leaves out the view beacon (it
  # answers 404 for a new article: a draft is not public, by design).
  # Run from a fresh folder: schemathesis keeps a cache of earlier
  # failures in ./.schemathesis and would replay them (no determinism).
  mkdir -p "$WORK/run-$name"
  (cd "$WORK/run-$name" &&
  NEWSDESK_FUZZ_ADMIN_ID="$admin_id" NEWSDESK_FUZZ_ADMIN_PASSWORD="$password" \
    PYTHONPATH="$ROOT/.ci" SCHEMATHESIS_HOOKS=fuzz_hooks \
    "$VENV/bin/schemathesis" --config-file "$ROOT/.ci/schemathesis.toml" run "$base/api/openapi.json" \
    --url "$base" \
    --checks all --exclude-checks ensure_resource_availability \
    --phases "${NEWSDESK_FUZZ_PHASES:-examples,coverage,fuzzing,stateful}" \
    --max-time "$SECONDS_PER_BACKEND" \
    --seed "$SEED" \
    --generation-database none \
    --workers 1 \
    --request-timeout 10 \
    --header "Authorization: Bearer $token" \
    --no-color \
    --output-truncate false \
    --report junit --report-dir "$WORK/report-$name") || status=$?

  # Internal errors are logged by the server (and answered 500, which
  # schemathesis reports too); a panic would not be answered at all.
  if grep -qE 'panicked|internal error' "$log"; then
    echo "server log of the $name run has errors:" >&2
    grep -E 'panicked|internal error' "$log" | head -50 >&2
    status=1
  fi
  cleanup
  if [ "$status" -ne 0 ]; then
    echo "fuzz ($name) FAILED; the reproducing requests are printed above" >&2
    return "$status"
  fi
  echo "fuzz ($name): no failures"
}

overall=0
for backend in $BACKENDS; do
  case "$backend" in
    sqlite)
      fuzz_one sqlite "sqlite://$WORK/fuzz.db" || overall=1
      ;;
    postgres)
      PG_SCHEMA="fuzz_$$_$RANDOM"
      psql "$PG_URL" -qc "CREATE SCHEMA $PG_SCHEMA" >/dev/null
      sep='?'
      case "$PG_URL" in *\?*) sep='&' ;; esac
      fuzz_one postgres "$PG_URL${sep}options=-csearch_path%3D$PG_SCHEMA" || overall=1
      ;;
    *)
      echo "unknown backend $backend" >&2
      exit 2
      ;;
  esac
done
exit "$overall"
