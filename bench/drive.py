#!/usr/bin/env python3
"""Drives newsdesk with oha the way a news site's traffic arrives, and reports.

Called by bench/run.sh after it has seeded the database. It starts the
framework ceiling (bench/ceiling.rs) and newsdesk itself, once with the read
cache on and once with it off, builds URL lists from the seeded data (every
slug shuffled, Zipf-weighted slugs, random page numbers, random tags, random
two-word searches from the seed's words, every popular box) and measures each
with oha (`--urls-from-file` picks a random line per request). Every figure
is also given as a ratio to the ceiling measured in the same run. Prints a
Markdown table and writes the results as JSON.
"""
import argparse
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=60) as res:
        raw = res.read()
        return json.loads(raw) if raw else None


class Server:
    """A server process on a free port, stopped with SIGTERM."""

    def __init__(self, argv, env, log):
        self.port = free_port()
        env = dict(env, NEWSDESK_BIND=f"127.0.0.1:{self.port}")
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"server {argv[0]} did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def oha(urls, seconds, connections, method="GET", headers=(), body=None):
    """Runs oha against one URL or a list of URLs (a random one per request)."""
    cmd = ["oha", "-z", f"{seconds}s", "-c", str(connections), "--no-tui",
           "--output-format", "json", "-m", method]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["-T", "application/json", "-d", body]
    tmp = None
    if isinstance(urls, str):
        cmd.append(urls)
    else:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        tmp.write("\n".join(urls) + "\n")
        tmp.close()
        cmd += ["--urls-from-file", tmp.name]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    finally:
        if tmp:
            os.unlink(tmp.name)
    return json.loads(out)


def measure(urls, a, method="GET", headers=(), body=None):
    oha(urls, a.warmup, a.connections, method, headers, body)
    r = oha(urls, a.duration, a.connections, method, headers, body)
    codes = {int(k): v for k, v in (r.get("statusCodeDistribution") or {}).items()}
    ok = sum(v for k, v in codes.items() if 200 <= k < 300)
    bad = sum(v for k, v in codes.items() if not 200 <= k < 300)
    errors = bad + sum(v for k, v in (r.get("errorDistribution") or {}).items()
                       if "aborted due to deadline" not in k)
    lat = r["latencyPercentiles"]
    total = r["summary"]["total"] or 1
    return {"rps": round(ok / total, 1), "p50_ms": round((lat["p50"] or 0) * 1000, 2),
            "p99_ms": round((lat["p99"] or 0) * 1000, 2), "errors": errors,
            "status_codes": codes}


def zipf_sample(items, n, s=1.0, rng=random):
    weights = [1.0 / (i + 1) ** s for i in range(len(items))]
    return rng.choices(items, weights=weights, k=n)


def rss_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--ceiling", required=True)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--backend", default="sqlite")
    p.add_argument("--articles", type=int, default=10000)
    p.add_argument("--seed-seconds", type=float, default=0)
    p.add_argument("--label", default="")
    p.add_argument("--log", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--instances", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(42)
    log = open(a.log, "ab")
    env = dict(os.environ)

    # The ceiling first, alone on the machine like every other figure.
    ceiling = Server([a.ceiling, "127.0.0.1:{port}"], env, log)
    ceil = measure(ceiling.base + "/", a)
    ceiling.stop()
    print(f"  ceiling: {ceil['rps']:.0f} req/s", file=sys.stderr)

    results = []

    def record(name, mode, r):
        r.update(endpoint=name, cache=mode, ratio=round(r["rps"] / (ceil["rps"] or 1), 4))
        results.append(r)
        print(f"  {name} (cache {mode}): {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms",
              file=sys.stderr)

    server = Server([a.bin, "serve"], dict(env, NEWSDESK_READ_CACHE_MS="0"), log)
    base = server.base
    # URL lists from the seeded data, read through the API itself.
    slugs, ids, cursor = [], [], None
    while True:
        page = call(base, "GET", "/api/v1/articles?per_page=100&sort=-published_at"
                    + (f"&after={cursor}" if cursor else ""))
        slugs += [x["slug"] for x in page["data"]]
        ids += [x["id"] for x in page["data"]]
        titles = [x["title"] for x in page["data"]]
        cursor = page["meta"]["next_cursor"]
        if not cursor:
            break
    words = sorted({w.strip(".,:;!?\"'()").lower() for t in titles for w in t.split()
                    if len(w.strip(".,:;!?\"'()")) > 3})
    tags, cursor = [], None
    while True:
        page = call(base, "GET", "/api/v1/tags?per_page=100" + (f"&after={cursor}" if cursor else ""))
        tags += [t["slug"] for t in page["data"]]
        cursor = page["meta"]["next_cursor"]
        if not cursor:
            break
    last_page = max(1, (len(ids) + 19) // 20)
    depth = min(400, last_page)
    deep_cursor = None
    for _ in range(depth - 1):
        path = "/api/v1/articles?per_page=20" + (f"&after={deep_cursor}" if deep_cursor else "")
        deep_cursor = call(base, "GET", path)["meta"]["next_cursor"]
    login = call(base, "POST", "/api/v1/auth/login",
                 {"email": "bench@example.com", "password": "bench-password-123"})
    token = login["access_token"]

    v1 = "/api/v1/articles"
    shuffled = slugs[:]
    rng.shuffle(shuffled)
    hot_order = slugs[:]
    rng.shuffle(hot_order)
    reads = [
        ("one hot article by slug", f"{v1}/slug/{slugs[0]}"),
        ("every article by slug, shuffled", [f"{v1}/slug/{s}" for s in shuffled]),
        ("Zipf article by slug", [f"{v1}/slug/{s}" for s in zipf_sample(hot_order, 50000, rng=rng)]),
        ("list page 1", v1),
        (f"random page number (1..{last_page})", [f"{v1}?page={n}" for n in range(1, last_page + 1)]),
        (f"page {depth} by offset", f"{v1}?page={depth}"),
        (f"page {depth} by cursor", f"{v1}?after={deep_cursor}" if deep_cursor else v1),
        ("random tag", [f"{v1}?tag={t}" for t in tags]),
        ("random two-word search", [f"{v1}?q={rng.choice(words)}+{rng.choice(words)}" for _ in range(5000)]),
        ("popular (every metric × period)", [f"{v1}/popular?metric={m}&period={p}"
                                             for m in ("views", "comments")
                                             for p in ("day", "week", "month", "all")]),
    ]
    auth = f"Authorization: Bearer {token}"
    comment = json.dumps({"body": "A benchmark comment on this story."})
    writes = [
        ("view beacon, many articles", [f"{v1}/{i}/views" for i in ids[:5000]], "POST", [], None),
        ("comment POST, one article", f"{v1}/{ids[0]}/comments", "POST", [auth], comment),
        ("comment POST, many articles", [f"{v1}/{i}/comments" for i in ids[:5000]], "POST", [auth], comment),
    ]

    def with_base(u, b):
        return b + u if isinstance(u, str) else [b + x for x in u]

    if a.instances > 1:
        server.stop()
        return compare_instances(a, env, log, ceil, reads, writes, rng)

    for name, urls in reads:
        record(name, "off", measure(with_base(urls, base), a))
    for name, urls, method, headers, body in writes:
        record(name, "-", measure(with_base(urls, base), a, method, headers, body))
    # What the safety measures cost (issue 10), cache off: the same reads
    # signed in (each request checks the account's current state), and the
    # same writes with the rate limiters on (a quota no client reaches).
    secured = [
        ("every article by slug, shuffled, signed in", reads[1][1], "GET", [auth], None),
        ("list page 1, signed in", reads[3][1], "GET", [auth], None),
    ]
    for name, urls, method, headers, body in secured[:2]:
        record(name, "off", measure(with_base(urls, base), a, method, headers, body))
    peak_off = rss_kb(server.proc.pid, "VmHWM")
    anon_off = rss_kb(server.proc.pid, "RssAnon")
    server.stop()

    limited = dict(env, NEWSDESK_READ_CACHE_MS="0", NEWSDESK_RATE_VIEWS="100000000/1m",
                   NEWSDESK_RATE_COMMENTS="100000000/1m")
    server = Server([a.bin, "serve"], limited, log)
    for name, urls, method, headers, body in writes[0::2]:
        name = f"{name}, rate limit on"
        secured.append((name, urls, method, headers, body))
        record(name, "off", measure(with_base(urls, server.base), a, method, headers, body))
    server.stop()

    server = Server([a.bin, "serve"], env, log)
    for name, urls in reads:
        record(name, "on", measure(with_base(urls, server.base), a))
    peak_on = rss_kb(server.proc.pid, "VmHWM")
    anon_on = rss_kb(server.proc.pid, "RssAnon")
    server.stop()

    peak = max(x for x in (peak_off, peak_on, 0) if x is not None)
    anon = max(x for x in (anon_off, anon_on, 0) if x is not None)
    report = {
        "label": a.label, "backend": a.backend, "articles": a.articles,
        "seed_seconds": a.seed_seconds, "connections": a.connections,
        "duration_s": a.duration, "cpus": os.cpu_count(), "machine": platform.platform(),
        "ceiling_rps": ceil["rps"], "peak_rss_mb": round(peak / 1024, 1),
        "private_rss_mb": round(anon / 1024, 1),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
    }
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)

    print(f"\n### {a.backend}, {a.articles} articles, {a.connections} connections, "
          f"{a.duration} s per figure {a.label}\n")
    print(f"Ceiling (bench/ceiling.rs, 2 KB JSON): {ceil['rps']:.0f} requests/s.\n")
    print("| read or write | cache on | cache off | × ceiling (off) | p99 ms (off) | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    by = {(r["endpoint"], r["cache"]): r for r in results}
    for name, _ in reads:
        on, off = by[(name, "on")], by[(name, "off")]
        print(f"| {name} | {on['rps']:.0f} ({on['ratio']:.3f}×) | {off['rps']:.0f} | "
              f"{off['ratio']:.4f}× | {off['p99_ms']:.1f} | {on['errors'] + off['errors']} |")
    for name, *_ in writes:
        w = by[(name, "-")]
        print(f"| {name} | – | {w['rps']:.0f} | {w['ratio']:.4f}× | {w['p99_ms']:.1f} | {w['errors']} |")
    print("\nWhat the safety measures cost (cache off; issue 10):\n")
    print("| request | without | with | ratio |")
    print("|---|---:|---:|---:|")
    plain = {"every article by slug, shuffled, signed in": "every article by slug, shuffled",
             "list page 1, signed in": "list page 1"}
    for name, *_ in secured:
        base_name = plain.get(name, name.replace(", rate limit on", ""))
        w, wo = by[(name, "off")], by.get((base_name, "off")) or by[(base_name, "-")]
        print(f"| {name} | {wo['rps']:.0f} | {w['rps']:.0f} | {w['rps'] / (wo['rps'] or 1):.2f}× |")
    print(f"\nPeak RSS of the server: {report['peak_rss_mb']} MB (with the database "
          f"file's pages each SQLite connection maps; private memory at the end: "
          f"{report['private_rss_mb']} MB); seeding took {a.seed_seconds} s.")
    print(f"JSON: {a.out}")


def compare_instances(a, env, log, ceil, reads, writes, rng):
    """One instance against `a.instances` on the same database, cache off:
    every request goes to a random instance (what a round-robin balancer
    does), and the load generator shares the machine with all of them."""
    chosen = {"every article by slug, shuffled", "list page 1", "random tag",
              "comment POST, many articles", "view beacon, many articles"}
    cases = [(n, u, "GET", [], None) for n, u in reads if n in chosen]
    cases += [w for w in writes if w[0] in chosen]
    off = dict(env, NEWSDESK_READ_CACHE_MS="0")

    def spread(urls, bases):
        urls = [urls] * 500 if isinstance(urls, str) else urls
        return [rng.choice(bases) + u for u in urls]

    rows = {}
    for count in (1, a.instances):
        servers = [Server([a.bin, "serve"], off, log) for _ in range(count)]
        bases = [s.base for s in servers]
        for name, urls, method, headers, body in cases:
            r = measure(spread(urls, bases), a, method, headers, body)
            rows[(name, count)] = r
            print(f"  {name} ({count} instance(s)): {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms",
                  file=sys.stderr)
        for server in servers:
            server.stop()
    report = {"backend": a.backend, "articles": a.articles, "instances": a.instances,
              "ceiling_rps": ceil["rps"], "cpus": os.cpu_count(),
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "results": [dict(r, endpoint=n, instances=c) for (n, c), r in rows.items()]}
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"\n### {a.backend}, {a.articles} articles, cache off: 1 instance against "
          f"{a.instances} ({os.cpu_count()} cores shared with the load generator)\n")
    print(f"| request | 1 instance | {a.instances} instances | ratio | p99 ms ({a.instances}) |")
    print("|---|---:|---:|---:|---:|")
    for name, *_ in cases:
        one, many = rows[(name, 1)], rows[(name, a.instances)]
        print(f"| {name} | {one['rps']:.0f} | {many['rps']:.0f} | "
              f"{many['rps'] / (one['rps'] or 1):.2f}× | {many['p99_ms']:.1f} |")
    print(f"\nJSON: {a.out}")


if __name__ == "__main__":
    main()
