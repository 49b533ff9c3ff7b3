#!/usr/bin/env python3
"""Drives a running newsdesk with oha, one endpoint at a time, and reports.

Called by bench/run.sh after it has seeded the database and started the
server; prints a Markdown table and writes the same results as JSON.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as res:
        raw = res.read()
        return json.loads(raw) if raw else None


def oha(url, seconds, connections, method="GET", headers=(), body=None):
    cmd = ["oha", "-z", f"{seconds}s", "-c", str(connections), "--no-tui",
           "--output-format", "json", "-m", method]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["-T", "application/json", "-d", body]
    cmd.append(url)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


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
    p.add_argument("--base", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--backend", default="sqlite")
    p.add_argument("--articles", type=int, default=10000)
    p.add_argument("--seed-seconds", type=float, default=0)
    p.add_argument("--label", default="")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    base = a.base

    login = call(base, "POST", "/api/v1/auth/login",
                 {"email": "bench@example.com", "password": "bench-password-123"})
    token = login["access_token"]

    page1 = call(base, "GET", "/api/v1/articles?per_page=20")
    first = page1["data"][0]
    slug, article_id = first["slug"], first["id"]
    tags = call(base, "GET", "/api/v1/tags?sort=-article_count&per_page=1")
    tag = tags["data"][0]["slug"]
    word = first["title"].split()[0].strip(".,:;!?\"'").lower() or "news"

    # The same depth as page 400, reached by walking the keyset cursor.
    depth = min(400, max(1, page1["meta"]["total_pages"]))
    cursor = None
    for _ in range(depth - 1):
        path = "/api/v1/articles?per_page=20" + (f"&after={cursor}" if cursor else "")
        cursor = call(base, "GET", path)["meta"]["next_cursor"]
        if cursor is None:
            break

    auth = f"Authorization: Bearer {token}"
    endpoints = [
        ("GET /healthz", "GET", "/healthz", [], None),
        ("article by slug", "GET", f"/api/v1/articles/slug/{slug}", [], None),
        ("list page 1", "GET", "/api/v1/articles", [], None),
        (f"list page {depth} (page)", "GET", f"/api/v1/articles?page={depth}", [], None),
        (f"list page {depth} (cursor)", "GET", f"/api/v1/articles?after={cursor}" if cursor else "/api/v1/articles", [], None),
        ("list by tag", "GET", f"/api/v1/articles?tag={tag}", [], None),
        ("search q", "GET", f"/api/v1/articles?q={word}", [], None),
        ("popular by views", "GET", "/api/v1/articles/popular?metric=views&period=week", [], None),
        ("POST view beacon", "POST", f"/api/v1/articles/{article_id}/views", [], None),
        ("POST comment (auth)", "POST", f"/api/v1/articles/{article_id}/comments", [auth],
         json.dumps({"body": "A benchmark comment on this story."})),
    ]

    results = []
    for name, method, path, headers, body in endpoints:
        oha(base + path, a.warmup, a.connections, method, headers, body)
        r = oha(base + path, a.duration, a.connections, method, headers, body)
        codes = {int(k): v for k, v in (r.get("statusCodeDistribution") or {}).items()}
        ok = sum(v for k, v in codes.items() if 200 <= k < 300)
        bad = sum(v for k, v in codes.items() if not 200 <= k < 300)
        errors = bad + sum(v for k, v in (r.get("errorDistribution") or {}).items()
                           if "aborted due to deadline" not in k)
        lat = r["latencyPercentiles"]
        results.append({
            "endpoint": name, "method": method, "path": path,
            "requests_per_sec": round(ok / r["summary"]["total"], 1) if r["summary"]["total"] else 0,
            "p50_ms": round((lat["p50"] or 0) * 1000, 3),
            "p99_ms": round((lat["p99"] or 0) * 1000, 3),
            "errors": errors, "status_codes": codes,
        })
        print(f"  {name}: {results[-1]['requests_per_sec']:.0f} req/s", file=sys.stderr)

    ceiling = results[0]["requests_per_sec"] or 1
    for r in results:
        r["ratio_to_healthz"] = round(r["requests_per_sec"] / ceiling, 3)
    peak = rss_kb(a.pid, "VmHWM")
    report = {
        "label": a.label, "backend": a.backend, "articles": a.articles,
        "seed_seconds": a.seed_seconds, "connections": a.connections,
        "duration_s": a.duration, "cpus": os.cpu_count(), "machine": platform.platform(),
        "peak_rss_mb": round(peak / 1024, 1) if peak else None,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)

    print(f"\n### {a.backend}, {a.articles} articles, {a.connections} connections, "
          f"{a.duration} s per endpoint {a.label}\n")
    print("| endpoint | requests/s | p50 ms | p99 ms | errors | × /healthz |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['endpoint']} | {r['requests_per_sec']:.0f} | {r['p50_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {r['errors']} | {r['ratio_to_healthz']:.2f} |")
    print(f"\nPeak RSS of the server: {report['peak_rss_mb']} MB; seeding took {a.seed_seconds} s.")
    print(f"JSON: {a.out}")


if __name__ == "__main__":
    main()
