#!/usr/bin/env bash
# Front-end checks, run from the repository root (by .ci/run or by hand):
#   1. npm ci of clients/typescript and examples/news-page (npm registry only);
#   2. the committed generated types match openapi/openapi.json;
#   3. both packages compile with tsc --strict;
#   4. a newsdesk on a fresh SQLite database (serve --demo, free port, temp dir);
#   5. the client's tests against it;
#   6. the example news page started against it: its tests, and the rendered
#      HTML of the demo's lead article checked over HTTP;
#   7. everything stopped; exit status non-zero on any failure.
# The last line is "N passed, N failed".
#
# The server binary: $NEWSDESK_BIN if set, else the newer of
# target/release/newsdesk and target/debug/newsdesk, else `cargo build`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CLIENT=$ROOT/clients/typescript
PAGE=$ROOT/examples/news-page

passed=0
failed=0
finished=0
server_pid=""
page_pid=""
work=$(mktemp -d "${TMPDIR:-/tmp}/newsdesk-frontend.XXXXXX")

stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  stop "$page_pid"
  stop "$server_pid"
  if [ "$finished" -ne 1 ]; then
    # Stopped early (install, type check, compile or start-up failed).
    [ "$failed" -gt 0 ] || failed=1
    [ -f "$work/server.log" ] && { echo "--- newsdesk log (tail)"; tail -n 30 "$work/server.log"; }
    echo "frontend checks stopped early" >&2
    echo "$passed passed, $failed failed"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

wait_http() { # url, pid, seconds
  local url=$1 pid=$2 seconds=$3
  for _ in $(seq 1 $((seconds * 10))); do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Runs `node --test` in a package and adds its counts.
run_node_tests() { # dir, label
  local dir=$1 label=$2 log="$work/$2.tap" status=0
  echo "== tests: $label"
  (cd "$dir" && node --test --test-reporter=tap dist/test/) >"$log" 2>&1 || status=$?
  grep -E '^# (tests|pass|fail|cancelled|skipped)' "$log" || true
  local p f c
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n1)
  c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$log" | tail -n1)
  p=${p:-0}
  f=$((${f:-0} + ${c:-0}))
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -gt 0 ]; then
    echo "--- $label failures:"
    grep -B2 -A25 '^ *not ok' "$log" | head -n 150 || tail -n 60 "$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
}

command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then echo "Node 20 or later is needed (found $(node --version))" >&2; exit 1; fi
echo "node $(node --version), npm $(npm --version)"

echo "== npm ci"
(cd "$CLIENT" && npm ci --no-audit --no-fund)
(cd "$PAGE" && npm ci --no-audit --no-fund)

echo "== generated types are current"
(cd "$CLIENT" && npm run -s check-types)

echo "== tsc --strict"
(cd "$CLIENT" && npx --no-install tsc -p tsconfig.json --strict)
(cd "$PAGE" && npx --no-install tsc -p tsconfig.json --strict)

echo "== newsdesk"
bin=${NEWSDESK_BIN:-}
if [ -z "$bin" ]; then
  for candidate in target/release/newsdesk target/debug/newsdesk; do
    if [ -x "$candidate" ] && { [ -z "$bin" ] || [ "$candidate" -nt "$bin" ]; }; then bin=$candidate; fi
  done
fi
if [ -z "$bin" ]; then
  echo "no newsdesk binary: cargo build"
  cargo build --quiet
  bin=target/debug/newsdesk
fi
echo "binary: $bin"
api_port=$(free_port)
metrics_port=$(free_port)
api="http://127.0.0.1:$api_port"
NEWSDESK_DATABASE_URL="sqlite://$work/newsdesk.db" \
  NEWSDESK_BIND="127.0.0.1:$api_port" \
  NEWSDESK_METRICS_BIND="127.0.0.1:$metrics_port" \
  NEWSDESK_LOG=warn \
  "$bin" serve --demo >"$work/server.log" 2>&1 &
server_pid=$!
if ! wait_http "$api/readyz" "$server_pid" 60; then
  echo "newsdesk did not become ready on $api" >&2
  exit 1
fi
email=$(sed -n 's/^ *email: *//p' "$work/server.log" | head -n1)
password=$(sed -n 's/^ *password: *//p' "$work/server.log" | head -n1)
if [ -z "$email" ] || [ -z "$password" ]; then
  echo "could not read the demo editor's email and password from the server's output" >&2
  exit 1
fi
echo "newsdesk on $api (demo editor $email)"
export NEWSDESK_URL=$api NEWSDESK_EMAIL=$email NEWSDESK_PASSWORD=$password

run_node_tests "$CLIENT" client

run_node_tests "$PAGE" news-page

echo "== news page over HTTP"
page_port=$(free_port)
(cd "$PAGE" && PORT=$page_port HOST=127.0.0.1 NEWSDESK_URL=$api exec node dist/src/server.js) >"$work/page.log" 2>&1 &
page_pid=$!
if ! wait_http "http://127.0.0.1:$page_port/" "$page_pid" 30; then
  echo "the news page did not start" >&2
  cat "$work/page.log" >&2
  exit 1
fi
# Each check prints "ok - ..." or "not ok - ..."; the lead article is the
# newest published one of the demo.
checks=$(PAGE_URL="http://127.0.0.1:$page_port" node --input-type=module -e '
const api = process.env.NEWSDESK_URL, page = process.env.PAGE_URL;
const esc = (s) => String(s).replace(/[&<>"\x27]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "\x27": "&#39;" })[c]);
const check = (ok, what) => console.log(`${ok ? "ok" : "not ok"} - ${what}`);
try {
  const lead = (await (await fetch(`${api}/api/v1/articles?per_page=1`)).json()).data[0];
  const article = await (await fetch(`${api}/api/v1/articles/slug/${lead.slug}`)).json();
  const res = await fetch(`${page}/articles/${lead.slug}`);
  const html = await res.text();
  check(res.status === 200, `GET /articles/${lead.slug} is 200 (got ${res.status})`);
  check(html.includes(`<h1>${esc(article.title)}</h1>`), "headline");
  check(!article.subtitle || html.includes(esc(article.subtitle)), "subtitle");
  check(html.includes(`By <a rel="author" href="/authors/${article.author.slug}">${esc(article.author.name)}</a>`), "byline with author link");
  check(article.tags.length > 0 && article.tags.every((t) => html.includes(`href="/tags/${t.slug}">${esc(t.name)}</a>`)), "tags");
  check(/[0-9][0-9,]* Views?</.test(html), "views text");
  check(/<time datetime="[^"]+">[A-Z][a-z]+ [0-9]{1,2}, [0-9]{4}<\/time>/.test(html), "date");
  check(html.includes("id=\"most-viewed\"") && html.includes("id=\"most-commented\""), "Most Viewed and Most Commented boxes");
  const scripts = html.match(/<script\b[^>]*>/gi) ?? [];
  const nonce = /\x27nonce-([^\x27]+)\x27/.exec(res.headers.get("content-security-policy") ?? "")?.[1];
  check(scripts.length === 1 && nonce && scripts[0].includes(`nonce="${nonce}"`) && scripts[0].includes(`/api/v1/articles/${article.id}/views`), "one script only: the view beacon, with the CSP nonce");
  check(!/<script>|javascript:|\son[a-z]+=/i.test(html), "no unescaped script, javascript: URL or event handler");
  const tag = await fetch(`${page}/tags/${article.tags[0].slug}`);
  check(tag.status === 200 && (await tag.text()).includes(esc(article.title)), "tag page lists the article");
} catch (e) {
  check(false, `page check crashed: ${e}`);
}
')
echo "$checks"
p=$(grep -c '^ok - ' <<<"$checks" || true)
f=$(grep -c '^not ok - ' <<<"$checks" || true)
passed=$((passed + p))
failed=$((failed + f))

finished=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
