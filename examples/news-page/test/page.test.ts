// Renders the news page against a LIVE newsdesk (the demo newsroom). Needs
// NEWSDESK_URL, and NEWSDESK_EMAIL / NEWSDESK_PASSWORD of an editor for the
// tests that create (and delete again) a hostile article.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createNewsdeskClient, isProblemError } from "@newsdesk/client";
import { createNewsPage } from "../src/server.js";
import { escapeHtml, formatDate } from "../src/html.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}: these tests need a live newsdesk (see test/page.test.ts)`);
  return value;
}

const apiUrl = env("NEWSDESK_URL");
const editor = createNewsdeskClient({ baseUrl: apiUrl });
const anon = createNewsdeskClient({ baseUrl: apiUrl });
let server: Server;
let base: string;
const created: number[] = [];

async function get(path: string): Promise<{ status: number; html: string; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { redirect: "manual" });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** Every <script> element of a page, with its attributes. */
function scripts(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0]);
}

before(async () => {
  await editor.login(env("NEWSDESK_EMAIL"), env("NEWSDESK_PASSWORD"));
  const handle = createNewsPage({ apiUrl });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const id of created) {
    try {
      await editor.deleteArticle(id);
    } catch (e) {
      if (!isProblemError(e, 404)) throw e;
    }
  }
  await editor.api.DELETE("/api/v1/tags/{slug}", { params: { path: { slug: "news-page-test" } } });
  await editor.logout();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("article page", () => {
  test("the demo's lead article: headline, subtitle, byline, date, views, body, tags, boxes, beacon", async () => {
    const lead = (await anon.list("/api/v1/articles", { query: { per_page: 1 } })).data[0];
    assert.ok(lead, "the demo newsroom has a published article");
    const article = await anon.getArticleBySlug(lead.slug);

    const page = await get(`/articles/${article.slug}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/);
    const html = page.html;

    assert.ok(html.includes(`<h1>${escapeHtml(article.title)}</h1>`), "headline");
    assert.ok(html.includes(`<title>${escapeHtml(article.title)}</title>`), "title");
    if (article.subtitle) assert.ok(html.includes(`<p class="subtitle">${escapeHtml(article.subtitle)}</p>`), "subtitle");
    assert.ok(html.includes(`By <a rel="author" href="/authors/${article.author.slug}">${escapeHtml(article.author.name)}</a>`), "byline with author link");
    assert.ok(article.published_at);
    assert.ok(html.includes(`<time datetime="${article.published_at}">${formatDate(article.published_at)}</time>`), "date");
    assert.match(html, /<span class="views">[\d,]+ Views?<\/span>/, "N Views");
    assert.ok(html.includes(`<div class="body">${article.body_html}</div>`), "the API's sanitised body");
    assert.ok(article.tags.length > 0);
    for (const tag of article.tags) assert.ok(html.includes(`<a rel="tag" href="/tags/${tag.slug}">${escapeHtml(tag.name)}</a>`), `tag ${tag.slug}`);

    for (const id of ["most-viewed", "most-commented"]) {
      const box = new RegExp(`<section class="box" id="${id}"><h2>[^<]+</h2><ol>(.*?)</ol></section>`, "s").exec(html);
      assert.ok(box?.[1], `${id} box`);
      assert.ok((box[1].match(/<li>/g) ?? []).length >= 1, `${id} has items`);
    }

    // Exactly one script: the beacon, carrying this response's CSP nonce.
    const tags = scripts(html);
    assert.equal(tags.length, 1, tags.join("\n"));
    const nonce = /'nonce-([^']+)'/.exec(page.headers.get("content-security-policy") ?? "")?.[1];
    assert.ok(nonce);
    assert.ok(tags[0]!.includes(`nonce="${nonce}"`));
    assert.ok(tags[0]!.includes(`data-beacon="${apiUrl}/api/v1/articles/${article.id}/views"`));
  });

  test("the beacon URL answers 202 to a browser-style POST from another origin", async () => {
    const lead = (await anon.list("/api/v1/articles", { query: { per_page: 1 } })).data[0]!;
    const res = await fetch(`${apiUrl}/api/v1/articles/${lead.id}/views`, { method: "POST", headers: { origin: base } });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });

  test("hostile text from the API is escaped and no script gets through", async () => {
    const article = await editor.createArticle({
      title: `<script>alert("title")</script> Tom & "Jerry"`,
      subtitle: `<img src=x onerror=alert(1)>`,
      body: `<p>fine</p><script>alert("body")</script><a href="javascript:alert(2)" onclick="alert(3)">link</a>`,
      body_format: "html",
      status: "published",
      tags: ["news-page-test"],
    });
    created.push(article.id);
    const { status, html } = await get(`/articles/${article.slug}`);
    assert.equal(status, 200);
    assert.ok(html.includes(`<h1>&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; Tom &amp; &quot;Jerry&quot;</h1>`));
    assert.ok(html.includes(`&lt;img src=x onerror=alert(1)&gt;`));
    assert.equal(scripts(html).length, 1, "only the beacon");
    assert.doesNotMatch(html, /<script>alert|onerror=alert\(1\)>|javascript:alert|onclick=/i);

    // The home page lists it (newest first), escaped there too.
    const home = await get("/");
    assert.equal(home.status, 200);
    assert.ok(home.html.includes(escapeHtml(article.title)));
    assert.equal(scripts(home.html).length, 0);
  });

  test("an old slug redirects to the current one; an unknown slug is a 404 page", async () => {
    const article = await editor.createArticle({ title: "News page slug test", body: "x", status: "published" });
    created.push(article.id);
    await editor.getArticle(article.id);
    const moved = await editor.updateArticle(article.id, { slug: `${article.slug}-moved` });
    const old = await get(`/articles/${article.slug}`);
    assert.equal(old.status, 301);
    assert.equal(old.headers.get("location"), `/articles/${moved.slug}`);

    const missing = await get(`/articles/no-such-story-<b>`);
    assert.equal(missing.status, 404);
    assert.ok(missing.html.includes("Page not found"));
    assert.doesNotMatch(missing.html, /<b>/);
  });
});

describe("tag and author pages", () => {
  test("a tag page lists that tag's articles", async () => {
    const tag = (await anon.list("/api/v1/tags", { query: { sort: "-article_count", per_page: 1 } })).data[0];
    assert.ok(tag);
    const expected = await anon.list("/api/v1/articles", { query: { tag: [tag.slug], per_page: 10 } });
    const { status, html } = await get(`/tags/${tag.slug}`);
    assert.equal(status, 200);
    assert.ok(html.includes(`<h1>${escapeHtml(tag.name)}</h1>`));
    for (const a of expected.data) assert.ok(html.includes(`<a href="/articles/${a.slug}">${escapeHtml(a.title)}</a>`), a.slug);
    assert.equal((html.match(/<div class="list">/g) ?? []).length, 1);
  });

  test("an author page lists the author's articles", async () => {
    const author = (await anon.list("/api/v1/authors", { query: { per_page: 1 } })).data[0];
    assert.ok(author);
    const { status, html } = await get(`/authors/${author.slug}`);
    assert.equal(status, 200);
    assert.ok(html.includes(`<h1>${escapeHtml(author.name)}</h1>`));
    assert.match(html, /<div class="list"><article>/);
  });

  test("a malformed address is a 400 page, other methods a 405", async () => {
    assert.equal((await get("/tags/%ZZ")).status, 400);
    assert.equal((await fetch(`${base}/`, { method: "POST" })).status, 405);
  });
});

test("escapeHtml escapes the five characters", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});
