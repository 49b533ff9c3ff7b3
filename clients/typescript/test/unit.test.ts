// Unit tests with a fake fetch: no server needed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createNewsdeskClient, parseLinkHeader, ProblemError } from "../src/index.js";

test("parseLinkHeader reads every relation", () => {
  const links = parseLinkHeader('</a?page=1>; rel="first", </a?after=x>; rel="next", </a?page=3>; rel="last"');
  assert.deepEqual(links, { first: "/a?page=1", next: "/a?after=x", last: "/a?page=3" });
  assert.deepEqual(parseLinkHeader(null), {});
});

test("a non-problem error body still becomes a ProblemError", async () => {
  const client = createNewsdeskClient({
    baseUrl: "http://api.test",
    fetch: async () => new Response("upstream down", { status: 502, statusText: "Bad Gateway" }),
  });
  await assert.rejects(client.getTag("x"), (e: unknown) => {
    assert.ok(e instanceof ProblemError);
    assert.equal(e.status, 502);
    assert.equal(e.detail, "upstream down");
    return true;
  });
});

test("Retry-After is exposed on 429", async () => {
  const client = createNewsdeskClient({
    baseUrl: "http://api.test",
    fetch: async () =>
      new Response(JSON.stringify({ type: "https://newsdesk.dev/problems/rate-limited", title: "Too Many Requests", status: 429, detail: "slow down" }), {
        status: 429,
        headers: { "content-type": "application/problem+json", "retry-after": "7" },
      }),
  });
  await assert.rejects(client.me(), (e: unknown) => e instanceof ProblemError && e.status === 429 && e.retryAfter === 7);
});

test("a 401 after signing out does not try to refresh", async () => {
  let calls = 0;
  const client = createNewsdeskClient({
    baseUrl: "http://api.test",
    fetch: async () => {
      calls++;
      return new Response(JSON.stringify({ type: "t", title: "Unauthorized", status: 401, detail: "no token" }), {
        status: 401,
        headers: { "content-type": "application/problem+json" },
      });
    },
  });
  await assert.rejects(client.me(), (e: unknown) => e instanceof ProblemError && e.status === 401);
  assert.equal(calls, 1);
});
