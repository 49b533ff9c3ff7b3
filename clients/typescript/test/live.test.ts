// Runs the client against a LIVE newsdesk. Needs:
//   NEWSDESK_URL       e.g. http://127.0.0.1:8080
//   NEWSDESK_EMAIL     an editor's email (the demo editor's, printed by `serve --demo`)
//   NEWSDESK_PASSWORD  that editor's password
// Everything it creates it deletes again.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createNewsdeskClient, isProblemError, NewsdeskClient, ProblemError, type Session } from "../src/index.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (see the header of test/live.test.ts): these tests need a live newsdesk`);
  return value;
}

const baseUrl = env("NEWSDESK_URL");
const email = env("NEWSDESK_EMAIL");
const password = env("NEWSDESK_PASSWORD");
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const tag = `ts-client-${run}`;

/** A client whose fetch counts calls per path. */
function counted(): { client: NewsdeskClient; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const client = createNewsdeskClient({
    baseUrl,
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      calls.set(path, (calls.get(path) ?? 0) + 1);
      return fetch(request);
    },
  });
  return { client, calls };
}

async function expectProblem(promise: Promise<unknown>, status: number): Promise<ProblemError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isProblemError(e), `expected a ProblemError, got ${String(e)}`);
    assert.equal(e.status, status, e.message);
    return e;
  }
  assert.fail(`expected a ${status} problem, got success`);
}

const editor = createNewsdeskClient({ baseUrl });
const created: number[] = [];

before(async () => {
  await editor.login(email, password);
});

after(async () => {
  for (const id of created) {
    try {
      await editor.deleteArticle(id);
    } catch (e) {
      if (!isProblemError(e, 404)) throw e;
    }
  }
  await editor.api.DELETE("/api/v1/tags/{slug}", { params: { path: { slug: tag } } });
  await editor.logout();
});

describe("sign-in", () => {
  test("a wrong password is a 401 ProblemError with problem+json fields", async () => {
    const anon = createNewsdeskClient({ baseUrl });
    const err = await expectProblem(anon.login(email, `${password}-wrong`), 401);
    assert.equal(err.response?.headers.get("content-type")?.split(";")[0], "application/problem+json");
    assert.equal(err.problem.status, 401);
    assert.ok(err.title.length > 0);
    assert.equal(anon.session, null);
  });

  test("login keeps a session and me() answers the editor", async () => {
    const sessions: (Session | null)[] = [];
    const client = createNewsdeskClient({ baseUrl, onSession: (s) => sessions.push(s) });
    const user = await client.login(email, password);
    assert.equal(user.email, email);
    assert.equal(user.role, "editor");
    assert.equal(sessions.length, 1);
    assert.ok(client.session?.accessToken);
    const me = await client.me();
    assert.equal(me.id, user.id);
    await client.logout();
    assert.equal(client.session, null);
    assert.equal(sessions.at(-1), null);
  });

  test("a call that needs a token without one is a 401 ProblemError", async () => {
    const anon = createNewsdeskClient({ baseUrl });
    const err = await expectProblem(anon.me(), 401);
    assert.match(err.response?.headers.get("www-authenticate") ?? "", /^Bearer/);
  });
});

describe("articles", () => {
  test("create, then read by id and by slug", async () => {
    const article = await editor.createArticle({
      title: `Client test ${run} create`,
      body: "**Hello** from the TypeScript client",
      tags: [tag],
      status: "published",
    });
    created.push(article.id);
    assert.equal(article.status, "published");
    assert.equal(article.version, 1);
    assert.deepEqual(
      article.tags.map((t) => t.slug),
      [tag],
    );
    assert.match(article.body_html ?? "", /<strong>Hello<\/strong>/);

    const byId = await editor.getArticle(article.id);
    assert.equal(byId.title, article.title);
    assert.equal(editor.etagFor(`/api/v1/articles/${article.id}`), `"a${article.id}-v1"`);

    const anon = createNewsdeskClient({ baseUrl });
    const bySlug = await anon.getArticleBySlug(article.slug);
    assert.equal(bySlug.id, article.id);
    assert.equal(anon.etagFor(`/api/v1/articles/slug/${article.slug}`), undefined, "anonymous ETags are not remembered");
  });

  test("invalid input is a 422 ProblemError naming the field", async () => {
    const err = await expectProblem(editor.createArticle({ title: "", body: "x" }), 422);
    assert.ok(err.errors.length > 0);
    assert.ok(err.fieldError("title"), JSON.stringify(err.problem));
  });

  test("an unknown article is a 404 ProblemError", async () => {
    await expectProblem(editor.getArticle(987654321), 404);
  });

  test("list with filters: envelope, X-Total-Count and Link", async () => {
    const page = await editor.list("/api/v1/articles", { query: { tag: [tag], per_page: 100 } });
    assert.ok(page.data.length >= 1);
    assert.ok(page.data.every((a) => a.tags.some((t) => t.slug === tag)));
    assert.equal(page.meta.total, page.data.length);
    assert.equal(page.totalCount, page.meta.total);
    assert.ok(page.links.first);
  });

  test("paginate by cursor: every item once, in the order of numbered pages", async () => {
    const pageTag = `${tag}-pages`;
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await editor.createArticle({
        title: `Client test ${run} page ${i}`,
        body: `page item ${i}`,
        tags: [pageTag],
        status: "published",
        published_at: new Date(Date.UTC(2024, 0, 1 + i)).toISOString().replace(/\.\d+Z$/, "Z"),
      });
      created.push(a.id);
      ids.push(a.id);
    }
    try {
      const query = { tag: [pageTag], per_page: 2, sort: "-published_at" };
      const pages = [];
      for await (const page of editor.pages("/api/v1/articles", { query })) pages.push(page);
      assert.equal(pages.length, 3);
      assert.deepEqual(
        pages.map((p) => p.data.length),
        [2, 2, 1],
      );
      assert.equal(pages.at(-1)?.meta.next_cursor ?? null, null);

      const iterated: number[] = [];
      for await (const a of editor.iterate("/api/v1/articles", { query })) iterated.push(a.id);
      assert.deepEqual(iterated, [...ids].reverse(), "newest first, each once");

      const numbered: number[] = [];
      for (let page = 1; page <= 3; page++) {
        numbered.push(...(await editor.list("/api/v1/articles", { query: { ...query, page } })).data.map((a) => a.id));
      }
      assert.deepEqual(iterated, numbered);
    } finally {
      await editor.api.DELETE("/api/v1/tags/{slug}", { params: { path: { slug: pageTag } } });
    }
  });

  test("edit with If-Match from the last GET, then from the last PATCH", async () => {
    const article = await editor.createArticle({ title: `Client test ${run} edit`, body: "v1", tags: [tag] });
    created.push(article.id);
    await editor.getArticle(article.id);
    const v2 = await editor.updateArticle(article.id, { subtitle: "second" });
    assert.equal(v2.version, 2);
    assert.equal(v2.subtitle, "second");
    assert.equal(editor.etagFor(`/api/v1/articles/${article.id}`), `"a${article.id}-v2"`, "the PATCH's ETag is remembered");
    const v3 = await editor.updateArticle(article.id, { body: "v3" });
    assert.equal(v3.version, 3);
  });

  test("a stale edit is a 412 ProblemError; a fresh GET makes it work", async () => {
    const other = createNewsdeskClient({ baseUrl });
    await other.login(email, password);
    try {
      const article = await editor.createArticle({ title: `Client test ${run} conflict`, body: "base", tags: [tag] });
      created.push(article.id);
      await editor.getArticle(article.id);
      await other.getArticle(article.id);

      await other.updateArticle(article.id, { subtitle: "theirs" });
      const err = await expectProblem(editor.updateArticle(article.id, { subtitle: "mine" }), 412);
      assert.equal(err.problem.status, 412);
      assert.equal((await editor.getArticle(article.id)).subtitle, "theirs", "the stale edit changed nothing");

      const mine = await editor.updateArticle(article.id, { subtitle: "mine" });
      assert.equal(mine.subtitle, "mine");
      assert.equal(mine.version, 3);
      // An explicit If-Match wins over the remembered one.
      await expectProblem(editor.updateArticle(article.id, { subtitle: "x" }, { ifMatch: `"a${article.id}-v1"` }), 412);

      // DELETE sends the remembered ETag too: no deleting what changed since it was read.
      await other.getArticle(article.id);
      await other.updateArticle(article.id, { subtitle: "theirs again" });
      await expectProblem(editor.deleteArticle(article.id), 412);
      await editor.getArticle(article.id);
      await editor.deleteArticle(article.id);
      await expectProblem(editor.getArticle(article.id), 404);
    } finally {
      await other.logout();
    }
  });

  test("the view beacon answers and Most Viewed / Most Commented lists come back", async () => {
    const article = await editor.createArticle({ title: `Client test ${run} views`, body: "x", tags: [tag], status: "published" });
    created.push(article.id);
    await createNewsdeskClient({ baseUrl }).countView(article.id);
    const views = await editor.popular({ metric: "views", period: "all", limit: 5 });
    const comments = await editor.popular({ metric: "comments", period: "all", limit: 5 });
    assert.ok(views.length > 0 && views.length <= 5);
    assert.ok(comments.length > 0 && comments.length <= 5);
  });
});

describe("refresh", () => {
  test("a 401 refreshes once with rotation and retries the request", async () => {
    const { client, calls } = counted();
    await client.login(email, password);
    const first = client.session!;
    client.setSession({ ...first, accessToken: "not-a-valid-token" });
    const me = await client.me();
    assert.equal(me.email, email);
    assert.equal(calls.get("/api/v1/auth/refresh"), 1);
    assert.equal(calls.get("/api/v1/auth/me"), 2, "the original request and one retry");
    const second = client.session!;
    assert.notEqual(second.refreshToken, first.refreshToken, "rotated");
    assert.notEqual(second.accessToken, "not-a-valid-token");

    // The rotated-out refresh token no longer works.
    const raw = await fetch(`${baseUrl}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: first.refreshToken }),
    });
    assert.equal(raw.status, 401);
    await raw.body?.cancel();
  });

  test("many requests failing at once share one refresh", async () => {
    const { client, calls } = counted();
    await client.login(email, password);
    client.setSession({ ...client.session!, accessToken: "expired" });
    const results = await Promise.all(Array.from({ length: 6 }, () => client.me()));
    assert.ok(results.every((u) => u.email === email));
    assert.equal(calls.get("/api/v1/auth/refresh"), 1);
    await client.logout();
  });

  test("a refused refresh clears the session and surfaces the 401", async () => {
    const sessions: (Session | null)[] = [];
    const client = createNewsdeskClient({ baseUrl, onSession: (s) => sessions.push(s) });
    client.setSession({ accessToken: "bad", refreshToken: "also-bad" });
    await expectProblem(client.me(), 401);
    assert.equal(client.session, null);
    assert.equal(sessions.at(-1), null);
  });

  test("a write retried after refresh sends its body again", async () => {
    const { client, calls } = counted();
    await client.login(email, password);
    client.setSession({ ...client.session!, accessToken: "stale" });
    const article = await client.createArticle({ title: `Client test ${run} retried`, body: "body survives the retry", tags: [tag] });
    created.push(article.id);
    assert.equal(article.body, "body survives the retry");
    assert.equal(calls.get("/api/v1/articles"), 2);
    await client.logout();
  });
});
