#!/usr/bin/env bash
# Media benchmark: builds the release binary and bench/picture.rs, makes
# 12-megapixel JPEGs (4000x3000, generated here: nothing is downloaded),
# times their uploads (decode, strip, renditions, crops, store), then
# drives oha at a rendition URL and at /healthz in the same run, one after
# the other, and prints requests/s side by side.
#
#   bench/media.sh             3 uploads, 10 s per URL, 32 connections
#   bench/media.sh --quick     2 uploads, 3 s per URL
#   bench/media.sh --bin PATH  another newsdesk binary
#   bench/media.sh --width W   the rendition served (320, 640, 1024, 1600; default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
connections=32
uploads=3
bin_override=""
width=1024
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=3; uploads=2; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --bin) bin_override="$2"; shift 2 ;;
    --width) width="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

command -v python3 >/dev/null || { echo "bench needs python3" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench needs curl" >&2; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v oha >/dev/null; then
  echo "== installing oha (cargo install oha)"
  cargo install oha --locked
fi

echo "== building the release binary and the picture maker"
cargo build --release --quiet
cargo build --release --quiet --example picture
bin="${bin_override:-$PWD/target/release/newsdesk}"
picture="$PWD/target/release/examples/picture"

work=$(mktemp -d /tmp/newsdesk-media-bench.XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export NEWSDESK_DATABASE_URL="sqlite://$work/newsdesk.db"
export NEWSDESK_MEDIA_DIR="$work/media"
export NEWSDESK_BIND="127.0.0.1:$port"
export NEWSDESK_LOG=warn
export NEWSDESK_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123456789"
export NEWSDESK_METRICS_BIND=127.0.0.1:0
export NEWSDESK_RATE_LOGIN=off

"$bin" migrate >/dev/null
NEWSDESK_PASSWORD="bench-password-123" "$bin" user create --email bench@example.com \
  --name "Bench Editor" --role editor >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(curl -fs "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-123"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "== making $uploads 12-megapixel JPEGs (4000x3000)"
for i in $(seq 1 "$uploads"); do
  "$picture" "$work/photo-$i.jpg" 4000 3000 "$i"
done
ls -l "$work"/photo-*.jpg | awk '{printf "   %s bytes\n", $5}'

echo "== uploading (each picture once; renditions and crops are made at upload)"
upload_times=()
for i in $(seq 1 "$uploads"); do
  out=$(curl -fsS -o "$work/upload-$i.json" -w '%{time_total}' "$base/api/v1/media" \
    -H "authorization: Bearer $token" -F "file=@$work/photo-$i.jpg" \
    -F alt="Bench photo $i" -F focal_x=0.6 -F focal_y=0.4)
  upload_times+=("$out")
  echo "   upload $i: ${out} s"
done

rendition=$(python3 - "$work/upload-1.json" "$width" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(next(r["url"] for r in m["renditions"] if r["width"] == int(sys.argv[2]) and r["mime_type"] == "image/jpeg"))
PY
)
size=$(curl -fs "$rendition" | wc -c)
echo "== rendition: $rendition ($size bytes)"

run_oha() {
  # $1: URL; prints requests/s, p50 ms, p99 ms, non-200 answers.
  oha -z "${duration}s" -c "$connections" --no-tui --output-format json "$1" 2>/dev/null |
    python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["summary"]; p = d.get("latencyPercentiles", {})
codes = d.get("statusCodeDistribution", {})
bad = sum(v for k, v in codes.items() if k != "200")
print("%.0f %.2f %.2f %d" % (s["requestsPerSec"], (p.get("p50") or 0) * 1000, (p.get("p99") or 0) * 1000, bad))'
}

echo "== oha: ${duration}s each, $connections connections"
oha -z 1s -c "$connections" --no-tui "$rendition" >/dev/null 2>&1 || true
read -r r_rps r_p50 r_p99 r_bad < <(run_oha "$rendition")
read -r h_rps h_p50 h_p99 h_bad < <(run_oha "$base/healthz")

echo
echo "| what | result |"
echo "|---|---|"
for i in "${!upload_times[@]}"; do
  echo "| upload of a 12 MP JPEG #$((i + 1)) | ${upload_times[$i]} s |"
done
echo
echo "| URL | requests/s | p50 ms | p99 ms | non-200 |"
echo "|---|---|---|---|---|"
echo "| rendition $width.jpg ($size bytes) | $r_rps | $r_p50 | $r_p99 | $r_bad |"
echo "| /healthz | $h_rps | $h_p50 | $h_p99 | $h_bad |"
python3 -c "print('rendition / healthz: %.0f %%' % (100.0 * $r_rps / max($h_rps, 1)))"
