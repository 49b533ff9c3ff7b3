#!/usr/bin/env bash
# Content benchmark (issue 13): feeds and sitemaps at 100,000 articles, and
# the import speed. Builds the release binary, seeds a fresh database, starts
# the server and drives it with oha, one endpoint at a time at 32
# connections, with /healthz measured in the same run (the ratio says how
# close an endpoint comes to the server's own ceiling on this machine). Then
# generates a WordPress export (WXR) of 20,000 posts with authors, tags and
# comments, and times `newsdesk import wordpress` into another fresh
# database. Prints a Markdown table.
#
#   bench/content.sh                     100,000 articles on SQLite, 10 s per endpoint
#   bench/content.sh --quick             3 s per endpoint
#   bench/content.sh --postgres URL      on PostgreSQL (fresh schemas in that database)
#   bench/content.sh --articles N --posts N --duration S --connections C
#   bench/content.sh --bin PATH          another newsdesk binary (no build)
set -euo pipefail
cd "$(dirname "$0")/.."

articles=100000
posts=20000
duration=10
warmup=2
connections=32
postgres=""
bin_override=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=3; warmup=1; shift ;;
    --articles) articles="$2"; shift 2 ;;
    --posts) posts="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --postgres) postgres="$2"; shift 2 ;;
    --bin) bin_override="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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
if [ -n "$postgres" ]; then
  command -v psql >/dev/null || { echo "--postgres needs psql" >&2; exit 1; }
fi

if [ -n "$bin_override" ]; then
  bin="$bin_override"
else
  echo "== building the release binary"
  cargo build --release --quiet
  bin="$PWD/target/release/newsdesk"
fi

work=$(mktemp -d /tmp/newsdesk-content.XXXXXX)
schemas=()
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  for s in "${schemas[@]}"; do
    psql "$postgres" -qc "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

export NEWSDESK_LOG=warn
export NEWSDESK_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123456789"
export NEWSDESK_METRICS_BIND=127.0.0.1:0
export NEWSDESK_MEDIA_DIR="$work/media"
# One client sends everything: no per-client limit may stand in the way.
export NEWSDESK_RATE_VIEWS=off

# A fresh database: a SQLite file, or a schema of its own on PostgreSQL.
fresh_db() {
  local name="$1"
  if [ -n "$postgres" ]; then
    local schema="content_${name}_$$"
    psql "$postgres" -qc "CREATE SCHEMA $schema" >/dev/null
    schemas+=("$schema")
    local sep='?'; case "$postgres" in *\?*) sep='&' ;; esac
    echo "${postgres}${sep}options=-csearch_path%3D${schema}"
  else
    echo "sqlite://$work/$name.db"
  fi
}
backend=sqlite; [ -n "$postgres" ] && backend=postgres

# ---------------------------------------------------------------- serving
db=$(fresh_db serve)
echo "== seeding $articles articles ($backend)"
seed_start=$(date +%s.%N)
NEWSDESK_DATABASE_URL="$db" "$bin" seed --articles "$articles"
seed_secs=$(python3 -c "import time; print(round(time.time() - $seed_start, 1))")
if [ -n "$postgres" ]; then
  # What an operator does after a bulk load: give the planner statistics.
  psql "$db" -qc "VACUUM ANALYZE" >/dev/null
fi

port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
base="http://127.0.0.1:$port"
NEWSDESK_DATABASE_URL="$db" NEWSDESK_BIND="127.0.0.1:$port" \
  NEWSDESK_PUBLIC_URL_TEMPLATE="https://news.example/{yyyy}/{mm}/{slug}" \
  "$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$base/healthz" >/dev/null || { cat "$work/server.log"; echo "server did not start" >&2; exit 1; }

# The middle article sitemap page, from the index itself.
pages=$(curl -fs "$base/sitemap.xml" | grep -o 'articles-[0-9]*\.xml' | wc -l)
middle=$(( (pages + 1) / 2 ))
[ "$middle" -ge 1 ] || { echo "the sitemap index lists no article page" >&2; exit 1; }
tag=$(curl -fs "$base/api/v1/tags?sort=-article_count&per_page=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['data'][0]['slug'])")

endpoints=(
  "/healthz"
  "/feeds/rss.xml"
  "/feeds/atom.xml"
  "/feeds/feed.json"
  "/feeds/tags/$tag/rss.xml"
  "/sitemap.xml"
  "/sitemaps/articles-$middle.xml"
  "/sitemaps/news.xml"
  "/sitemaps/tags.xml"
  "/sitemaps/authors.xml"
)
echo "== driving $base ($pages article sitemap pages; page $middle is the middle one)"
results="$work/results.jsonl"
for path in "${endpoints[@]}"; do
  size=$(curl -fs "$base$path" | wc -c)
  oha -z "${warmup}s" -c "$connections" --no-tui --output-format json "$base$path" >/dev/null
  oha -z "${duration}s" -c "$connections" --no-tui --output-format json "$base$path" \
    | python3 -c "
import json, sys
r = json.load(sys.stdin)
codes = {int(k): v for k, v in (r.get('statusCodeDistribution') or {}).items()}
ok = sum(v for k, v in codes.items() if 200 <= k < 300)
lat = r['latencyPercentiles']
print(json.dumps({'path': sys.argv[1], 'bytes': int(sys.argv[2]),
  'rps': round(ok / (r['summary']['total'] or 1), 1),
  'p50_ms': round((lat['p50'] or 0) * 1000, 2), 'p99_ms': round((lat['p99'] or 0) * 1000, 2),
  'non_2xx': sum(v for k, v in codes.items() if not 200 <= k < 300)}))
" "$path" "$size" >>"$results"
  tail -1 "$results"
done
kill "$server"; wait "$server" 2>/dev/null || true; server=""

# ---------------------------------------------------------------- import
wxr="$work/wordpress-$posts.xml"
echo "== generating a WordPress export of $posts posts"
python3 - "$wxr" "$posts" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(13)
authors = [(f"writer{i}", f"Writer {i}") for i in range(25)]
cats = [f"section-{i}" for i in range(40)]
tags = [f"topic-{i}" for i in range(400)]
para = ("The council met on Tuesday to discuss the budget &amp; the new bridge. "
        "Residents asked for more buses, fewer cars and a safer crossing. ") * 3
with open(path, "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            '<title>Bench Press</title><link>https://bench.example</link>\n'
            '<wp:wxr_version>1.2</wp:wxr_version>\n')
    for i, (login, name) in enumerate(authors):
        f.write(f"<wp:author><wp:author_id>{i + 1}</wp:author_id><wp:author_login><![CDATA[{login}]]>"
                f"</wp:author_login><wp:author_email><![CDATA[{login}@bench.example]]></wp:author_email>"
                f"<wp:author_display_name><![CDATA[{name}]]></wp:author_display_name></wp:author>\n")
    cid = 0
    for p in range(1, n + 1):
        day = 1 + p % 28
        month = 1 + p % 12
        date = f"2023-{month:02d}-{day:02d} {p % 24:02d}:{p % 60:02d}:00"
        slug = f"story-number-{p}"
        login = rng.choice(authors)[0]
        cat = rng.choice(cats)
        f.write(f"<item><title><![CDATA[Story number {p}]]></title>"
                f"<link>https://bench.example/2023/{month:02d}/{day:02d}/{slug}/</link>"
                f"<dc:creator><![CDATA[{login}]]></dc:creator>"
                f"<content:encoded><![CDATA[<p>{para}</p>\n<p>Paragraph two of story {p}.</p>]]></content:encoded>"
                f"<excerpt:encoded><![CDATA[]]></excerpt:encoded>"
                f"<wp:post_id>{p}</wp:post_id><wp:post_date_gmt><![CDATA[{date}]]></wp:post_date_gmt>"
                f"<wp:post_modified_gmt><![CDATA[{date}]]></wp:post_modified_gmt>"
                f"<wp:comment_status><![CDATA[open]]></wp:comment_status>"
                f"<wp:post_name><![CDATA[{slug}]]></wp:post_name><wp:status><![CDATA[publish]]></wp:status>"
                f"<wp:post_type><![CDATA[post]]></wp:post_type>"
                f'<category domain="category" nicename="{cat}"><![CDATA[{cat}]]></category>')
        for t in rng.sample(tags, 3):
            f.write(f'<category domain="post_tag" nicename="{t}"><![CDATA[{t}]]></category>')
        for c in range(p % 3):
            cid += 1
            f.write(f"<wp:comment><wp:comment_id>{cid}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[Reader {cid % 500}]]></wp:comment_author>"
                    f"<wp:comment_author_email><![CDATA[reader{cid % 500}@readers.example]]></wp:comment_author_email>"
                    f"<wp:comment_date_gmt><![CDATA[{date}]]></wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[Comment {cid} on story {p}.]]></wp:comment_content>"
                    f"<wp:comment_approved><![CDATA[1]]></wp:comment_approved>"
                    f"<wp:comment_parent>{cid - 1 if c else 0}</wp:comment_parent></wp:comment>")
        f.write("</item>\n")
    f.write("</channel>\n</rss>\n")
PY
wxr_mb=$(python3 -c "import os; print(round(os.path.getsize('$wxr') / 1e6, 1))")
idb=$(fresh_db import)
NEWSDESK_DATABASE_URL="$idb" "$bin" migrate >/dev/null
echo "== importing ($wxr_mb MB)"
import_start=$(date +%s.%N)
NEWSDESK_DATABASE_URL="$idb" "$bin" import wordpress "$wxr" >"$work/import.txt"
import_secs=$(python3 -c "import time; print(round(time.time() - $import_start, 2))")
cat "$work/import.txt"

# ---------------------------------------------------------------- report
python3 - "$results" "$backend" "$articles" "$seed_secs" "$posts" "$wxr_mb" "$import_secs" "$connections" "$duration" "$work/import.txt" <<'PY'
import json, sys
results, backend, articles, seed_secs, posts, mb, secs, conns, dur, summary = sys.argv[1:]
rows = [json.loads(l) for l in open(results)]
health = next(r["rps"] for r in rows if r["path"] == "/healthz") or 1
print(f"\n## Content benchmark: {backend}, {int(articles):,} articles (seeded in {seed_secs} s), "
      f"{conns} connections, {dur} s per endpoint\n")
print("| endpoint | body | requests/s | vs /healthz | p50 ms | p99 ms | non-2xx |")
print("|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| `{r['path']}` | {r['bytes']:,} B | {r['rps']:,} | {r['rps'] / health:.1%} | "
          f"{r['p50_ms']} | {r['p99_ms']} | {r['non_2xx']} |")
first = open(summary).readline().strip()
print(f"\nImport: `newsdesk import wordpress` of {int(posts):,} posts ({mb} MB WXR, with "
      f"authors, tags and comments) in {secs} s: **{int(posts) / float(secs):,.0f} articles/s** ({first}).")
PY
